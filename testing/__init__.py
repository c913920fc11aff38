"""Dev-only support shared by ``tests/`` and ``benchmarks/``; never imported by the product.

- ``fake_provider``: a fake OpenAI/Anthropic server on loopback, driven by the model name;
- ``figures``: percentiles and the Markdown tables the scenarios print.

Imports: ``tests`` and ``benchmarks`` may import ``testing``; ``testing`` imports neither, and
neither imports the other. Nothing under ``chat/``, ``accounts/``, ``dashboard/`` or ``webox/``
imports ``testing``.
"""
