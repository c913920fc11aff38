"""The path of a reply after it is stored, from the pending row to the socket.

start (``runners``: a Celery task in ``tasks``, or a task on the server's loop) → claim and
context (``engine``) → stream the provider → coalesce deltas, record them in the stream store and
publish them (``publisher``, ``chat.stream_store``, ``chat.events``) → deliver with seq checks
(``consumers``) → checkpoint about once a second → store the end (usage, timings) and publish it
(``engine.end_reply``). Database work runs in a bounded thread pool (``db_threads``).

An app of its own (``apps.StreamingConfig``). It imports chat's services, selectors, serializers,
models, events and stream store, and the providers package; nothing of chat imports it. Services
announce the replies they store through ``chat.hooks``, which this app listens to once it is
ready. Outside this package only ``routing`` (mounted by webox/asgi.py) and ``tasks`` (found by
Celery) are used; the other modules are its internals. See docs/streaming.md.
"""
