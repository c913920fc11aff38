"""Conversations and messages in the Django admin: readable threads, and operator actions.

One module per model admin (``conversations``, ``messages``, ``folders``); what they show in common
is in ``display`` and the change page's thread in ``threads``. Importing this package (Django's
admin autodiscovery does) registers them, with the admins of chat's subpackages: providers, the
price table, attachments and the vision table.
"""

from ..attachments import admin as attachments_admin  # noqa: F401 - registers the vision table and uploads
from ..providers import admin as provider_admin  # noqa: F401 - registers the Provider admin
from ..usage import admin as usage_admin  # noqa: F401 - registers the ModelPrice admin
from .conversations import ConversationAdmin
from .folders import FolderAdmin
from .messages import MessageAdmin

__all__ = ["ConversationAdmin", "FolderAdmin", "MessageAdmin"]
