"""daphne holds at most WEBOX_WS_MAX_PENDING_BYTES of output for a client that does not read, then
closes its socket with 4008 (webox/daphne_options.py). With a real daphne:
tests/streaming/test_socket_slow_reader.py."""

from types import SimpleNamespace

import pytest
from twisted.internet.abstract import FileDescriptor

from webox.daphne_options import CLOSE_SLOW_READER, close_slow_readers, pending_output_bytes


class Reactor:
    """Enough of a reactor for a transport; ``end_turn`` runs what was asked for the next turn."""

    def __init__(self):
        self.next_turn = []

    def addWriter(self, writer):  # noqa: N802 - twisted's name
        pass

    def removeWriter(self, writer):  # noqa: N802 - twisted's name
        pass

    def callLater(self, delay, func, *args):  # noqa: N802 - twisted's name
        self.next_turn.append((func, args))

    def end_turn(self):
        calls, self.next_turn = self.next_turn, []
        for func, args in calls:
            func(*args)


class Connection(FileDescriptor):
    """A twisted transport whose kernel takes at most ``takes`` bytes a write."""

    def __init__(self, takes: int):
        super().__init__(reactor=Reactor())
        self.connected = 1
        self.takes = takes

    def writeSomeData(self, data):  # noqa: N802 - twisted's name
        return min(len(data), self.takes)


def test_pending_output_bytes_reads_twisteds_write_buffer():
    transport = Connection(takes=100)
    transport.write(b"x" * 1000)
    assert pending_output_bytes(transport) == 1000
    transport.doWrite()
    assert pending_output_bytes(transport) == 900
    transport.write(b"y" * 24)
    assert pending_output_bytes(transport) == 924
    # Through a wrapping transport (TLS, policies) to the socket's.
    assert pending_output_bytes(SimpleNamespace(transport=transport)) == 924
    assert pending_output_bytes(SimpleNamespace()) is None


class Protocol:
    """Stands in for daphne's WebSocketProtocol over a client that reads nothing: records what it
    sends (as autobahn does, onto the transport) and how it closes."""

    STATE_CONNECTING, STATE_OPEN = 0, 1

    def __init__(self):
        self.transport = Connection(takes=0)
        self.state = self.STATE_OPEN
        self.client_addr = ("127.0.0.1", 50000)
        self.sent: list[bytes] = []
        self.closed_with = None

    def sendMessage(self, payload, binary):  # noqa: N802 - autobahn's name
        self.sent.append(payload)
        self.transport.write(payload)

    def serverClose(self, code=None):  # noqa: N802 - daphne's name
        self.closed_with = code


@pytest.fixture
def bounded(settings):
    from daphne.ws_protocol import WebSocketProtocol

    close_slow_readers(1000)
    yield WebSocketProtocol.serverSend
    close_slow_readers(settings.WEBOX_WS_MAX_PENDING_BYTES)


def test_messages_of_one_turn_go_out_whatever_their_size(bounded):
    protocol = Protocol()
    for _ in range(3):
        bounded(protocol, "x" * 5000)
    assert len(protocol.sent) == 3 and protocol.closed_with is None


def test_output_left_from_an_earlier_turn_over_the_bound_closes_with_4008_and_nothing_more_is_sent(bounded):
    protocol = Protocol()
    bounded(protocol, "x" * 1000)
    protocol.transport.reactor.end_turn()
    bounded(protocol, "under the bound: still sent")
    protocol.transport.reactor.end_turn()
    bounded(protocol, "late")
    bounded(protocol, "later")
    assert protocol.sent == [b"x" * 1000, b"under the bound: still sent"]
    assert protocol.closed_with == CLOSE_SLOW_READER == 4008
