"""Conversations and messages: their data, their one write path and reads, the REST API and the page.

Low-level modules, imported freely: ``models``, ``errors``, ``events`` (what sockets are told),
``stream_store`` (live text and cancel flags), ``hooks`` (what the write path announces).
``services`` is the one write path; ``selectors`` and ``serializers`` read and shape.

Two packages sit beside them: ``chat.providers`` (the AI providers; it imports nothing of chat)
and ``chat.streaming`` (the path of a reply after it is stored, an app of its own), which imports
services and models and listens to ``chat.hooks``; nothing here imports it. Import contracts in
pyproject.toml keep these rules (``lint-imports``, run by ``make test``).
"""
