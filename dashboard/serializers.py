"""Output shapes of the dashboard API, for the OpenAPI schema (values come from dashboard/selectors.py)."""

from rest_framework import serializers


def _cost_map(help_text: str):
    return serializers.DictField(child=serializers.CharField(), help_text=help_text)


class PeriodSerializer(serializers.Serializer):
    from_ = serializers.DateField()
    to = serializers.DateField()
    days = serializers.IntegerField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class FigureSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True, help_text="Relative change (0.25 = +25 %); for error_rate the "
                                                                "difference of the rates. null: nothing to compare.")


class CostFigureSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="Decimal string.")
    previous = serializers.CharField()
    change = serializers.FloatField(allow_null=True)


class TotalsSerializer(serializers.Serializer):
    replies = FigureSerializer()
    prompt_tokens = FigureSerializer()
    completion_tokens = FigureSerializer()
    errors = FigureSerializer()
    cancelled = FigureSerializer()
    unpriced = FigureSerializer(help_text="Replies with no known price (not in cost).")
    error_rate = FigureSerializer()
    cost = serializers.DictField(child=CostFigureSerializer(), help_text="Per currency code.")


class SummarySerializer(serializers.Serializer):
    period = PeriodSerializer()
    previous_period = PeriodSerializer()
    totals = TotalsSerializer()


class ErrorCodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    count = serializers.IntegerField()


class ModelRowSerializer(serializers.Serializer):
    provider = serializers.CharField()
    model = serializers.CharField()
    replies = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    estimated_replies = serializers.IntegerField(help_text="Replies whose token counts webox estimated.")
    unpriced_replies = serializers.IntegerField()
    cost = _cost_map("{currency: decimal string}; {} when no price is known.")
    cost_per_reply = _cost_map("{currency: cost / priced replies}.")
    ttft_ms_p50 = serializers.FloatField(allow_null=True)
    ttft_ms_p95 = serializers.FloatField(allow_null=True)
    duration_ms_p50 = serializers.FloatField(allow_null=True)
    duration_ms_p95 = serializers.FloatField(allow_null=True)
    tokens_per_second_p50 = serializers.FloatField(allow_null=True)
    errors = serializers.IntegerField()
    error_rate = serializers.FloatField(allow_null=True)
    cancelled = serializers.IntegerField()
    cancel_rate = serializers.FloatField(allow_null=True)
    top_error_codes = ErrorCodeSerializer(many=True)


class ComparisonSerializer(serializers.Serializer):
    fastest_first_token = serializers.DictField(allow_null=True)
    fastest_overall = serializers.DictField(allow_null=True)
    cheapest_per_reply = serializers.DictField(allow_null=True)
    most_reliable = serializers.DictField(allow_null=True)


class ModelsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    models = ModelRowSerializer(many=True)
    comparison = ComparisonSerializer()


class DayRowSerializer(serializers.Serializer):
    day = serializers.DateField()
    provider = serializers.CharField()
    model = serializers.CharField()
    replies = serializers.IntegerField()
    errors = serializers.IntegerField()
    error_rate = serializers.FloatField(allow_null=True)
    cost = _cost_map("{currency: decimal string}.")
    ttft_ms_p50 = serializers.FloatField(allow_null=True)


class DailySerializer(serializers.Serializer):
    period = PeriodSerializer()
    days = DayRowSerializer(many=True)


class UserRowSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    replies = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    tokens = serializers.IntegerField()
    errors = serializers.IntegerField()
    unpriced_replies = serializers.IntegerField()
    cost = _cost_map("{currency: decimal string}.")


class UsersSerializer(serializers.Serializer):
    period = PeriodSerializer()
    users = UserRowSerializer(many=True)


class LeaderboardModelSerializer(serializers.Serializer):
    provider = serializers.CharField()
    model = serializers.CharField()
    rating = serializers.FloatField(help_text="Elo-like: 400 points are 10:1 odds; the rated models average 1000.")
    ci_low = serializers.FloatField(help_text="The 95 % bootstrap interval's low end.")
    ci_high = serializers.FloatField()
    votes = serializers.IntegerField(help_text="Votes that judged this model against another.")
    opponents = serializers.IntegerField(help_text="Distinct models it was judged against.")
    ttft_p50_ms = serializers.IntegerField(allow_null=True,
                                           help_text="Median time to first token of its judged replies.")
    cost_per_reply = serializers.FloatField(allow_null=True,
                                            help_text="Mean cost of its judged replies; null: unknown.")


class LeaderboardSerializer(serializers.Serializer):
    models = LeaderboardModelSerializer(many=True, help_text="Best first.")
    votes = serializers.IntegerField(help_text="Votes counted.")
    bootstrap_rounds = serializers.IntegerField()
