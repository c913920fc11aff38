from django.urls import path
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from . import api

urlpatterns = [
    path("register", api.RegisterApi.as_view(), name="api-register"),
    path("token", TokenObtainPairView.as_view(), name="api-token"),
    path("token/refresh", TokenRefreshView.as_view(), name="api-token-refresh"),
    path("me", api.MeApi.as_view(), name="api-me"),
]
