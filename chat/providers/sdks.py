"""The provider SDKs, loaded only in the processes that call providers.

``openai`` (with aiohttp, its transport) and ``anthropic`` with their chat resources take about
70 MB of memory per process (``anthropic`` alone 43 MB and some 3,000 modules). In production
shape daphne never calls a provider — the Celery workers do — so there the SDKs stay unloaded
until something asks for one (the admin's "check connection", say). The processes that stream
load, at start and before any concurrency, the SDKs of the providers configured then
(``registry.load_sdks``, which asks each provider class for its ``sdk_name``): Celery workers
(``webox/celery.py``: the environment's providers and the Provider records) and, in the
embedded default, the server itself (``chat.apps``: the environment's). An SDK that is first
needed later (a provider added in the admin) is loaded on a thread by the first reply that
needs it, so the event loop and the other streams do not stop for the import.

A loaded SDK's first call still imports its HTTP stack and streaming modules and builds a TLS
context (about 140 ms, 60 ms of CPU): ``registry.warm_sdks`` makes that call at start, to a
loopback port that refuses it, and every client shares one TLS context (``tls_context``).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import ssl
import sys
import threading
from types import ModuleType

from webox.collector import freeze_long_lived

# Besides the package itself: what each SDK imports on first use (its chat resources).
_FIRST_USE = {"openai": ("openai.resources.chat.completions",), "anthropic": ("anthropic.resources.messages",)}
# Python 3.11's LazyLoader is not safe when two threads trigger the same module's load: the
# first to touch the module marks it loaded before running it, so a second one reads a module
# half run (an AttributeError). Loads go through ``load``, under this lock, and a name counts as
# loaded only once its load has finished.
_load_lock = threading.Lock()
_ready: set[str] = set()


def lazy(name: str) -> ModuleType:
    """``name`` as a module that is imported on its first attribute access (importlib's LazyLoader).

    Touch its attributes only after ``load(name)`` (or through ``module(name)``) where more than
    one thread may be first."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def loaded(name: str) -> bool:
    """Whether the SDK ``name`` and what it imports on first use are imported."""
    return name in _ready


def load(name: str) -> None:
    """Import the module ``name`` now if it is not loaded yet (a no-op once it is).

    Called before a call's timers start, so the import of a process's first use never counts
    against the provider's first-token timeout.
    """
    if name in _ready:
        return
    with _load_lock:
        if name in _ready:
            return
        _ = importlib.import_module(name).__name__
        for extra in _FIRST_USE.get(name, ()):
            importlib.import_module(extra)
        _ready.add(name)
    # The module's objects live as long as the process: out of the full collections (webox/collector.py).
    freeze_long_lived()


def module(name: str) -> ModuleType:
    """The module ``name``, loaded (safely from any thread) if it was still lazy."""
    load(name)
    return sys.modules[name]


def load_all() -> None:
    """Import every SDK and what each imports on first use, now."""
    for name in _FIRST_USE:
        load(name)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context of every SDK client of this process, as the SDKs build their own (CA store,
    ``SSL_CERT_FILE``): loading the CA store costs about 50 ms of CPU, once here instead of per client."""
    import httpx2

    return httpx2.create_ssl_context()
