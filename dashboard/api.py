"""The dashboard's figures as JSON: thin views over dashboard/selectors.py."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ParseError, PermissionDenied
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .filters import DashboardInputError
from .percentiles import room_to_sort
from .scope import DashboardForbidden, Scope, dashboard_scope
from .serializers import DailySerializer, ModelsSerializer, SummarySerializer, UsersSerializer

PARAMETERS = [
    OpenApiParameter("days", int, enum=[7, 30, 90], description="The last 7, 30 or 90 days (default 30)."),
    OpenApiParameter("from", str, description="First day (YYYY-MM-DD, UTC), with `to`; wins over `days`."),
    OpenApiParameter("to", str, description="Last day, inclusive (at most 366 days)."),
    OpenApiParameter("provider", str, description="Only this provider."),
    OpenApiParameter("model", str, description="Only this model."),
    OpenApiParameter("scope", str, enum=["me", "site"], description="`site`: every user's replies (staff only)."),
    OpenApiParameter("user", int, description="One user's replies (staff only)."),
]


def scope_for(request) -> Scope:
    try:
        return dashboard_scope(user=request.user, params=request.query_params)
    except DashboardInputError as exc:
        raise ParseError(str(exc)) from None
    except DashboardForbidden as exc:
        raise PermissionDenied(str(exc)) from None


class SummaryApi(APIView):
    """Totals of a period (`days`, or `from` and `to`): replies, errors, tokens, cost, latency, with
    the previous period and the change. `scope=site` or `user` (staff): other users' replies.
    """

    name = "Dashboard summary"

    @extend_schema(operation_id="dashboard_summary", parameters=PARAMETERS, responses=SummarySerializer,
                   summary="Totals of the period, with the previous period and the change")
    def get(self, request):
        filters = scope_for(request).filters
        with room_to_sort():
            return Response(selectors.dashboard_summary(filters=filters))


class ModelsApi(APIView):
    """Figures per provider and model over a period, and which model was fastest, cheapest and most reliable."""

    name = "Dashboard by model"

    @extend_schema(operation_id="dashboard_models", parameters=PARAMETERS, responses=ModelsSerializer,
                   summary="Per provider and model, and which model was fastest, cheapest and most reliable")
    def get(self, request):
        filters = scope_for(request).filters
        with room_to_sort():
            models = selectors.dashboard_models(filters=filters)
        return Response({"period": selectors.period_data(filters), "models": models,
                         "comparison": selectors.comparison(models)})


class DailyApi(APIView):
    """Figures per day and per provider and model over a period: replies, errors, cost, time to first token."""

    name = "Dashboard by day"

    @extend_schema(operation_id="dashboard_daily", parameters=PARAMETERS, responses=DailySerializer,
                   summary="Per day and provider/model: replies, errors, cost, time to first token p50")
    def get(self, request):
        filters = scope_for(request).filters
        with room_to_sort():
            days = selectors.dashboard_daily(filters=filters)
        return Response({"period": selectors.period_data(filters), "days": days})


class UsersApi(APIView):
    """Staff only: totals per user over the whole site, sorted by `sort`."""

    name = "Dashboard by user"
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="dashboard_users", responses=UsersSerializer,
        parameters=[*PARAMETERS[:5], OpenApiParameter(
            "sort", str, enum=[*selectors.USER_SORTS, *(f"-{k}" for k in selectors.USER_SORTS)],
            description="Order (default `-cost`); `-` first for descending.")],
        summary="Staff: per-user totals over the whole site",
    )
    def get(self, request):
        params = {k: v for k, v in request.query_params.items() if k not in ("scope", "user")}
        try:
            filters = dashboard_scope(user=request.user, params={**params, "scope": "site"}).filters
        except DashboardInputError as exc:
            raise ParseError(str(exc)) from None
        sort = request.query_params.get("sort") or "-cost"
        if sort.lstrip("-") not in selectors.USER_SORTS:
            raise ParseError(f"sort must be one of {', '.join(selectors.USER_SORTS)} (with - for descending).")
        with room_to_sort():
            users = selectors.dashboard_users(filters=filters, sort=sort)
        return Response({"period": selectors.period_data(filters), "users": users})
