"""Site-wide views that belong to no app."""

from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe


@require_safe
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for ``/favicon.ico`` whatever a page links: send them to the SVG icon.

    A temporary redirect, cached for a day: the static URL changes when the file does.
    """
    response = HttpResponseRedirect(static("webox/favicon.svg"))
    patch_cache_control(response, public=True, max_age=86400)
    return response
