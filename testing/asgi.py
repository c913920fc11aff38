"""Driving an ASGI HTTP app in a test: what it answers to one request."""

from __future__ import annotations


async def asgi_response(communicator, timeout: float = 10) -> tuple[dict, bytes]:
    """Send ``communicator``'s app an empty request body; its ``http.response.start`` message and the
    whole body it sent, once the app is done."""
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(timeout)
    body = b""
    while True:
        message = await communicator.receive_output(timeout)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(timeout)
    return start, body
