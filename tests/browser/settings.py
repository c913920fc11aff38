"""Settings for the daphne server the browser tests drive: the real ones, with static files served.

Plain ``daphne`` has no static file handler; WhiteNoise serves them straight from the apps'
``static/`` folders when asked to use the finders, so no ``collectstatic`` step is needed.
"""

from webox.settings import *  # noqa: F403

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Every test signs a user up; the real hasher's deliberate slowness only slows the suite.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Every test signs up from 127.0.0.1: the sign-up and log-in limits are tested in tests/accounts.
WEBOX_REGISTER_RATE_IP = WEBOX_LOGIN_RATE_IP = WEBOX_LOGIN_RATE_ACCOUNT = "0/60"
