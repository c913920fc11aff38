from django.db.models import Avg, Count, Q, Sum

from chat.models import Message, Role


def usage_by_provider_for_user(*, user) -> list[dict]:
    """Per provider and model: replies, tokens, mean time to first token and duration, errors."""
    return list(
        Message.objects.filter(conversation__owner=user, role=Role.ASSISTANT)
        .values("provider", "model")
        .annotate(
            replies=Count("id"),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            avg_ttft_ms=Avg("ttft_ms"),
            avg_duration_ms=Avg("duration_ms"),
            errors=Count("id", filter=Q(status="error")),
        )
        .order_by("provider", "model")
    )
