"""Whose replies a dashboard request may see: one's own; staff also the site's or one user's."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from .filters import DashboardInputError, Filters, filters_from_params


class DashboardForbidden(PermissionError):
    """A non-staff user asked for the site or for another user (403 with this ``detail``)."""


@dataclass(frozen=True)
class Scope:
    filters: Filters
    site: bool  # the whole site (staff)
    viewed_user: object | None  # the user whose figures these are; None for the site


def dashboard_scope(*, user, params) -> Scope:
    """Read ``scope=site`` or ``user=<id>`` (staff only) and the period/filter parameters."""
    site = params.get("scope") == "site"
    if params.get("scope") not in (None, "", "site", "me"):
        raise DashboardInputError("scope must be site or me.")
    raw_user = params.get("user")
    if (site or raw_user) and not user.is_staff:
        raise DashboardForbidden("Only staff can see the site's or another user's figures.")
    viewed = user
    if raw_user and not site:
        try:
            viewed = get_user_model().objects.get(pk=int(raw_user))
        except (ValueError, get_user_model().DoesNotExist):
            raise DashboardInputError("No such user.") from None
    owner_id = None if site else viewed.pk
    return Scope(filters=filters_from_params(params, owner_id=owner_id), site=site,
                 viewed_user=None if site else viewed)
