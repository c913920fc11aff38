"""The provider SDKs, loaded only in the processes that call providers.

``openai`` and ``anthropic`` with their chat resources take about 110 MB of memory per process
(``anthropic`` alone imports some 3,000 modules). In production shape daphne never calls a
provider — the Celery workers do — so there the SDKs stay unloaded until something asks for one
(the admin's "check connection", say). The processes that stream load them at start, before any
concurrency, so no reply pays for the import on an event loop: Celery workers (``webox/celery.py``)
and, in the embedded default, the server itself (``chat.apps``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType

# Besides the package itself: what each SDK imports on first use (its chat resources).
_FIRST_USE = {"openai": ("openai.resources.chat.completions",), "anthropic": ("anthropic.resources.messages",)}


def lazy(name: str) -> ModuleType:
    """``name`` as a module that is imported on its first attribute access (importlib's LazyLoader)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def load(name: str) -> None:
    """Import the SDK ``name`` now if it is still a lazy module (a no-op once it is loaded).

    Called before a call's timers start, so the import of a process's first use never counts
    against the provider's first-token timeout.
    """
    module = sys.modules.get(name)
    if module is None or isinstance(module, importlib.util._LazyModule):
        _ = importlib.import_module(name).__name__
        for extra in _FIRST_USE.get(name, ()):
            importlib.import_module(extra)


def load_all() -> None:
    """Import every SDK and what each imports on first use, now."""
    for name in _FIRST_USE:
        load(name)
