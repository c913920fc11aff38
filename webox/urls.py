from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from accounts import views as accounts_views

from . import views
from .api_root import ApiRootView

urlpatterns = [
    # /healthz, /healthz/live, /healthz/ready, /metrics and /api/ops/*
    path("", include("dashboard.ops.urls")),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/login/", accounts_views.admin_login),  # before the admin's own: limited log-ins
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/", ApiRootView.as_view(), name="api-root"),
    path("api/auth/", include("accounts.api_urls")),
    path("api/chat/", include("chat.api_urls")),
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
