from django.conf import settings
from django.db import models

# Provider records belong to the providers package; defined there, registered with this app.
from .attachments.models import Attachment, VisionModel  # noqa: F401
from .providers.models import Provider, ProviderKind  # noqa: F401
from .usage.models import ModelPrice  # noqa: F401


class ContextMode(models.TextChoices):
    OWN = "own", "Each provider sees its own earlier replies"
    CHOSEN = "chosen", "Every provider sees the chosen reply of each turn"


class Folder(models.Model):
    """A user's folder of conversations: one level; deleting it moves its conversations out."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="folders")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="folder_owner_name_unique")]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    folder = models.ForeignKey(Folder, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations")
    # Pinned conversations come first in the sidebar, most recently pinned first.
    pinned_at = models.DateTimeField(null=True, blank=True)
    # The branch on screen (chat/tree.py): the last user message of the active path. None: the newest turn.
    active_leaf = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=200, blank=True)
    system_prompt = models.TextField(blank=True)
    default_providers = models.JSONField(default=list, blank=True, help_text="Provider names picked by default.")
    default_models = models.JSONField(default=dict, blank=True, help_text="{provider: model}")
    default_params = models.JSONField(
        default=dict, blank=True, help_text="{temperature, max_tokens, provider_params: {provider: {...}}}"
    )
    default_columns = models.JSONField(
        default=list, blank=True,
        help_text="[{key, provider, model, temperature?, max_tokens?, system_prompt?}]: the columns picked by default.")
    context_mode = models.CharField(max_length=10, choices=ContextMode.choices, default=ContextMode.OWN)
    # A blind arena (chat/blinding.py): replies are "Model A, B, …" until their turn is voted on or revealed.
    blind = models.BooleanField(default=False)
    archived = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Last activity: moved forward by every message sent, so lists sort by it.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["owner", "archived", "-updated_at"], name="conv_owner_recent"),
            models.Index(fields=["created_at"], name="conv_created"),
        ]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"


class Role(models.TextChoices):
    USER = "user", "User"
    ASSISTANT = "assistant", "Assistant"
    SYSTEM = "system", "System"


class ReplyStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    STREAMING = "streaming", "Streaming"
    COMPLETE = "complete", "Complete"
    ERROR = "error", "Error"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (ReplyStatus.PENDING, ReplyStatus.STREAMING)


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField(blank=True)
    # Assistant replies only.
    provider = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=200, blank=True)
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies",
        help_text="The user message this reply answers.",
    )
    # User messages only: the turn this one follows (chat/tree.py). Siblings (same parent) are branches:
    # an edit adds a sibling. None: a first turn.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children",
        help_text="The user message (turn) this one follows; siblings are branches.",
    )
    # Assistant replies only: the column of its turn that wrote it; a later turn's column with the same
    # key continues its thread (chat/context.py). A reply from the short form has its provider's name.
    column = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=10, choices=ReplyStatus.choices, default=ReplyStatus.COMPLETE)
    error_code = models.CharField(max_length=40, blank=True)
    error_detail = models.TextField(blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    ttft_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Time to first token.")
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    finish_reason = models.CharField(max_length=40, blank=True)
    parameters = models.JSONField(default=dict, blank=True, help_text="temperature, max_tokens used.")
    chosen = models.BooleanField(default=False)
    # The stream seq that ``content`` includes up to (checkpoints and the final write).
    seq = models.PositiveIntegerField(default=0)
    # New at every claim (services.reply_start): names this run's state in the stream store.
    stream_id = models.CharField(max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Usage and cost, stored when the reply ends (chat/usage): None is "unknown", never 0.
    cost = models.DecimalField(max_digits=16, decimal_places=8, null=True, blank=True)
    cost_currency = models.CharField(max_length=3, blank=True)
    cost_estimated = models.BooleanField(default=False, help_text="The cost counts estimated tokens.")
    usage_estimated = models.BooleanField(
        default=False, help_text="Token counts estimated by webox, not sent by the provider."
    )
    tokens_per_second = models.FloatField(null=True, blank=True)
    # What the turn's estimate said this reply would cost, as it stood when the turn was sent
    # (chat/usage/estimate.py): shown next to the real cost.
    estimate = models.JSONField(null=True, blank=True)
    # A fused reply only (chat/services/fuse.py): {"sources": [reply ids], "prompt": the text it was sent}.
    fuse = models.JSONField(null=True, blank=True, help_text="A fused reply's sources and the prompt it was sent.")
    # Brought in by an import (chat/imports/): history shown in its conversation, never webox's own
    # measurement, so no usage figure (dashboard, /metrics, budgets) counts it.
    imported = models.BooleanField(default=False, help_text="Brought in by an import: shown, never counted.")
    # A reply of a blind turn: its letter in the turn's shuffled order ("A", "B", …), and when the turn
    # was revealed (by a vote or the reveal button); until then chat/blinding.py hides who wrote it.
    blind_label = models.CharField(max_length=2, blank=True)
    blind_revealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="msg_conv_created"),
            models.Index(fields=["status", "updated_at"], name="msg_status_updated"),
            models.Index(fields=["provider", "model", "created_at"], name="msg_provider_created"),
            models.Index(fields=["role", "created_at"], name="msg_role_created"),
            # Search results newest first, for words found in many messages (chat/search.py).
            models.Index(fields=["-created_at", "-id"], name="msg_created_desc"),
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.pk} ({self.provider or 'user'})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def stream_key(self) -> str | None:
        """This reply's name in the stream store; None until a worker has claimed it.

        Row ids repeat after a database restore (and across installations sharing a Redis
        prefix); the random part makes stream state impossible to mistake for another reply's.
        """
        return f"{self.pk}:{self.stream_id}" if self.stream_id else None


class VoteOutcome(models.TextChoices):
    BEST = "best", "One reply is the best"
    TIE = "tie", "A tie among several replies"
    ALL_BAD = "all_bad", "Every reply is bad"


class Vote(models.Model):
    """A user's verdict on one turn (chat/services/votes.py); the leaderboard's data (dashboard/leaderboard.py).

    ``replies`` records what was judged, as it was when the vote was cast: every finished reply of the
    turn with its provider and model (``[{"id", "provider", "model"}]``); ``winners`` are ids among them.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="votes")
    turn = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="vote",
                                help_text="The user message whose replies were judged.")
    outcome = models.CharField(max_length=10, choices=VoteOutcome.choices)
    winners = models.JSONField(default=list, blank=True)
    replies = models.JSONField(default=list, blank=True)
    blind = models.BooleanField(default=False, help_text="Cast in a blind turn.")
    revealed_before = models.BooleanField(
        default=False, help_text="A blind turn revealed before this vote: the leaderboard counts it apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "updated_at"], name="vote_user_updated"),
            models.Index(fields=["updated_at"], name="vote_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} on turn {self.turn_id}"


class Share(models.Model):
    """A read-only link to a conversation as it was when shared: the path to ``leaf`` (chat/sharing/).

    Only messages created up to ``created_at`` are shown; deleting the row revokes the link.
    """

    token = models.CharField(max_length=64, unique=True, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="shares")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares")
    leaf = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+",
                             help_text="The last user message shared: the branch is the path to it.")
    show_details = models.BooleanField(default=False, help_text="Show models, usage and costs.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"share of {self.conversation_id}"
