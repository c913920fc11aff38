"""The project: settings, URLs, ASGI/WSGI, the Celery app, system checks and health."""

from .celery import app as celery_app

__all__ = ["celery_app"]
