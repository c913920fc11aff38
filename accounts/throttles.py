"""Limits on log-in, token and sign-up attempts (webox.throttles), and where the client address
comes from (webox.client_address).

Log-ins count **failures**, per address and per account, so logging in correctly again and again
never locks anyone out. Each attempt takes a place in its counters before the password is
checked and gives it back when the password was right (``LoginAttempt.succeeded``): attempts
running at the same time cannot all slip under a limit, and a full counter refuses without
checking the password at all.

An account's failures are counted apart for each address it has logged in from in the last
``KNOWN_ADDRESS_SECONDS``: someone guessing from elsewhere fills the account's shared counter
and is refused, while the owner, from an address already known, still logs in. The guesses any
attacker gets are bounded by ``WEBOX_LOGIN_RATE_ACCOUNT`` for the shared counter, plus as many
again per known address the attacker can send from (a network shared with the owner).
docs/security.md says what each client sees.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from webox import throttles
from webox.client_address import client_address

logger = logging.getLogger(__name__)

# How long an address stays known to an account after a successful log-in from it.
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600


def _account(username) -> str:
    # Hashed: any text a client sends becomes a short, safe cache key, and no username is stored.
    return hashlib.sha256(str(username or "").strip().lower().encode("utf-8", "replace")).hexdigest()[:32]


def _known_key(account: str, address: str) -> str:
    return f"login-known:{account}:{address}"


def _is_known(account: str, address: str) -> bool:
    try:
        return bool(cache.get(_known_key(account, address)))
    except Exception:
        logger.warning("known log-in addresses unreadable: the cache is unreachable", exc_info=True)
        return False


@dataclass(frozen=True)
class LoginAttempt:
    account: str
    address: str
    counted: tuple[str | None, ...]  # the counters' keys this attempt took a place in

    def succeeded(self) -> None:
        """The password was right: give the places back and remember the address for the account."""
        for key in self.counted:
            throttles.refund(key)
        try:
            cache.set(_known_key(self.account, self.address), 1, timeout=KNOWN_ADDRESS_SECONDS)
        except Exception:
            logger.warning("log-in address not remembered: the cache is unreachable", exc_info=True)


def login_attempt(request, username) -> LoginAttempt:
    """One log-in or token attempt, counted as a failure until ``succeeded()`` is called on it.

    Raises ``webox.throttles.Throttled`` when the address or the account has failed too often;
    then the password must not be checked.
    """
    address = client_address(request)
    account = _account(username)
    by_address = throttles.hit("login-ip", address, settings.WEBOX_LOGIN_RATE_IP)
    if _is_known(account, address):
        by_account = throttles.hit("login-account-known", f"{account}:{address}", settings.WEBOX_LOGIN_RATE_ACCOUNT)
    else:
        by_account = throttles.hit("login-account", account, settings.WEBOX_LOGIN_RATE_ACCOUNT)
    return LoginAttempt(account=account, address=address, counted=(by_address, by_account))


def check_register(request) -> None:
    throttles.hit("register-ip", client_address(request), settings.WEBOX_REGISTER_RATE_IP)
