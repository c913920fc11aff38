from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from webox.throttles import Throttled

from . import throttles
from .services import SignupRefused, registration_problems, user_register


class LimitedLoginMixin:
    """Counts each log-in as an attempt (accounts.throttles): over a limit the password is not
    checked, the form gets the limit's message and ``throttled`` holds it (the view answers 429)."""

    throttled: Throttled | None = None

    def clean(self):
        try:
            attempt = throttles.login_attempt(self.request, self.data.get("username"))
        except Throttled as exc:
            self.throttled = exc
            raise ValidationError(exc.detail, code="throttled") from None
        cleaned = super().clean()  # a wrong password or a refused account raises: a failure
        if self.user_cache is not None:
            attempt.succeeded()
        return cleaned


class LoginForm(LimitedLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(LimitedLoginMixin, AdminAuthenticationForm):
    pass


class RegisterForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"}))
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    invitation = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        # Every field's problems at once: a taken username or a weak password is said beside a bad email.
        cleaned = super().clean()
        if self.errors:
            problems = registration_problems(
                username=(cleaned.get("username") or "").strip(), email=(cleaned.get("email") or "").strip().lower(),
                password=self.data.get("password", ""))
            for field, messages in problems.items():
                if field not in self.errors:
                    for message in messages:
                        self.add_error(field, message)
        return cleaned

    def save(self):
        try:
            return user_register(**self.cleaned_data)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            return None
        except SignupRefused as exc:
            self.add_error(None, exc.detail)
            return None
