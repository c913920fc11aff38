"""The path of a reply after it is stored, from the pending row to the socket.

start (``runners``: a Celery task or the server's loop) → claim and context (``engine``) → stream
the provider → coalesce deltas, record them in the stream store and publish (``publisher``,
``streamstate``, ``events``) → deliver with seq checks (``consumers``) → checkpoint about once a
second → store the end (usage, timings) and publish it (``engine.end_reply``).

Imports chat's services, selectors, serializers, models and streamed_markdown, and the providers package. Chat
reaches it only through ``chat.dispatch`` (see there why).
"""
