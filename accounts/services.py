from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import Invitation

User = get_user_model()

SIGNUP_OPEN, SIGNUP_INVITE, SIGNUP_CLOSED = "open", "invite", "closed"


class SignupRefused(Exception):
    """Sign-up is closed, or needs an invitation this request does not carry. Safe to show."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def signup_mode() -> str:
    """``WEBOX_SIGNUP``; an unknown value counts as closed, so a typo never opens sign-up."""
    mode = settings.WEBOX_SIGNUP.strip().lower()
    return mode if mode in (SIGNUP_OPEN, SIGNUP_INVITE) else SIGNUP_CLOSED


def invitation_get_usable(*, token: str) -> Invitation | None:
    invitation = Invitation.objects.filter(token=token).first() if token else None
    return invitation if invitation is not None and invitation.is_usable else None


def registration_problems(*, username: str, email: str, password: str) -> dict[str, list[str]]:
    """Every problem of a sign-up's fields at once, by field (empty: none); all checks run, so a form
    shows them together rather than one per attempt."""
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = ["A username is required."]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["That username is taken."]
    if not email:
        errors["email"] = ["An email address is required."]
    elif User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["An account with that email already exists."]
    candidate = User(username=username, email=email)
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    return errors


def user_register(*, username: str, email: str, password: str, invitation: str = "") -> "User":
    """Create an account after Django's password validators have approved the password.

    Raises ``SignupRefused`` when ``WEBOX_SIGNUP`` does not let this request sign up (closed, or
    invite without a usable invitation), ``ValidationError`` with field-keyed messages on bad input.
    """
    mode = signup_mode()
    if mode == SIGNUP_CLOSED:
        raise SignupRefused("Sign-up is closed on this server.")
    if mode == SIGNUP_INVITE and invitation_get_usable(token=invitation) is None:
        raise SignupRefused("Sign-up needs a valid invitation (unused and not expired).")
    username = username.strip()
    email = User.objects.normalize_email(email.strip()).lower()
    errors = registration_problems(username=username, email=email, password=password)
    if mode == SIGNUP_INVITE:
        invited = Invitation.objects.get(token=invitation).email
        if invited and invited.lower() != email and "email" not in errors:
            errors["email"] = ["This invitation is for another email address."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if mode == SIGNUP_INVITE:
            # Conditional: of two sign-ups racing on one invitation, exactly one wins.
            claimed = Invitation.objects.filter(token=invitation, used_at__isnull=True).update(used_at=timezone.now())
            if not claimed:
                raise SignupRefused("Sign-up needs a valid invitation (unused and not expired).")
        user = User.objects.create_user(username=username, email=email, password=password)
        if mode == SIGNUP_INVITE:
            Invitation.objects.filter(token=invitation).update(used_by=user)
        return user


def user_set_active(*, user: "User", active: bool) -> bool:
    """Let the account sign in again or stop it from doing so; whether anything changed.

    An inactive account's sessions and tokens are refused from its next request on (Django's
    auth backend and simplejwt both check ``is_active``); its data stays.
    """
    if user.is_active == active:
        return False
    user.is_active = active
    user.save(update_fields=["is_active"])
    return True
