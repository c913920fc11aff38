from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User

admin.site.register(User, UserAdmin)

from . import admin_invitations  # noqa: E402,F401  (registers the Invitation admin)
