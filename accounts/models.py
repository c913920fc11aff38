import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone


class User(AbstractUser):
    """A webox user. Email is unique so that it can identify an account."""

    email = models.EmailField("email address", unique=True)
    # Per-app settings that follow the user to any browser: {"chat": {...}} (chat/services/preferences.py).
    preferences = models.JSONField(default=dict, blank=True)
    # Staff can turn share links off for one user; WEBOX_SHARING=off turns them off for everyone.
    can_share = models.BooleanField(default=True, help_text="May create read-only share links.")

    objects = UserManager()

    REQUIRED_FIELDS = ["email"]


def _invitation_token() -> str:
    return secrets.token_urlsafe(24)


def _invitation_expiry():
    return timezone.now() + timedelta(days=INVITATION_DAYS)


INVITATION_DAYS = 14


class Invitation(models.Model):
    """A sign-up link made by staff, for ``WEBOX_SIGNUP=invite``: good for one account."""

    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    email = models.EmailField(blank=True, help_text="Only this address may use it; empty: whoever has the link.")
    note = models.CharField(max_length=200, blank=True, help_text="Who it is for (shown to staff only).")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    used_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation {self.email or self.note or self.pk}"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()
class UserLimits(models.Model):
    """A user's own limits, set by staff in the admin; an empty field means the site-wide default."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="limits")
    max_active_replies = models.PositiveIntegerField(
        null=True, blank=True, help_text="Replies generating at once (pending + streaming). Empty: the site default "
        "(WEBOX_MAX_ACTIVE_REPLIES); 0: no limit.")
    monthly_token_budget = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Prompt + completion tokens per calendar month (UTC). Empty: the site "
        "default (WEBOX_MONTHLY_TOKEN_BUDGET); 0: no limit.")
    monthly_cost_budget = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True, help_text="Known cost in USD per calendar month "
        "(UTC); replies with no known price count only against the token budget. Empty: the site default "
        "(WEBOX_MONTHLY_COST_BUDGET); 0: no limit.")

    class Meta:
        verbose_name = verbose_name_plural = "limits"

    def __str__(self) -> str:
        return f"limits of {self.user}"


class MonthlyUsage(models.Model):
    """Tokens and known cost of a user's replies in one calendar month (UTC), kept when conversations are deleted."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="monthly_usage")
    month = models.DateField(help_text="The first day of the month.")
    tokens = models.PositiveBigIntegerField(default=0)
    cost = models.DecimalField(max_digits=16, decimal_places=8, default=0, help_text="Known cost in USD.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "month"], name="usage_user_month")]
        verbose_name_plural = "monthly usage"

    def __str__(self) -> str:
        return f"{self.user} {self.month:%Y-%m}: {self.tokens} tokens"
