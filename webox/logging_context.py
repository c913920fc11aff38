"""What every log line carries: the request, user, conversation and reply it belongs to.

The ids live in context variables, so they follow a request through Django's threads and each
reply's asyncio task on a worker's loop (a task copies the context it was created in). The
``ContextFilter`` puts them on every record; the JSON formatter writes them as fields.

Log lines carry ids, never a provider key, a message's text or a share link's token.
"""

from __future__ import annotations

import contextvars
import logging

from pythonjsonlogger.json import JsonFormatter

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("webox_request_id", default=None)
user_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("webox_user_id", default=None)
conversation_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("webox_conversation_id", default=None)
reply_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("webox_reply_id", default=None)
# URL arguments that are secrets (a share link's token, chat/sharing/): logged as "[token]".
SECRET_URL_KWARGS = ("token",)
# The request being served: its user is read when a line is logged, since DRF authenticates a
# JWT only inside the view (and then sets the user on the Django request).
current_request: contextvars.ContextVar = contextvars.ContextVar("webox_request", default=None)

FIELDS = ("request_id", "user_id", "conversation_id", "reply_id")
NO_REQUEST = "-"  # the plain format's placeholder outside a request


def bind_reply(*, reply: int, conversation: int) -> None:
    """Tag the lines of the current task (one reply's generation) with its ids."""
    reply_id.set(reply)
    conversation_id.set(conversation)


def _user_of(request) -> int | None:
    user = getattr(request, "user", None)
    # An unevaluated lazy user stays unevaluated: logging must not query the database.
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is None or type(wrapped).__name__ == "object":
        return None
    return wrapped.pk if getattr(wrapped, "is_authenticated", False) else None


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request = current_request.get()
        record.request_id = request_id.get() or NO_REQUEST
        record.user_id = user_id.get() or (_user_of(request) if request is not None else None)
        record.conversation_id = conversation_id.get()
        record.reply_id = reply_id.get()
        return True


class WeboxJsonFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, the context ids that are set."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", False)
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", *args, **kwargs)

    def add_fields(self, log_record, record, message_dict) -> None:
        super().add_fields(log_record, record, message_dict)
        for field in FIELDS:
            if log_record.get(field) in (None, NO_REQUEST):
                log_record.pop(field, None)


class WithoutServerRequestLines(logging.Filter):
    """Drops ``manage.py runserver``'s own line per HTTP request: ``webox.request`` logs each one already.

    Its WebSocket lines (connect, disconnect, reject) stay: nothing else logs those.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.args, dict) and "status" in record.args)


def path_for_log(request) -> str:
    """``request.path`` with the secret URL arguments of the view it resolved to replaced by their names."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    for name in SECRET_URL_KWARGS if match is not None else ():
        if match.kwargs.get(name):
            path = path.replace(str(match.kwargs[name]), f"[{name}]")
    return path


class WithoutSecretPaths(logging.Filter):
    """Django's own line about a refused request ("Not Found: /s/<token>/") without the secret in its path."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and isinstance(record.args, tuple):
            path = path_for_log(request)
            record.args = tuple(path if arg == request.path else arg for arg in record.args)
        return True
