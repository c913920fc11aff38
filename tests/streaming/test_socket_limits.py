"""What one socket may cost: frames over the per-socket limits get ``rate_limited``, then a close (4429)."""

import asyncio
import json

import pytest

from chat.services import conversation_create

from .conftest import connect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def conversation(user):
    return conversation_create(owner=user, title="limits")


async def read_until_closed(comm, timeout: float = 30) -> tuple[list[dict], int]:
    """Every event until the server closes the socket, and the close code."""
    received = []
    async with asyncio.timeout(timeout):
        while True:
            output = await comm.receive_output(timeout=timeout)
            if output["type"] == "websocket.close":
                return received, output["code"]
            received.append(json.loads(output["text"]))


async def test_resync_flood_is_rate_limited_then_closed_4429(user, conversation, settings):
    comm = await connect(user, conversation.pk)
    assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"
    for _ in range(1000):
        await comm.send_json_to({"type": "resync"})
    received, code = await read_until_closed(comm)
    assert code == 4429
    snapshots = [e for e in received if e["type"] == "snapshot"]
    limited = [e for e in received if e["type"] == "error"]
    # The resync bucket lets its 20 through; the rest are answered with rate_limited until the close.
    assert len(snapshots) == 20
    assert limited and all(e["code"] == "rate_limited" and e["retry_after"] >= 1 for e in limited)
    assert len(received) < 1000


async def test_flood_of_any_frame_is_closed_4429(user, conversation, settings):
    settings.WEBOX_WS_FRAME_RATE = "50/60"
    settings.WEBOX_WS_FRAMES_OVER_LIMIT = 5
    comm = await connect(user, conversation.pk)
    assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"
    for _ in range(1000):
        await comm.send_to(text_data="not json")
    received, code = await read_until_closed(comm)
    assert code == 4429
    codes = [e["code"] for e in received]
    # 50 at once (a slow machine may refill one more meanwhile), then 5 over the limit, then the close.
    assert codes[-5:] == ["rate_limited"] * 5 and set(codes[:-5]) == {"bad_frame"} and 50 <= len(codes) - 5 <= 52


async def test_a_socket_under_the_limits_keeps_working_beside_a_flood(user, conversation, settings):
    settings.WEBOX_WS_RESYNC_RATE = "5/60"
    flood = await connect(user, conversation.pk)
    calm = await connect(user, conversation.pk)
    for comm in (flood, calm):
        assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"
    for _ in range(200):
        await flood.send_json_to({"type": "resync"})
    _, code = await read_until_closed(flood)
    assert code == 4429
    for _ in range(5):
        await calm.send_json_to({"type": "resync"})
        assert (await calm.receive_json_from(timeout=5))["type"] == "snapshot"
    await calm.disconnect()


async def test_frames_over_the_limit_answer_with_retry_after_and_the_socket_stays_open(user, conversation, settings):
    settings.WEBOX_WS_RESYNC_RATE = "2/60"
    comm = await connect(user, conversation.pk)
    assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"
    for _ in range(3):
        await comm.send_json_to({"type": "resync"})
    assert [(await comm.receive_json_from(timeout=5))["type"] for _ in range(2)] == ["snapshot", "snapshot"]
    limited = await comm.receive_json_from(timeout=5)
    assert limited == {"type": "error", "code": "rate_limited", "retry_after": 30,
                       "detail": "Too many frames. Try again in 30 seconds."}
    await comm.send_json_to({"type": "hello"})  # other frames still pass
    assert (await comm.receive_json_from(timeout=5))["code"] == "unknown_type"
    await comm.disconnect()
