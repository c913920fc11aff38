from django.contrib import admin
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from webox.throttles import Throttled

from . import throttles
from .forms import LoginForm, RegisterForm
from .services import SIGNUP_CLOSED, SIGNUP_INVITE, invitation_get_usable, signup_mode


def _too_many(response, exc: Throttled):
    response.status_code = 429
    response["Retry-After"] = str(exc.retry_after)
    return response


@require_http_methods(["GET", "POST"])
def register(request):
    mode = signup_mode()
    if mode == SIGNUP_CLOSED:
        raise Http404("Sign-up is closed.")
    token = request.POST.get("invitation") or request.GET.get("invite", "")
    if mode == SIGNUP_INVITE and request.method == "GET" and invitation_get_usable(token=token) is None:
        return render(request, "accounts/register.html", {"invite_needed": True}, status=403)
    form = RegisterForm(request.POST or None, initial={"invitation": token})
    if request.method == "POST":
        try:
            throttles.check_register(request)
        except Throttled as exc:
            context = {"form": RegisterForm(initial={"invitation": token}), "limit_error": exc.detail}
            return _too_many(render(request, "accounts/register.html", context), exc)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        if user is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("chat:home")
    return render(request, "accounts/register.html", {"form": form}, status=400 if form.errors else 200)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    authentication_form = LoginForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        return _too_many(response, form.throttled) if form.throttled else response


def admin_login(request):
    """The admin site's log-in, limited like the others (its form is ``AdminLoginForm``, set in
    accounts/admin.py); answered 429 when a limit refused the attempt."""
    response = admin.site.login(request)
    form = (getattr(response, "context_data", None) or {}).get("form")
    exc = getattr(form, "throttled", None)
    return _too_many(response, exc) if exc else response


class LogoutView(auth_views.LogoutView):
    pass
