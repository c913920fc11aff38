from .services import SIGNUP_OPEN, signup_mode


def signup(request) -> dict:
    """Whether pages may link to sign-up (``WEBOX_SIGNUP=open``)."""
    return {"signup_open": signup_mode() == SIGNUP_OPEN}
