"""Channels' session and auth middleware wrap the sockets that use a session, not those opened with a bearer token."""

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from chat.streaming.routing import SessionUnlessBearer

pytestmark = pytest.mark.django_db(transaction=True)


def scope_seen_by_the_socket(headers, subprotocols):
    seen = {}

    async def socket(scope, receive, send):
        seen.update(scope)

    app = SessionUnlessBearer(socket)
    return app({"type": "websocket", "path": "/api/chat/ws/1", "headers": headers, "subprotocols": subprotocols},
               None, None), seen


async def test_a_bearer_socket_reaches_the_consumer_without_a_session_or_user_read():
    call, seen = scope_seen_by_the_socket([(b"cookie", b"sessionid=whatever")], ["webox.bearer", "a.token"])
    await call
    assert "session" not in seen and "user" not in seen and "cookies" not in seen


async def test_a_browser_socket_still_gets_its_session_and_user(user):
    browser = Client()
    await sync_to_async(browser.force_login)(user)
    cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()
    call, seen = scope_seen_by_the_socket([(b"cookie", cookie)], [])
    await call
    assert seen["session"].session_key == browser.cookies["sessionid"].value
    assert seen["user"].pk == user.pk


async def test_a_socket_without_credentials_gets_the_anonymous_user():
    call, seen = scope_seen_by_the_socket([], [])
    await call
    assert isinstance(seen["user"]._wrapped, AnonymousUser)
