"""Celery's broker transport (webox/broker.py): tasks published on Redis through one client per channel."""

import pytest
import redis as redis_py
from django.conf import settings
from kombu.transport import redis as kombu_redis

from webox.celery import app

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


def test_tasks_are_published_through_one_redis_client_and_reach_their_queue(monkeypatch):
    built = []
    original = kombu_redis.PrefixedStrictRedis.__init__

    def counting(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(kombu_redis.PrefixedStrictRedis, "__init__", counting)
    queue = f"{settings.WEBOX_REDIS_PREFIX}-broker-test"
    raw = redis_py.Redis.from_url(settings.REDIS_URL)
    key = f"{settings.WEBOX_REDIS_PREFIX}:{queue}"
    raw.delete(key)
    try:
        with app.connection_for_write() as connection:
            assert type(connection.transport).__module__ == "webox.broker"
        with app.producer_or_acquire() as producer:
            app.send_task("chat.tasks.sweep_orphaned_replies", queue=queue, producer=producer)
            after_first = len(built)
            for _ in range(5):
                app.send_task("chat.tasks.sweep_orphaned_replies", queue=queue, producer=producer)
        assert raw.llen(key) == 6
        assert len(built) == after_first  # kombu's own channel builds a client for every publish
    finally:
        raw.delete(key)
