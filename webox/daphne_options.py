"""What daphne offers no option for: a WebSocket message over its size limit closes with 1009.

daphne hands its limits (``--websocket-max-message-size``, ``--websocket-max-frame-size``, 1 MiB
each) to autobahn, whose default on a broken limit is to drop the TCP connection without a close
frame: the client sees 1006 and no reason. With ``failByDrop`` off, autobahn sends the close
frame first: 1009 "message too big". Messages under daphne's limit but over
``WEBOX_WS_MAX_FRAME_BYTES`` reach the consumer, which answers them with an ``error`` frame.
"""

from __future__ import annotations


def close_oversized_messages_with_1009() -> None:
    try:
        from daphne.ws_protocol import WebSocketFactory
    except ImportError:  # not served by daphne
        return
    if getattr(WebSocketFactory, "webox_fails_by_close", False):
        return
    reset = WebSocketFactory.resetProtocolOptions

    def reset_protocol_options(self) -> None:
        reset(self)
        self.failByDrop = False

    WebSocketFactory.resetProtocolOptions = reset_protocol_options
    WebSocketFactory.webox_fails_by_close = True
