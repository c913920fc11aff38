"""Bad frames, limits and revoked users on the conversation socket: an error frame or a close, never a crash."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model

from chat.models import ACTIVE_STATUSES, Message
from chat.services import conversation_create

from .conftest import connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_runner")]


@pytest.fixture(autouse=True)
def fast_demo(settings):
    settings.WEBOX_DEMO_DELAY_MS = 1


@pytest.fixture
def conversation(user):
    return conversation_create(owner=user, title="frames")


async def receive(comm, kind):
    """The next event of type ``kind``, skipping the stream of a turn that was accepted."""
    while True:
        event = await comm.receive_json_from(timeout=10)
        if event["type"] == kind:
            return event


async def replies_ended(conversation, timeout: float = 20) -> None:
    """Until no reply of ``conversation`` is generating: a reply started outside the test's loop
    (a REST send before any socket) still writes when the test ends, and the database's flush at
    teardown then deadlocked with its end."""
    deadline = asyncio.get_running_loop().time() + timeout
    while await Message.objects.filter(conversation=conversation, status__in=ACTIVE_STATUSES).aexists():
        assert asyncio.get_running_loop().time() < deadline, "replies still generating"
        await asyncio.sleep(0.05)


async def still_open(comm):
    await comm.send_json_to({"type": "resync"})
    assert (await receive(comm, "snapshot"))["type"] == "snapshot"


@pytest.mark.parametrize("frame", [
    {"message": "a\ud800b"},
    {"message": "fine", "system_prompt": "a\ud800b"},
    {"message": "a\x00b"},
    {"message": "fine", "system_prompt": "a\x00b"},
])
async def test_text_no_database_can_store_gets_an_error_frame_and_stores_nothing(user, conversation, frame):
    comm = await connect(user, conversation.pk)
    await receive(comm, "snapshot")
    # json.dumps escapes the surrogate and the NUL (\ud800, \u0000), as a browser's JSON.stringify does.
    await comm.send_to(text_data=json.dumps({"type": "send", "selected_providers": ["demo"], **frame}))
    error = await receive(comm, "error")
    assert error["code"] == "invalid" and error["detail"]
    await still_open(comm)
    assert not await Message.objects.filter(conversation=conversation).aexists()
    await comm.disconnect()


async def test_a_deeply_nested_frame_gets_an_error_frame(user, conversation):
    comm = await connect(user, conversation.pk)
    await receive(comm, "snapshot")
    await comm.send_to(text_data="[" * 100_000)
    assert (await receive(comm, "error"))["code"] == "bad_frame"
    await still_open(comm)
    await comm.disconnect()


async def test_a_frame_over_the_limit_gets_an_error_frame_and_is_not_read(user, conversation, settings):
    settings.WEBOX_WS_MAX_FRAME_BYTES = 1000
    comm = await connect(user, conversation.pk)
    await receive(comm, "snapshot")
    await comm.send_json_to({"type": "send", "message": "é" * 600, "selected_providers": ["demo"]})
    error = await receive(comm, "error")
    assert error["code"] == "too_big" and "1000 bytes" in error["detail"]
    await still_open(comm)
    assert not await Message.objects.filter(conversation=conversation).aexists()
    await comm.disconnect()


async def test_sends_over_the_rate_are_refused_counting_rest_and_socket_together(user, conversation, settings):
    from rest_framework.test import APIClient

    settings.WEBOX_SEND_RATE = "2/60"
    client = APIClient()
    client.force_authenticate(user)
    rest = await sync_to_async(client.post)("/api/chat/send", {"conversation_id": conversation.pk, "message": "one",
                                                               "selected_providers": ["demo"]}, format="json")
    assert rest.status_code == 202
    comm = await connect(user, conversation.pk)
    await receive(comm, "snapshot")
    await comm.send_json_to({"type": "send", "message": "two", "selected_providers": ["demo"]})
    await receive(comm, "message.created")
    await comm.send_json_to({"type": "send", "message": "three", "selected_providers": ["demo"]})
    error = await receive(comm, "error")
    assert error["code"] == "rate_limited" and 0 < error["retry_after"] <= 60
    third = await sync_to_async(client.post)("/api/chat/send", {"conversation_id": conversation.pk, "message": "3",
                                                                "selected_providers": ["demo"]}, format="json")
    assert third.status_code == 429 and 0 < int(third["Retry-After"]) <= 60
    contents = [m async for m in Message.objects.filter(conversation=conversation, role="user")
                .values_list("content", flat=True)]
    assert sorted(contents) == ["one", "two"]
    await replies_ended(conversation)
    await comm.disconnect()


def deactivate(user):
    user.is_active = False
    user.save()


def change_password(user):
    user.set_password("a-brand-new-password-7")
    user.save()


def delete(user):
    user.delete()


@pytest.mark.parametrize("revoke", [deactivate, change_password, delete])
async def test_a_revoked_user_loses_every_open_socket_at_once(user, revoke):
    conversations = [await sync_to_async(conversation_create)(owner=user) for _ in range(2)]
    sockets = [await connect(user, c.pk) for c in conversations]
    for comm in sockets:
        await receive(comm, "snapshot")
    fresh = await get_user_model().objects.aget(pk=user.pk)
    await sync_to_async(revoke)(fresh)
    for comm in sockets:
        assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


async def test_every_frame_rechecks_the_user_even_without_the_signal(user, conversation):
    comm = await connect(user, conversation.pk)
    await receive(comm, "snapshot")
    # A bulk update sends no signal (as a change made straight in the database).
    await get_user_model().objects.filter(pk=user.pk).aupdate(is_active=False)
    await comm.send_json_to({"type": "send", "message": "still here?", "selected_providers": ["demo"]})
    assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
    assert not await Message.objects.filter(conversation=conversation).aexists()


def test_a_message_over_daphnes_limit_closes_the_socket_with_1009_not_a_drop(tmp_path):
    """Through a real daphne: the frame never reaches webox, and the client is told why (1009)."""
    import asyncio
    import os
    import sys

    import websockets

    from testing.processes import Process, free_port, wait_for_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(WEBOX_VAR_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    args = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
            "--websocket-max-message-size", "65536", "webox.asgi:application"]
    daphne = Process(args, env, tmp_path / "daphne.log")
    try:
        wait_for_port(port, daphne)

        async def send_too_much():
            async with websockets.connect(f"ws://127.0.0.1:{port}/api/chat/ws/0", origin=f"http://127.0.0.1:{port}",
                                          max_size=None) as ws:
                await ws.send("x" * 100_000)
                with pytest.raises(websockets.ConnectionClosedError):
                    await asyncio.wait_for(ws.recv(), 10)
                return ws.close_code, ws.close_reason

        code, reason = asyncio.run(send_too_much())
    finally:
        daphne.stop()
    assert code == 1009 and "exceeds payload limit" in reason
