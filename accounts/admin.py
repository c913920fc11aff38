"""Users in the admin: Django's user admin, with each user's chat totals and (de)activation; the
admin's log-in form, limited like the others."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count, DecimalField, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from chat.models import Conversation, Message, Role

from .forms import AdminLoginForm
from .models import MonthlyUsage, User, UserLimits
from .services import user_set_active


def _count(queryset, owner_field: str) -> Coalesce:
    """A per-user count as a subquery: several counts over joins would multiply each other."""
    counted = queryset.order_by().values(owner_field).annotate(count=Count("pk")).values("count")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _cost(queryset, owner_field: str) -> Subquery:
    """A per-user sum of the replies' known cost in USD (None when no reply has a known price)."""
    summed = queryset.order_by().values(owner_field).annotate(total=Sum("cost")).values("total")
    return Subquery(summed, output_field=DecimalField(max_digits=20, decimal_places=8))


class UserLimitsInline(admin.StackedInline):
    model = UserLimits
    can_delete = True
    extra = 1  # shown empty; left empty, no row is stored and the site defaults apply
    max_num = 1


class MonthlyUsageInline(admin.TabularInline):
    model = MonthlyUsage
    extra = 0
    can_delete = False
    readonly_fields = ("month", "tokens", "cost")
    ordering = ("-month",)

    def has_add_permission(self, request, obj=None):
        return False


# Attempts are limited like the other log-ins; accounts.views.admin_login answers 429.
admin.site.login_form = AdminLoginForm


@admin.register(User)
class WeboxUserAdmin(UserAdmin):
    inlines = [UserLimitsInline, MonthlyUsageInline]
    list_display = ("username", "email", "is_active", "is_staff", "conversation_total", "reply_total", "cost_total",
                    "last_login")
    list_filter = (*UserAdmin.list_filter, "can_share")
    # Off: this user's share links stop opening and they can make no new ones (chat/sharing/).
    fieldsets = (*UserAdmin.fieldsets, ("Chat", {"fields": ("can_share",)}))
    actions = ["deactivate", "activate"]

    class Media:
        css = {"all": ("chat/admin/admin.css",)}

    def get_queryset(self, request):
        conversations = Conversation.objects.filter(owner=OuterRef("pk"))
        replies = Message.objects.filter(conversation__owner=OuterRef("pk"), role=Role.ASSISTANT)
        return super().get_queryset(request).annotate(
            conversation_total=_count(conversations, "owner"),
            reply_total=_count(replies, "conversation__owner"),
            # What webox measured: imported replies are history (chat/imports/), never spending.
            cost_total=_cost(replies.filter(cost__isnull=False, cost_currency="USD", imported=False),
                             "conversation__owner"),
        )

    @admin.display(description="conversations", ordering="conversation_total")
    def conversation_total(self, user: User) -> int:
        return user.conversation_total

    @admin.display(description="replies", ordering="reply_total")
    def reply_total(self, user: User) -> int:
        return user.reply_total

    @admin.display(description="cost (USD)", ordering="cost_total")
    def cost_total(self, user: User) -> str:
        return "—" if user.cost_total is None else f"{user.cost_total.normalize():f}"

    @admin.action(description="Deactivate selected users (they can no longer sign in)", permissions=["change"])
    def deactivate(self, request, queryset) -> None:
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, "You cannot deactivate your own account.", messages.ERROR)
            return
        changed = sum(user_set_active(user=user, active=False) for user in queryset)
        self.message_user(request, f"Deactivated {changed} user(s).", messages.SUCCESS)

    @admin.action(description="Reactivate selected users", permissions=["change"])
    def activate(self, request, queryset) -> None:
        changed = sum(user_set_active(user=user, active=True) for user in queryset)
        self.message_user(request, f"Reactivated {changed} user(s).", messages.SUCCESS)


from . import admin_invitations  # noqa: E402,F401  (registers the Invitation admin)
