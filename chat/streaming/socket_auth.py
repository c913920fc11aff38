"""Who a conversation socket belongs to: the user of a bearer token (with their access to the conversation),
and whether a session still is theirs.

The socket checks these on connect and again while it lives (chat/streaming/consumers.py).
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY


def user_from_token(raw_token: str):
    """The token's user and its expiry (a Unix time), or None for a bad or expired token."""
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

    from accounts.authentication import JWTAuthentication  # the REST API's: its user read at most every 2 s

    auth = JWTAuthentication()
    try:
        token = auth.get_validated_token(raw_token.encode())
        return auth.get_user(token), float(token["exp"])
    except (InvalidToken, TokenError, AuthenticationFailed, KeyError):
        return None


def token_user_and_access(raw_token: str, conversation_id: int):
    """``user_from_token``'s answer, and whether that user owns the conversation: one database call for a
    joining socket instead of two (each call is a hop to a database thread and back to the loop)."""
    from chat.selectors import ConversationNotFound, conversation_get_for_user

    found = user_from_token(raw_token)
    if found is None:
        return None, False
    try:
        conversation_get_for_user(user=found[0], conversation_id=conversation_id)
    except ConversationNotFound:
        return found, False
    return found, True


def session_still_belongs(session_key: str, user_id: int) -> bool:
    """The session still exists, has not expired and is still this user's log-in."""
    stored = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key).load()
    return str(stored.get(SESSION_KEY)) == str(user_id)
