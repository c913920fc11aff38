"""Dev-only support shared by ``tests/`` and ``benchmarks/``; never imported by the product.

- ``processes``: free ports, webox's own processes (daphne, a Celery worker) started as a
  deployment starts them, each in its own process group and stopped with it;
- ``client``: the client side of the real path: the REST API over HTTP, a conversation's socket
  through daphne, every event kept in a ``StreamLog``;
- ``fake_provider``: a fake OpenAI/Anthropic server on loopback, driven by the model name;
- ``load``: the load scenario (many users, sockets and turns at once, every reply checked), run
  short by ``tests/streaming/test_load_short.py`` and at size by ``python -m benchmarks load``;
- ``figures``: percentiles and the Markdown tables the scenarios print.

Imports: ``tests`` and ``benchmarks`` may import ``testing``; ``testing`` imports neither, and
neither imports the other. Nothing under ``chat/``, ``accounts/``, ``dashboard/`` or ``webox/``
imports ``testing``.
"""
