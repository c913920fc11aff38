from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("models.csv", views.models_csv, name="models-csv"),
    path("daily.csv", views.daily_csv, name="daily-csv"),
]
