"""The Redis-dependent settings (webox/redis_settings.py)."""

from redis.exceptions import ConnectionError as RedisConnectionError

from webox.redis_settings import channel_layers, provider_queues, task_queues


def test_a_redis_url_gives_the_pub_sub_layer_that_retries_a_closed_connection_and_none_the_in_memory_one():
    layer = channel_layers("redis://cache:6379/0", "shop")["default"]
    assert layer["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert layer["CONFIG"] == {"hosts": [{"address": "redis://cache:6379/0", "retry_on_error": [RedisConnectionError]}],
                               "prefix": "shop"}
    assert channel_layers("", "shop")["default"]["BACKEND"] == "webox.channel_layers.InMemoryChannelLayer"


def test_provider_queues_keep_the_items_that_name_both_a_provider_and_a_queue():
    assert provider_queues([" claude = webox-anthropic", "gpt=webox-openai", "=q", "lonely", "x="]) == {
        "claude": "webox-anthropic", "gpt": "webox-openai"}


def test_each_queue_is_declared_once_with_a_direct_exchange_of_its_name():
    queues = task_queues("webox", {"claude": "webox-anthropic", "gpt": "webox-anthropic", "o": "webox"})
    assert list(queues) == ["webox", "webox-anthropic"]
    assert queues["webox-anthropic"] == {"exchange": "webox-anthropic", "exchange_type": "direct",
                                         "routing_key": "webox-anthropic"}
