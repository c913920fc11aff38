"""What daphne offers no option for: a WebSocket message over its size limit closes with 1009, and
a listen queue longer than twisted's 50.

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


def listen_with_backlog(backlog: int) -> None:
    """``daphne -b HOST -p PORT`` listens with a queue of ``backlog`` connections, not twisted's 50.

    With 50, a burst of new connections overflowed the kernel's accept queue (``ListenOverflows``
    in ``nstat``): of 200 sends at once, 11–41 ended in a client ``ReadError`` without reaching
    webox at all. The kernel caps the value at ``net.core.somaxconn``. Endpoints given with
    ``daphne -e`` keep their own ``backlog=``.
    """
    try:
        import daphne.cli
    except ImportError:  # not served by daphne
        return
    build = daphne.cli.build_endpoint_description_strings
    if getattr(build, "webox_backlog", None) == backlog:
        return
    plain = getattr(build, "webox_plain", build)

    def build_with_backlog(*args, **kwargs) -> list[str]:
        return [f"{description}:backlog={backlog}" if description.startswith("tcp:") else description
                for description in plain(*args, **kwargs)]

    build_with_backlog.webox_backlog = backlog
    build_with_backlog.webox_plain = plain
    daphne.cli.build_endpoint_description_strings = build_with_backlog
