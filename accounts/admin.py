from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import MonthlyUsage, User, UserLimits


class UserLimitsInline(admin.StackedInline):
    model = UserLimits
    can_delete = True
    extra = 1  # shown empty; left empty, no row is stored and the site defaults apply
    max_num = 1


class MonthlyUsageInline(admin.TabularInline):
    model = MonthlyUsage
    extra = 0
    can_delete = False
    readonly_fields = ("month", "tokens")
    ordering = ("-month",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [UserLimitsInline, MonthlyUsageInline]
