"""Reads about users that other apps rely on."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.crypto import constant_time_compare


def user_group(user_id: int) -> str:
    """The channel-layer group every open socket of this user joins (see accounts.signals)."""
    return f"user.{user_id}"


def user_auth_hash(user) -> str:
    """Changes when the password changes: what a session or socket checks it still matches."""
    return user.get_session_auth_hash()


def user_still_valid(*, user_id: int, auth_hash: str) -> bool:
    """The user exists, is active and has the password they had when ``auth_hash`` was taken."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    return user is not None and constant_time_compare(user_auth_hash(user), auth_hash)
