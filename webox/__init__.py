"""The project: settings, URLs, ASGI/WSGI, the Celery app and system checks."""

from .celery import app as celery_app

__all__ = ["celery_app"]
