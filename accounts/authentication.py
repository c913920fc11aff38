"""The REST API's and the socket's bearer-token authentication: simplejwt's, with the token's user row
read at most once per ``USER_CACHE_SECONDS`` per process, not on every request.

That read was a sixth of the CPU of a small API request. What the cache may delay is bounded:

- every request still checks the user it gets: active, and the token issued for the current
  password (``CHECK_REVOKE_TOKEN``), as simplejwt does; a cached row that fails a check is read
  again before the token is refused (a token issued after a password change elsewhere is good);
- a user saved or deleted through the ORM (deactivation, a password change, a deletion, the
  admin's forms) is forgotten at once, and again once the change commits, in the process that made it;
- any other process, or a change that bypasses the model's signals (``QuerySet.update``), is
  seen within ``USER_CACHE_SECONDS``, the staleness a stateless JWT setup accepts for the whole
  token's life.

Each request gets its own copy of the cached user: a view may change it freely.
"""

from __future__ import annotations

import copy
import threading
import time

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

USER_CACHE_SECONDS = 2.0

_clock = time.monotonic
_lock = threading.Lock()
_users: dict = {}  # user id -> (user row, monotonic time it is good until)


def cached_user(user_id, read):
    """The user ``user_id`` as read by ``read()`` at most ``USER_CACHE_SECONDS`` ago (a copy of it)."""
    key = str(user_id)
    now = _clock()
    with _lock:
        found = _users.get(key)
    if found is None or found[1] <= now:
        user = read()
        with _lock:
            _users[key] = (user, now + USER_CACHE_SECONDS)
        found = (user, None)
    return copy.copy(found[0])


def forget_user(user_id) -> None:
    with _lock:
        _users.pop(str(user_id), None)


def forget_all_users() -> None:
    with _lock:
        _users.clear()


def forget_changed_user(sender, instance, **kwargs) -> None:
    """A user saved or deleted: forgotten now, and again once it commits (a read in between sees the old row)."""
    user_id = instance.pk
    forget_user(user_id)
    transaction.on_commit(lambda: forget_user(user_id))


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's, with the user row from ``cached_user``; a row that fails a check is read afresh
    before the token is refused, so the cache never refuses what the database would accept."""

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as e:
            raise InvalidToken(_("Token contained no recognizable user identification")) from e

        def read():
            return self.user_model.objects.get(**{api_settings.USER_ID_FIELD: user_id})

        try:
            user = cached_user(user_id, read)
            if _refusal(user, validated_token) is not None:
                forget_user(user_id)
                user = cached_user(user_id, read)
        except self.user_model.DoesNotExist as e:
            raise AuthenticationFailed(_("User not found"), code="user_not_found") from e
        refusal = _refusal(user, validated_token)
        if refusal is not None:
            raise refusal
        return user


def _refusal(user, validated_token) -> AuthenticationFailed | None:
    """simplejwt's checks of a token's user: active, and the token issued for the current password."""
    if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
        return AuthenticationFailed(_("User is inactive"), code="user_inactive")
    if api_settings.CHECK_REVOKE_TOKEN and (
            validated_token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password)):
        return AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
    return None



class CachedUserJWTScheme(SimpleJWTScheme):
    """The OpenAPI schema describes it as simplejwt's scheme (drf-spectacular matches the exact class)."""

    target_class = "accounts.authentication.JWTAuthentication"
