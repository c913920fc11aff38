"""System checks that refuse settings which cannot work together."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from chat.hooks import replies_stored

from .client_address import trusted_networks


@register(Tags.security, deploy=False)
def check_secret_key(app_configs, **kwargs):
    if not settings.DEBUG and settings.SECRET_KEY == settings.INSECURE_DEV_SECRET_KEY:
        return [
            Error(
                "DJANGO_SECRET_KEY is not set while DJANGO_DEBUG is off.",
                hint="Set DJANGO_SECRET_KEY to a long random value (python -c \"import secrets; "
                "print(secrets.token_urlsafe(50))\").",
                id="webox.E001",
            )
        ]
    return []


@register()
def check_runner_and_channel_layer(app_configs, **kwargs):
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    if settings.WEBOX_RUNNER == "celery" and backend.endswith("InMemoryChannelLayer"):
        return [
            Error(
                "Celery workers cannot reach sockets through the in-memory channel layer.",
                hint="Set REDIS_URL so that workers and servers share the Redis channel layer, "
                "or unset it to run provider calls in-process.",
                id="webox.E002",
            )
        ]
    if settings.WEBOX_RUNNER not in {"celery", "embedded"}:
        return [Error(f"Unknown WEBOX_RUNNER {settings.WEBOX_RUNNER!r}.", id="webox.E003")]
    return []



@register()
def check_stored_replies_start(app_configs, **kwargs):
    # Services announce stored replies through chat.hooks; only the streaming app listens.
    if not replies_stored.has_listeners():
        return [
            Error(
                "Nothing starts the replies that chat stores: no receiver of chat.hooks.replies_stored.",
                hint="Keep 'chat.streaming' in INSTALLED_APPS: its app connects the runner when it is ready.",
                id="webox.E004",
            )
        ]
    return []


@register(Tags.security)
def check_trusted_proxies(app_configs, **kwargs):
    try:
        trusted_networks(tuple(settings.WEBOX_TRUSTED_PROXIES))
    except ValueError as exc:
        return [Error(f"WEBOX_TRUSTED_PROXIES: {exc}.",
                      hint="List the proxies' addresses or networks, comma-separated (10.0.0.5,10.1.0.0/16).",
                      id="webox.E005")]
    return []
