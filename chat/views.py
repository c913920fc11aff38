"""The chat page. Its data comes from the REST API and the WebSocket; these views serve the shell."""

from functools import lru_cache

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from pygments.formatters import HtmlFormatter

from .rendering import highlight_css
from .selectors import ConversationNotFound, conversation_get_for_user
from .services.inputs import MAX_MESSAGE_CHARS
from .sharing.selectors import sharing_allowed

DARK_CODE_STYLE = "github-dark"


@login_required
@require_GET
def home(request):
    return render(request, "chat/home.html", _page_context(request, None))


@login_required
@require_GET
def conversation(request, conversation_id: int):
    """The same page, opened on one conversation (the script loads its messages)."""
    try:
        found = conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    except ConversationNotFound:
        raise Http404("No such conversation.") from None
    return render(request, "chat/home.html", _page_context(request, found))


def _page_context(request, conversation) -> dict:
    # The composer counts toward the server's limit and says it in words before anything is sent.
    return {"conversation": conversation, "max_message_chars": MAX_MESSAGE_CHARS,
            "sharing": sharing_allowed(request.user)}


@lru_cache(maxsize=1)
def _code_css() -> str:
    dark = HtmlFormatter(style=DARK_CODE_STYLE, classstyle=True).get_style_defs(".md pre code")
    return f"{highlight_css()}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


@require_GET
def code_css(request):
    """Colours for highlighted code in replies, light and dark, from Pygments."""
    response = HttpResponse(_code_css(), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
