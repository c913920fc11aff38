from django.urls import include, path

from . import views
from .ops.urls import page_urlpatterns as ops_page_urlpatterns

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("ops/", include(ops_page_urlpatterns)),
    path("leaderboard/", views.leaderboard_page, name="leaderboard"),
    path("models.csv", views.models_csv, name="models-csv"),
    path("daily.csv", views.daily_csv, name="daily-csv"),
]
