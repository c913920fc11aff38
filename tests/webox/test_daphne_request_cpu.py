"""daphne's per-request CPU trims (webox/daphne_options.py): autobahn's debug strings are made only when a
debug line is written, and twisted's ``Content-Type`` parse is remembered per header value."""

import pprint

import pytest
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


def connected_socket() -> WebSocketServerProtocol:
    socket = WebSocketServerProtocol()
    socket.factory = WebSocketServerFactory()
    socket.makeConnection(StringTransport())
    return socket


def test_a_new_socket_pretty_prints_nothing_while_debug_logging_is_off(pformat_calls):
    connected_socket()
    assert pformat_calls == []


def test_a_debug_line_written_shows_the_pretty_printed_value(pformat_calls):
    value = [("autoPingInterval", 0, "WebSocketServerFactory")]
    line = f"\n{protocol.pformat(value)}"
    assert line == "\n" + pprint.pformat(value)
    assert str(protocol.pformat(value)) == repr(protocol.pformat(value)) == pprint.pformat(value)


def test_timings_still_print_as_a_string():
    timings = protocol.Timings()
    timings.track("onOpen")
    assert isinstance(str(timings), str) and "onOpen" in str(timings)


def test_installing_twice_keeps_one_lazy_pformat():
    daphne_options.format_handshake_debug_lazily()
    assert protocol.pformat is daphne_options._PrettyWhenFormatted


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

