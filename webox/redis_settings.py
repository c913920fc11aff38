"""The settings that depend on Redis: the channel layer, and Celery's queues and broker options."""

from redis.exceptions import ConnectionError as RedisConnectionError


def channel_layers(redis_url: str, prefix: str) -> dict:
    """``CHANNEL_LAYERS``: Redis pub/sub when a URL is given, else the in-memory layer of one process."""
    if not redis_url:
        return {"default": {"BACKEND": "webox.channel_layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}}
    # Pub/sub layer: ~5x the throughput of the core layer on these machines and it never drops
    # silently; a message missed during a reconnect is repaired from the stream state (seq).
    return {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # A pooled connection that Redis closed (a restart) fails once, is reopened and the
            # command retried once; without it that one publish, e.g. a reply's end, is lost.
            "CONFIG": {"hosts": [{"address": redis_url, "retry_on_error": [RedisConnectionError]}],
                       "prefix": prefix},
        }
    }


def provider_queues(items: list[str]) -> dict[str, str]:
    """``WEBOX_CELERY_PROVIDER_QUEUES`` from its ``provider=queue`` items; items without both are left out."""
    return dict((name.strip(), queue.strip()) for name, _, queue in (item.partition("=") for item in items)
                if name.strip() and queue.strip())


def task_queues(default: str, provider_queues: dict[str, str]) -> dict:
    """``CELERY_TASK_QUEUES``: the default queue and each provider's, each bound as Celery binds a queue it
    creates itself (a direct exchange of its name), so processes of an older release, which created the
    queue that way, still deliver to it during a rolling upgrade."""
    return {queue: {"exchange": queue, "exchange_type": "direct", "routing_key": queue}
            for queue in dict.fromkeys([default, *provider_queues.values()])}
