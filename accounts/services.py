from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

User = get_user_model()


def user_register(*, username: str, email: str, password: str) -> "User":
    """Create an account after Django's password validators have approved the password.

    Raises ``ValidationError`` with field-keyed messages on bad input.
    """
    username = username.strip()
    email = User.objects.normalize_email(email.strip()).lower()
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
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        return User.objects.create_user(username=username, email=email, password=password)


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
