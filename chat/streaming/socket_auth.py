"""Who a conversation socket belongs to: the user of a bearer token (with their access to the conversation),
and whether a session still is theirs; and the session middleware only for the sockets that use a session.

The socket checks these on connect and again while it lives (chat/streaming/consumers.py).
"""

from __future__ import annotations

from importlib import import_module

from channels.auth import AuthMiddlewareStack
from django.conf import settings
from django.contrib.auth import SESSION_KEY

from chat.selectors import conversation_owned

# Sec-WebSocket-Protocol: webox.bearer, <access token> — keeps the token out of URLs and logs.
BEARER_SUBPROTOCOL = "webox.bearer"


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
    found = user_from_token(raw_token)
    if found is None:
        return None, False
    return found, conversation_owned(user=found[0], conversation_id=conversation_id)


def session_still_belongs(session_key: str, user_id: int) -> bool:
    """The session still exists, has not expired and is still this user's log-in."""
    stored = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key).load()
    return str(stored.get(SESSION_KEY)) == str(user_id)


class SessionUnlessBearer:
    """Channels' cookie, session and auth middleware for the sockets that authenticate by session only.

    A socket that asks for ``webox.bearer`` authenticates by its token and never reads the scope's
    session or user; resolving them anyway cost each of those joins a hop to a database thread and
    back (channels' ``get_user``), about a tenth of daphne's CPU for a join. A browser's socket
    (cookie session, or an ``auth`` frame) goes through the whole stack as before.
    """

    def __init__(self, inner):
        self.inner = inner
        self.with_session = AuthMiddlewareStack(inner)

    async def __call__(self, scope, receive, send):
        if BEARER_SUBPROTOCOL in (scope.get("subprotocols") or ()):
            return await self.inner(scope, receive, send)
        return await self.with_session(scope, receive, send)
