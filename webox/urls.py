from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from dashboard import ops_views

from . import health, metrics, views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("healthz/live", health.live, name="healthz-live"),
    path("healthz/ready", health.ready, name="healthz-ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/auth/", include("accounts.api_urls")),
    path("api/chat/", include("chat.api_urls")),
    path("api/ops/status", ops_views.OpsStatusApi.as_view(), name="api-ops-status"),
    path("api/ops/replies/<int:reply_id>/end", ops_views.OpsEndReplyApi.as_view(), name="api-ops-end-reply"),
    path("api/ops/workers/drain", ops_views.OpsDrainApi.as_view(), name="api-ops-drain"),
    path("api/ops/workers/resume", ops_views.OpsResumeApi.as_view(), name="api-ops-resume"),
    path("api/dashboard/", include("dashboard.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up code as a script file (?script), not inline,
    # so the page works under a CSP of script-src 'self'.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema",
                                                          template_name="api_docs/swagger_ui.html"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema", template_name="api_docs/redoc.html"),
         name="api-redoc"),
    path("dashboard/", include("dashboard.urls")),
    path("", include("chat.urls")),
]
