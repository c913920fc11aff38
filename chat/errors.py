"""What chat refuses, and why: one exception per kind of refusal, each with its HTTP status.

Every message is safe to show the user. The REST API answers ``status`` with a JSON ``detail``
(chat/api/), the socket sends an ``error`` event with ``code`` (chat/streaming/consumers.py),
and the admin shows ``detail``. A low-level module: anything in chat may import it.
"""

from __future__ import annotations


class ChatError(Exception):
    """A refused request. ``field`` names the input at fault; ``retry_after`` (seconds) becomes
    the ``Retry-After`` header of a 429 or 503."""

    status = 400
    code = "invalid"

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None,
                 retry_after: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code is not None:
            self.code = code
        self.retry_after = retry_after


class ChatInputError(ChatError):
    """Bad input: a value out of range, of the wrong type, or text no database can store."""


class ChatNotFound(ChatError):
    status = 404
    code = "not_found"


class ChatForbidden(ChatError):
    """Not allowed for this user or on this site (share links turned off)."""

    status = 403
    code = "forbidden"


class ChatConflict(ChatError):
    """The thing exists but is not in a state that allows this (a reply that is not generating)."""

    status = 409
    code = "conflict"


class LimitReached(ChatError):
    """A turn refused by a user's limit: ``code`` says which (``rate_limited``, ``budget_exhausted``)."""

    status = 429


class StorageFull(ChatError):
    """Storing this would take a user over their storage quota (``WEBOX_USER_STORAGE_CHARS``)."""

    status = 413
    code = "storage_full"


class ChatUnavailable(ChatError):
    """A service the request needs cannot be reached (the stream store, to deliver a cancel)."""

    status = 503
    code = "unavailable"
