"""Conversations and messages: their data, their one write path and reads, the REST API and the page.

Two packages sit beside it: ``chat.providers`` (the AI providers, imported freely) and
``chat.streaming`` (the path of a reply after it is stored), which imports this package's
services and models. This package reaches streaming only through ``chat.dispatch``.
"""
