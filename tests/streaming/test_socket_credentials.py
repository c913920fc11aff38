"""A socket lives no longer than what it was opened with: its session (log-out, expiry) or its JWT."""

import asyncio
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from chat.services import conversation_create

from .conftest import connect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def conversation(user):
    return conversation_create(owner=user, title="credentials")


def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def session_socket(client: Client, conversation_id: int):
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    comm = await connect(None, conversation_id, headers=[(b"origin", b"http://localhost"), (b"cookie", cookie)])
    assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"
    return comm


async def closed_with(comm, timeout: float = 10) -> int:
    output = await comm.receive_output(timeout=timeout)
    assert output["type"] == "websocket.close", output
    return output["code"]


async def test_log_out_closes_the_sockets_of_that_session_4401(user, conversation):
    browser, other_browser = await sync_to_async(logged_in_client)(user), await sync_to_async(logged_in_client)(user)
    comm = await session_socket(browser, conversation.pk)
    other = await session_socket(other_browser, conversation.pk)
    response = await sync_to_async(browser.post)("/accounts/logout/")
    assert response.status_code == 302
    assert await closed_with(comm) == 4401
    # The same user's socket of another session stays open.
    await other.send_json_to({"type": "resync"})
    assert (await other.receive_json_from(timeout=5))["type"] == "snapshot"
    await other.disconnect()


async def test_a_session_socket_closes_once_its_session_is_gone(user, conversation, settings):
    settings.WEBOX_WS_SESSION_CHECK_SECONDS = 0.2
    browser = await sync_to_async(logged_in_client)(user)
    comm = await session_socket(browser, conversation.pk)
    await asyncio.sleep(0.5)
    await comm.send_json_to({"type": "resync"})
    assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"  # still valid: still open
    await sync_to_async(SessionStore(session_key=browser.cookies["sessionid"].value).delete)()  # as expiry does
    assert await closed_with(comm, timeout=5) == 4401


def short_token(user, seconds: float) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=seconds))
    return str(token)


async def test_a_jwt_socket_closes_when_its_token_expires_4401(user, conversation):
    issued = time.monotonic()
    token = await sync_to_async(short_token)(user, 2)
    comm = await connect(None, conversation.pk, subprotocols=["webox.bearer", token])
    assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"
    assert await closed_with(comm, timeout=10) == 4401
    # Counted from the token's issue, not the snapshot (a busy machine may take a second to connect): not
    # before its expiry (whole seconds in the JWT, so at least 1 s), and soon after it.
    assert 1 <= time.monotonic() - issued <= 7


async def test_a_socket_authenticated_by_frame_closes_when_its_token_expires_4401(user, conversation):
    token = await sync_to_async(short_token)(user, 2)
    comm = await connect(None, conversation.pk)
    await comm.send_json_to({"type": "auth", "token": token})
    assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"
    assert await closed_with(comm, timeout=10) == 4401
