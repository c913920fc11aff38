"""What daphne offers no option for: a WebSocket message over its size limit closes with 1009, a
bound on the output held for a client that does not read, a listen queue longer than twisted's 50,
and less CPU per request (autobahn's debug strings, twisted's ``Content-Type`` parse).

daphne hands its limits (``--websocket-max-message-size``, ``--websocket-max-frame-size``, 1 MiB
each) to autobahn, whose default on a broken limit is to drop the TCP connection without a close
frame: the client sees 1006 and no reason. With ``failByDrop`` off, autobahn sends the close
frame first: 1009 "message too big". Messages under daphne's limit but over
``WEBOX_WS_MAX_FRAME_BYTES`` reach the consumer, which answers them with an ``error`` frame.
"""

from __future__ import annotations

import functools
import importlib
import logging
import pprint

logger = logging.getLogger(__name__)

CLOSE_SLOW_READER = 4008
CONTENT_TYPES_REMEMBERED = 64


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


def socket_transport(transport):
    """The ``twisted.internet.abstract.FileDescriptor`` under ``transport`` (through TLS, policies), or None."""
    while transport is not None:
        if hasattr(transport, "_tempDataLen") and hasattr(transport, "dataBuffer"):
            return transport
        transport = getattr(transport, "transport", None)
    return None


def pending_output_bytes(transport) -> int | None:
    """Bytes written to ``transport`` that the kernel has not taken yet, or None where unknown.

    twisted keeps them in memory without limit. It offers no public count: its producer API only
    says "over 64 KiB", and daphne's HTTP channel already holds the transport's one producer slot.
    So this reads the socket transport's buffers; tests/webox/test_slow_reader.py checks them.
    """
    found = socket_transport(transport)
    return None if found is None else _buffered_bytes(found)


def _buffered_bytes(transport) -> int:
    return len(transport.dataBuffer) - transport.offset + transport._tempDataLen


def close_slow_readers(max_pending_bytes: int) -> None:
    """A socket with more than ``max_pending_bytes`` of output held from earlier turns of the loop is
    closed with 4008 before its next message, instead of daphne buffering for it without bound.

    twisted hands what was written to the kernel once per turn of the loop, so the messages of this
    turn (a snapshot, a flush's deltas) do not count yet: a burst to a client that reads is not a
    slow reader, and one large message never closes a socket. The message that finds the bound
    passed is dropped, and so is all that follows. The close frame waits behind the buffered
    output; a client that does not answer it within autobahn's close handshake timeout (1 s) is
    cut off, and its buffer freed. A client that reconnects gets a snapshot and carries on.
    0 turns the bound off.
    """
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # not served by daphne
        return
    send = getattr(WebSocketProtocol.serverSend, "webox_plain", WebSocketProtocol.serverSend)
    if max_pending_bytes <= 0:
        WebSocketProtocol.serverSend = send
        return

    def new_turn(protocol) -> None:
        protocol.webox_turn_bytes = None

    def server_send(self, content, binary=False) -> None:
        if getattr(self, "webox_slow_reader", False):
            return  # closing: nothing more is queued for a client that fell behind
        transport = getattr(self, "webox_socket_transport", None)
        if transport is None:
            # A protocol keeps its transport for life: found once, not on every message.
            transport = self.webox_socket_transport = socket_transport(self.transport)
            if transport is None:
                send(self, content, binary)
                return
        pending = _buffered_bytes(transport)
        turn_bytes = getattr(self, "webox_turn_bytes", None)
        if turn_bytes is None:
            turn_bytes = 0
            transport.reactor.callLater(0, new_turn, self)
        if pending - turn_bytes > max_pending_bytes:
            self.webox_slow_reader = True
            logger.warning("closing a socket whose client does not read: %d bytes pending from earlier turns, "
                           "%d in all", pending - turn_bytes, pending)
            self.serverClose(code=CLOSE_SLOW_READER)
            return
        send(self, content, binary)
        self.webox_turn_bytes = turn_bytes + _buffered_bytes(transport) - pending

    server_send.webox_plain = send
    WebSocketProtocol.serverSend = server_send


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


class _WhenFormatted:
    """``make(*args, **kwargs)``, worked out only if a log line is written with it."""

    __slots__ = ("make", "args", "kwargs")

    def __init__(self, make, *args, **kwargs) -> None:
        self.make, self.args, self.kwargs = make, args, kwargs

    def __str__(self) -> str:
        return self.make(*self.args, **self.kwargs)

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


# autobahn's helpers whose results these modules of autobahn pass only to log calls.
LOG_ONLY_HELPERS = ("pformat", "hltype", "hlval")
LOGGING_MODULES = ("autobahn.websocket.protocol", "autobahn.twisted.websocket")


def format_debug_lines_lazily() -> None:
    """autobahn's debug lines of every socket's handshake, every frame sent and every read are made only
    when debug logging is on.

    autobahn pretty-prints its options and the transport's details (``pformat``), and highlights
    names and values (``hltype``, ``hlval``: about 6 µs for each frame sent), as arguments of
    ``log.debug`` calls that, at webox's log levels, write nothing: about a twentieth of daphne's
    CPU for a socket join. The logger formats its arguments when, and only if, it writes the line.
    """
    try:
        from autobahn.websocket import protocol
    except ImportError:  # not served by daphne
        return
    for module in map(importlib.import_module, LOGGING_MODULES):
        for name in LOG_ONLY_HELPERS:
            helper = getattr(module, name, None)
            if helper is not None and not isinstance(helper, functools.partial):
                setattr(module, name, functools.partial(_WhenFormatted, helper))
    # pformat's one use outside a log call: a str for str().
    protocol.Timings.__str__ = lambda timings: pprint.pformat(timings._timings)


def parse_content_types_once() -> None:
    """twisted's parse of a request's ``Content-Type`` (through the ``email`` package, for every POST) is
    remembered per header value: a client sends the same few values again and again.

    The parse is a pure function of the header's bytes; the cache is bounded.
    """
    try:
        from twisted.web import http
    except ImportError:  # not served by daphne
        return
    if hasattr(http._parseContentType, "cache_info"):
        return
    http._parseContentType = functools.lru_cache(maxsize=CONTENT_TYPES_REMEMBERED)(http._parseContentType)
