import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webox.settings")

from webox.http_handler import get_asgi_application  # noqa: E402

# Requests run their middleware and view in one thread hop (webox/http_handler.py).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from chat.streaming.routing import (  # noqa: E402
    SessionUnlessBearer,
    end_replies_with_server,
    remember_server_loop,
    websocket_urlpatterns,
)

from .collector import freeze_long_lived  # noqa: E402
from .daphne_options import (  # noqa: E402
    close_oversized_messages_with_1009,
    close_slow_readers,
    format_debug_lines_lazily,
    listen_with_backlog,
    parse_content_types_once,
)

close_oversized_messages_with_1009()
format_debug_lines_lazily()
parse_content_types_once()
close_slow_readers(settings.WEBOX_WS_MAX_PENDING_BYTES)
listen_with_backlog(settings.WEBOX_LISTEN_BACKLOG)
end_replies_with_server()

application = remember_server_loop(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(SessionUnlessBearer(URLRouter(websocket_urlpatterns))),
        }
    )
)

# What the first request would import (every view, serializer and URL pattern) is imported now, and all
# of it is put out of the garbage collector's full collections, which would stop the loop (webox/collector.py).
get_resolver().url_patterns  # noqa: B018
freeze_long_lived(collect_first=True)
