"""daphne's per-request CPU trims (webox/daphne_options.py): autobahn's debug strings are made only when a
debug line is written, and twisted's ``Content-Type`` parse is remembered per header value."""

import pprint

import pytest
from autobahn import util
from autobahn.twisted import websocket as twisted_websocket
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket import protocol
from twisted.internet.testing import StringTransport
from twisted.web import http

import webox.asgi  # noqa: F401 - installs the options, as daphne's import of it does
from webox import daphne_options


@pytest.fixture
def pformat_calls(monkeypatch):
    """The values pretty-printed, by whoever calls ``pprint``."""
    calls = []
    plain = pprint.PrettyPrinter.pformat

    def counting(printer, value):
        calls.append(value)
        return plain(printer, value)

    monkeypatch.setattr(pprint.PrettyPrinter, "pformat", counting)
    return calls


@pytest.fixture
def highlights(monkeypatch):
    """The names and values autobahn highlighted for a log line."""
    calls = []
    plain = util.hl

    def counting(text, *args, **kwargs):
        calls.append(text)
        return plain(text, *args, **kwargs)

    monkeypatch.setattr(util, "hl", counting)
    return calls


def connected_socket() -> WebSocketServerProtocol:
    socket = WebSocketServerProtocol()
    socket.factory = WebSocketServerFactory()
    socket.makeConnection(StringTransport())
    return socket


def test_a_new_socket_pretty_prints_nothing_while_debug_logging_is_off(pformat_calls, highlights):
    connected_socket()
    assert pformat_calls == [] and highlights == []


def test_a_frame_sent_or_read_highlights_nothing_while_debug_logging_is_off(highlights):
    socket = connected_socket()
    socket.sendData(b"\x81\x02hi")
    socket.dataReceived(b"GET / HTTP/1.1\r\n")
    assert socket.transport.value().endswith(b"\x81\x02hi")
    assert highlights == []


def test_a_highlighted_name_written_is_what_autobahn_writes():
    socket = connected_socket()
    assert f"{protocol.hltype(socket.sendData)}" == util.hltype(socket.sendData)
    assert "{v}".format(v=protocol.hlval(12, color="blue")) == util.hlval(12, color="blue")


def test_a_debug_line_written_shows_the_pretty_printed_value(pformat_calls):
    value = [("autoPingInterval", 0, "WebSocketServerFactory")]
    line = f"\n{protocol.pformat(value)}"
    assert line == "\n" + pprint.pformat(value)
    assert str(protocol.pformat(value)) == repr(protocol.pformat(value)) == pprint.pformat(value)


def test_timings_still_print_as_a_string():
    timings = protocol.Timings()
    timings.track("onOpen")
    assert isinstance(str(timings), str) and "onOpen" in str(timings)


def test_installing_twice_wraps_each_helper_once():
    installed = [getattr(protocol, name) for name in daphne_options.LOG_ONLY_HELPERS]
    daphne_options.format_debug_lines_lazily()
    assert [getattr(protocol, name) for name in daphne_options.LOG_ONLY_HELPERS] == installed
    assert protocol.hltype.args == (util.hltype,) and twisted_websocket.hltype.args == (util.hltype,)


CONTENT_TYPES = [b"application/json", b"application/json; charset=utf-8", b"Application/X-WWW-Form-URLencoded",
                 b"multipart/form-data; boundary=----x", b"text/plain;charset=latin-1", b"", b"nonsense"]


def test_a_content_type_parses_as_twisted_parses_it():
    plain = http._parseContentType.__wrapped__
    for value in CONTENT_TYPES:
        assert http._parseContentType(value) == plain(value), value


def test_a_content_type_seen_before_is_not_parsed_again():
    http._parseContentType.cache_clear()
    for _ in range(3):
        http._parseContentType(b"application/json")
    info = http._parseContentType.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    assert info.maxsize == daphne_options.CONTENT_TYPES_REMEMBERED


def test_installing_twice_keeps_one_cache():
    cached = http._parseContentType
    daphne_options.parse_content_types_once()
    assert http._parseContentType is cached

