from django.urls import path

from . import api

urlpatterns = [
    path("summary", api.SummaryApi.as_view(), name="api-dashboard-summary"),
    path("models", api.ModelsApi.as_view(), name="api-dashboard-models"),
    path("daily", api.DailyApi.as_view(), name="api-dashboard-daily"),
    path("leaderboard", api.LeaderboardApi.as_view(), name="api-dashboard-leaderboard"),
    path("users", api.UsersApi.as_view(), name="api-dashboard-users"),
]
