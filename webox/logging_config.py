"""The ``LOGGING`` setting (webox/settings.py reads its format and level from the environment)."""


def logging_config(log_format: str, level: str) -> dict:
    """Django's ``LOGGING``: every line once, through webox's filters, in ``log_format`` (plain or json)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "webox.logging_context.ContextFilter"},
            "without_server_request_lines": {"()": "webox.logging_context.WithoutServerRequestLines"},
            "without_secret_paths": {"()": "webox.logging_context.WithoutSecretPaths"},
        },
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {"()": "webox.logging_context.WeboxJsonFormatter"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["context"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Each line once: Django's own console handler (DEBUG only) would print django.* lines a
            # second time, unformatted, before they reach the root's.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.channels.server": {"filters": ["without_server_request_lines"]},
            "django.request": {"filters": ["without_secret_paths"]},
            # The SDKs' HTTP clients log request lines at INFO; keep them quiet so that no
            # header or URL with a credential can reach the log.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
            "httpx2": {"level": "WARNING"},
            "httpcore2": {"level": "WARNING"},
            "openai": {"level": "WARNING"},
            "anthropic": {"level": "WARNING"},
        },
    }
