"""Limits on log-in, token and sign-up attempts: per address and per account (webox.throttles)."""

from __future__ import annotations

import hashlib

from django.conf import settings

from webox import throttles
from webox.client_address import client_address


def _account(username) -> str:
    # Hashed: any text a client sends becomes a short, safe cache key, and no username is stored.
    return hashlib.sha256(str(username or "").strip().lower().encode("utf-8", "replace")).hexdigest()[:32]


def check_login(request, username) -> None:
    """One log-in or token attempt; raises ``webox.throttles.Throttled`` over either limit."""
    throttles.hit("login-ip", client_address(request), settings.WEBOX_LOGIN_RATE_IP)
    throttles.hit("login-account", _account(username), settings.WEBOX_LOGIN_RATE_ACCOUNT)


def check_register(request) -> None:
    throttles.hit("register-ip", client_address(request), settings.WEBOX_REGISTER_RATE_IP)
