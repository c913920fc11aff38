"""The routes of operations, in two lists because they sit under two prefixes.

``urlpatterns`` is included at the site's root (webox/urls.py): the probes, ``/metrics`` and the
JSON API ``/api/ops/``. ``page_urlpatterns`` is included under ``/dashboard/ops/`` by
dashboard/urls.py, inside the ``dashboard`` namespace (``dashboard:ops``, ``dashboard:ops-drain``…).
"""

from django.urls import path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("healthz/live", views.live, name="healthz-live"),
    path("healthz/ready", views.ready, name="healthz-ready"),
    path("metrics", views.metrics, name="metrics"),
    path("api/ops/status", views.OpsStatusApi.as_view(), name="api-ops-status"),
    path("api/ops/replies/<int:reply_id>/end", views.OpsEndReplyApi.as_view(), name="api-ops-end-reply"),
    path("api/ops/workers/drain", views.OpsDrainApi.as_view(), name="api-ops-drain"),
    path("api/ops/workers/resume", views.OpsResumeApi.as_view(), name="api-ops-resume"),
]

page_urlpatterns = [
    path("", views.ops_page, name="ops"),
    path("replies/<int:reply_id>/end", views.end_stuck_reply, name="ops-end-reply"),
    path("workers/drain", views.drain_worker, name="ops-drain"),
    path("workers/resume", views.resume_worker, name="ops-resume"),
]
