"""What webox/asgi.py mounts: the conversation socket's URL, its session middleware (for the sockets that use a
session), the wrapper that notes the server's loop, and the embedded server's start and stop hooks
(chat/streaming/lifecycle.py)."""

from django.urls import re_path

from .consumers import ConversationConsumer
from .lifecycle import end_replies_with_server
from .runners import remember_server_loop
from .socket_auth import SessionUnlessBearer

websocket_urlpatterns = [
    re_path(r"^api/chat/ws/(?P<conversation_id>\d+)$", ConversationConsumer.as_asgi()),
]

__all__ = ["SessionUnlessBearer", "end_replies_with_server", "remember_server_loop", "websocket_urlpatterns"]
