"""The public page of a link (no login) and the owner's page of their links (with Revoke)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from .page import shared_page
from .selectors import ShareNotFound, share_get_for_user, share_get_public, share_list_for_user, sharing_allowed
from .services import share_revoke


@require_GET
def shared(request, token: str):
    """A conversation's branch as it was shared, rendered here: the page runs no script."""
    share = share_get_public(token=token)
    if share is None:
        raise Http404("No such link.")
    response = render(request, "chat/shared.html", shared_page(share))
    response["X-Robots-Tag"] = "noindex, nofollow"
    # The token is the only key: no cache keeps the page past a revoke, no Referer carries it away.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_GET
def shares(request):
    return render(request, "chat/shares.html", {
        "shares": share_list_for_user(user=request.user), "sharing": sharing_allowed(request.user)})


@login_required
@require_POST
def share_revoke_view(request, token: str):
    try:
        share = share_get_for_user(user=request.user, token=token)
    except ShareNotFound:
        raise Http404("No such link.") from None
    share_revoke(share=share)
    return redirect("chat:shares")
