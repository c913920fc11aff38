from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import usage_by_provider_for_user


@login_required
def home(request):
    return render(request, "dashboard/home.html", {"rows": usage_by_provider_for_user(user=request.user)})
