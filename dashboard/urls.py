from django.urls import path

from . import ops_views, views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("ops/", ops_views.ops_page, name="ops"),
    path("ops/replies/<int:reply_id>/end", ops_views.end_stuck_reply, name="ops-end-reply"),
    path("ops/workers/drain", ops_views.drain_worker, name="ops-drain"),
    path("ops/workers/resume", ops_views.resume_worker, name="ops-resume"),
    path("models.csv", views.models_csv, name="models-csv"),
    path("daily.csv", views.daily_csv, name="daily-csv"),
]
