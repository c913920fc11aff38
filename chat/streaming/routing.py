"""What webox/asgi.py mounts: the conversation socket's URL, and the wrapper that notes the server's loop."""

from django.urls import re_path

from .consumers import ConversationConsumer
from .runners import remember_server_loop

websocket_urlpatterns = [
    re_path(r"^api/chat/ws/(?P<conversation_id>\d+)$", ConversationConsumer.as_asgi()),
]

__all__ = ["remember_server_loop", "websocket_urlpatterns"]
