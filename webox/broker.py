"""Celery's broker transport: kombu's Redis transport, with one Redis client per channel for its commands.

kombu's Redis channel builds a new redis-py client object, on its same connection pool, for every
command it sends outside its consumer's event loop: a task's publish (``LPUSH``) among them, once per
reply started. Building one (``redis.Redis.__init__``: its response callbacks and connection
settings) was a sixth of the Celery publish in a send's request thread. A client object keeps no
state between commands (the pool, which is thread-safe, holds the connections), so one per channel
serves them all. ``CELERY_BROKER_TRANSPORT`` names this transport when ``REDIS_URL`` is set.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cached_property

from kombu.transport import redis


class Channel(redis.Channel):
    @cached_property
    def _commands_client(self):
        return self._create_client()

    @contextmanager
    def conn_or_acquire(self, client=None):
        yield client or self._commands_client


class Transport(redis.Transport):
    Channel = Channel
