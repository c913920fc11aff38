from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from dashboard import ops_views

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("healthz/live", health.live, name="healthz-live"),
    path("healthz/ready", health.ready, name="healthz-ready"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/auth/", include("accounts.api_urls")),
    path("api/chat/", include("chat.api_urls")),
    path("api/ops/status", ops_views.OpsStatusApi.as_view(), name="api-ops-status"),
    path("api/ops/replies/<int:reply_id>/end", ops_views.OpsEndReplyApi.as_view(), name="api-ops-end-reply"),
    path("api/ops/workers/drain", ops_views.OpsDrainApi.as_view(), name="api-ops-drain"),
    path("api/ops/workers/resume", ops_views.OpsResumeApi.as_view(), name="api-ops-resume"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("dashboard/", include("dashboard.urls")),
    path("", include("chat.urls")),
]
