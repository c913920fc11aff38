from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class User(AbstractUser):
    """A webox user. Email is unique so that it can identify an account."""

    email = models.EmailField("email address", unique=True)

    objects = UserManager()

    REQUIRED_FIELDS = ["email"]


class UserLimits(models.Model):
    """A user's own limits, set by staff in the admin; an empty field means the site-wide default."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="limits")
    max_active_replies = models.PositiveIntegerField(
        null=True, blank=True, help_text="Replies generating at once (pending + streaming). Empty: the site default "
        "(WEBOX_MAX_ACTIVE_REPLIES); 0: no limit.")
    monthly_token_budget = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Prompt + completion tokens per calendar month (UTC). Empty: the site "
        "default (WEBOX_MONTHLY_TOKEN_BUDGET); 0: no limit.")

    class Meta:
        verbose_name = verbose_name_plural = "limits"

    def __str__(self) -> str:
        return f"limits of {self.user}"


class MonthlyUsage(models.Model):
    """Tokens a user's replies used in one calendar month (UTC), kept when conversations are deleted."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="monthly_usage")
    month = models.DateField(help_text="The first day of the month.")
    tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "month"], name="usage_user_month")]
        verbose_name_plural = "monthly usage"

    def __str__(self) -> str:
        return f"{self.user} {self.month:%Y-%m}: {self.tokens} tokens"
