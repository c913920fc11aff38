"""The one way chat's services reach the streaming package (``chat.streaming``).

Services store a conversation's data; streaming delivers it. After a write commits, services
need three things from streaming: tell the conversation's sockets (``events``), start generating
the replies they stored (``start_replies``), and reach the stream store for cancel flags and
live text (``stream_store``). Streaming in turn calls services for every write, so importing it
here at module level would close the circle services → runners → engine → services. Each name
below is therefore imported from streaming on first use, and no other module of ``chat`` outside
``chat.streaming`` imports streaming at all.
"""

from __future__ import annotations

import importlib
from typing import Any

# name here -> (module of chat.streaming, attribute; None for the module itself)
_STREAMING = {
    "events": ("chat.streaming.events", None),
    "start_replies": ("chat.streaming.runners", "start_replies"),
    "stream_store": ("chat.streaming.streamstate", "stream_store"),
    "StreamStoreUnavailable": ("chat.streaming.streamstate", "StreamStoreUnavailable"),
}


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _STREAMING[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    return module if attribute is None else getattr(module, attribute)
