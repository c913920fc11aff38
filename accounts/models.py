from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class User(AbstractUser):
    """A webox user. Email is unique so that it can identify an account."""

    email = models.EmailField("email address", unique=True)
    # Per-app settings that follow the user to any browser: {"chat": {...}} (chat/services.py).
    preferences = models.JSONField(default=dict, blank=True)

    objects = UserManager()

    REQUIRED_FIELDS = ["email"]
