"""AI providers: one streaming interface, its adapters, and everything that configures them.

What lives here: the interface (``base.ChatProvider`` and its value types), the retry and
timeout policy every adapter shares (``policy``), the adapters (``openai_compat``,
``anthropic_messages``, ``demo``), where providers come from and how they are built
(``registry``: environment, built-in demo, ``Provider`` records), the model catalogue
(``catalog``), the ``Provider`` records with their encrypted keys (``models``, ``crypto``,
``services``, ``admin``), ``GET /api/chat/providers`` (``api``) and ``manage.py providers``
(``cli``).

Who may import it: anything in webox, through this one import (``from chat.providers import ...``).
It imports nothing of ``chat`` outside this package, so it can be read and tested on its own.
Inside, imports point one way, with no cycle: ``base``, ``sdks``, ``sse``, ``crypto`` and ``models``
import nothing of the package; ``policy`` imports ``base`` and ``sdks``; the adapters import those;
``registry`` imports the adapters; ``catalog`` and ``services`` import ``registry``; ``admin``,
``api`` and ``cli`` come last. No module of the package imports this ``__init__``.
"""

from .base import (
    RETRYABLE_CODES,
    ChatImage,
    ChatMessage,
    ChatProvider,
    ChatRequest,
    ErrorCode,
    Pace,
    ProviderConfig,
    ProviderError,
    Retrying,
    StreamItem,
    StreamResult,
    TextDelta,
)
from .catalog import provider_catalog
from .crypto import SecretDecryptError, decrypt_secret, encrypt_secret, mask_secret, reencrypt_secret
from .models import Provider, ProviderKind
from .policy import StreamPolicy
from .registry import (
    PROVIDER_CLASSES,
    all_provider_configs,
    build_provider,
    db_provider_config,
    get_provider_config,
    provider_config_at,
    provider_configs,
)
from .services import (
    CheckResult,
    provider_check,
    provider_create,
    provider_delete,
    provider_refresh_models,
    provider_rotate_keys,
    provider_save,
    provider_set_api_key,
    provider_update,
    validate_base_url,
)

__all__ = [
    "PROVIDER_CLASSES", "RETRYABLE_CODES", "ChatImage", "ChatMessage", "ChatProvider", "ChatRequest", "CheckResult",
    "ErrorCode", "Pace",
    "Provider", "ProviderConfig", "ProviderError", "ProviderKind", "Retrying", "SecretDecryptError", "StreamItem",
    "StreamPolicy", "StreamResult", "TextDelta", "all_provider_configs", "build_provider", "db_provider_config",
    "decrypt_secret", "encrypt_secret", "get_provider_config", "mask_secret", "provider_catalog", "provider_check",
    "provider_config_at", "provider_configs", "provider_create", "provider_delete", "provider_refresh_models",
    "provider_rotate_keys", "provider_save", "provider_set_api_key", "provider_update",
    "reencrypt_secret", "validate_base_url",
]
