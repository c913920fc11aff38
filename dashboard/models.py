"""The daily rollup of ended replies the dashboard reads instead of every reply (docs/dashboard.md).

Two tables with the same figures: one for the whole site, one per user. A row adds up the
ended assistant replies asked on one day (UTC) of one provider, model, cost currency and —
for errors — error code. Database triggers on ``chat_message`` keep both exact in the same
statement as every write to a reply (dashboard/rollup.py), so no code path can forget them.
"""

from django.conf import settings
from django.db import models


class UsageFigures(models.Model):
    day = models.DateField(help_text="The day the replies were asked (UTC).")
    provider = models.CharField(max_length=100)
    model = models.CharField(max_length=200)
    cost_currency = models.CharField(max_length=3, blank=True, help_text="Empty: replies with no known price.")
    error_code = models.CharField(max_length=40, blank=True, help_text="The code of the errors; empty otherwise.")
    replies = models.IntegerField(default=0)
    errors = models.IntegerField(default=0)
    cancelled = models.IntegerField(default=0)
    estimated = models.IntegerField(default=0, help_text="Replies whose token counts webox estimated.")
    priced = models.IntegerField(default=0, help_text="Replies with a known cost.")
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    # Hundred-millionths (Message.cost keeps 8 places): integer sums are exact on every database.
    cost_units = models.BigIntegerField(default=0)
    # New at every change of the row, from a counter that only goes up (dashboard/rollup.py): the rows
    # of a period and the sum of their versions tell whether any of its replies changed, which is
    # what remembered percentiles are keyed by (dashboard/selectors.py).
    version = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


KEY = ["day", "provider", "model", "cost_currency", "error_code"]


class DailyUsage(UsageFigures):
    """The whole site's replies (the staff view)."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=KEY, name="dailyusage_key")]
        # Not about this table: the ops page has no model, and a permission needs one. Staff read
        # the ops page; only those given this (and superusers) act on workers and replies there.
        permissions = [("operate", "Can drain and resume workers and end stuck replies (ops page)")]

    def __str__(self) -> str:
        return f"{self.day} {self.provider}/{self.model}: {self.replies} replies"


class UserDailyUsage(UsageFigures):
    """One user's replies (the owner of their conversation)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", *KEY], name="userdailyusage_key")]
        indexes = [models.Index(fields=["day"], name="userdailyusage_day")]

    def __str__(self) -> str:
        return f"{self.day} user {self.owner_id} {self.provider}/{self.model}: {self.replies} replies"
