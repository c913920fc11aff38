"""The garbage collector in webox's long-running processes: what lives as long as the process stays out
of its full collections.

A full (generation 2) collection visits every object the collector tracks, and holds the GIL while it
does. In daphne that was every module, class and function imported (Django, DRF, twisted, the URLconf,
and in the embedded default the provider SDKs and the price table): under load it stopped the event
loop, and with it the text of every socket, for 90–130 ms in production shape and 200–270 ms in the
embedded default, several times a minute (docs/performance.md). ``gc.freeze`` moves every object
tracked now into a permanent generation that no collection visits. The web process does it once its
start has imported what it serves with (``webox/asgi.py``), and again after a module loaded later
(``chat.providers.sdks.load``, ``chat.providers.registry.warm_sdks``); the workers before they fork
(``webox/workers.py``).
"""

from __future__ import annotations

import gc


def freeze_long_lived(*, collect_first: bool = False) -> None:
    """Put every object alive now out of reach of later collections.

    A frozen object is still freed when nothing refers to it any more; only a reference cycle among
    frozen objects is never collected. ``collect_first`` collects before, so that no garbage cycle of
    the start is kept: at start, before the process serves. After a later load it is left out, the
    full collection being the pause this avoids; the requests in flight then may keep a cycle or two,
    once per module loaded.
    """
    if collect_first:
        gc.collect()
    gc.freeze()
