"""webox settings: everything comes from the environment, with defaults that run on one machine.

With nothing set, webox runs in *embedded* mode: a SQLite file under ``var/``, the in-memory
channel layer, and provider calls on the server's own event loop. ``DATABASE_URL`` switches the
database to PostgreSQL; ``REDIS_URL`` switches to the Redis channel layer and Celery workers.
"""

import os
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# CONTENT_SECURITY_POLICY (django-csp 4): no inline script, nothing from another origin.
from webox.content_security import CONTENT_SECURITY_POLICY  # noqa: F401
from webox.database_settings import database_config
from webox.env import env_bool, env_float, env_int, env_list, env_str
from webox.logging_config import logging_config
from webox.redis_settings import channel_layers, provider_queues, task_queues

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WEBOX_VAR_DIR", BASE_DIR / "var"))

# The development key is public; a system check refuses it when DEBUG is off.
INSECURE_DEV_SECRET_KEY = "django-insecure-webox-development-key-do-not-use-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or INSECURE_DEV_SECRET_KEY
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # First, so its ``runserver`` (daphne's, imported only when it runs) wins over staticfiles'.
    # daphne's own app is not installed: it imports twisted's reactor into every process (about
    # 25 MB in each Celery worker, which serves no HTTP).
    "webox",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "drf_spectacular",
    # Swagger UI and ReDoc assets served from /static/, so /api/docs/ works without internet.
    "drf_spectacular_sidecar",
    "channels",
    "csp",
    "accounts",
    "chat",
    # chat's streaming package is an app of its own so that it can listen to chat (chat.hooks).
    "chat.streaming",
    "dashboard",
]

MIDDLEWARE = [
    # First: an oversized body is refused before anything reads it.
    "webox.middleware.RequestLimitsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "webox.middleware.RequestContextMiddleware",
    "webox.middleware.DatabaseBusyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webox.urls"
WSGI_APPLICATION = "webox.wsgi.application"
ASGI_APPLICATION = "webox.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.signup",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
# PostgreSQL connections come from one bounded pool per process (psycopg_pool through Django):
# daphne runs each request's sync code in a new thread, and connections kept per thread piled up
# until PostgreSQL refused clients. With a pool, a connection goes back after each request, task
# or engine step; past ``DATABASE_POOL_MAX`` a caller waits up to ``DATABASE_POOL_TIMEOUT`` seconds,
# then gets a 503 (webox/api.py). The sum of the maxima over all processes must stay under
# PostgreSQL's max_connections (docs/deployment.md).
DATABASE_POOL_MIN = env_int("DATABASE_POOL_MIN", 2)
DATABASE_POOL_MAX = env_int("DATABASE_POOL_MAX", 10)
DATABASE_POOL_TIMEOUT = env_float("DATABASE_POOL_TIMEOUT", 10.0)
# The web process's GIL switch interval (Python's: 5 ms; 1 ms gives a request's thread back from the database
# the GIL sooner) and how many requests run in threads at once (0: no bound): webox/http_handler.py.
WEBOX_SWITCH_INTERVAL_MS = env_float("WEBOX_SWITCH_INTERVAL_MS", 1.0)
WEBOX_REQUEST_THREADS = env_int("WEBOX_REQUEST_THREADS", 8)
DATABASES = database_config(DATABASE_URL, pool_min=DATABASE_POOL_MIN, pool_max=DATABASE_POOL_MAX,
                            pool_timeout=DATABASE_POOL_TIMEOUT, var_dir=VAR_DIR,
                            sqlite_timeout=env_float("WEBOX_SQLITE_TIMEOUT", 20.0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "chat:home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Site-wide styles beside the site-wide templates; each app keeps its own in <app>/static/<app>/.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Redis, channel layer, Celery ----------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# Prefix of every Redis key and channel webox uses, so installations can share one Redis.
WEBOX_REDIS_PREFIX = env_str("WEBOX_REDIS_PREFIX", "webox")
# "embedded": provider calls run on the server's event loop; "celery": on Celery workers.
WEBOX_RUNNER = env_str("WEBOX_RUNNER") or ("celery" if REDIS_URL else "embedded")

CHANNEL_LAYERS = channel_layers(REDIS_URL, WEBOX_REDIS_PREFIX)

CELERY_BROKER_URL = REDIS_URL or "memory://"
# kombu's Redis transport, one client object per channel for its commands (webox/broker.py).
CELERY_BROKER_TRANSPORT = "webox.broker:Transport" if REDIS_URL else None
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env_str("WEBOX_CELERY_QUEUE", "webox")
# Replies of the named providers go to queues of their own ("claude=webox-anthropic,gpt=webox-openai"),
# so their calls can run on workers of their own (``celery -A webox worker -Q webox-anthropic``).
# A worker started without -Q consumes the default queue and all of these (webox/celery.py routes).
WEBOX_CELERY_PROVIDER_QUEUES = provider_queues(env_list("WEBOX_CELERY_PROVIDER_QUEUES"))
CELERY_TASK_QUEUES = task_queues(CELERY_TASK_DEFAULT_QUEUE, WEBOX_CELERY_PROVIDER_QUEUES)
CELERY_TASK_ROUTES = ("webox.celery.route_task",)
# Acked on receipt, never redelivered once started: a provider call must never run twice. A reply
# whose worker died mid-stream is ended (as "orphaned", its text kept) by the sweep, never retried.
# Tasks a worker had reserved but not started are redelivered after the visibility timeout (or at once
# on a warm shutdown); a redelivered or duplicate task finds its reply no longer pending and does
# nothing (the claim in chat/services/replies.py is one conditional UPDATE), so that is safe too.
CELERY_TASK_ACKS_LATE = False
# Seconds before a reserved, unacknowledged task of a lost worker goes back to the queue: under
# WEBOX_REPLY_STALE_SECONDS, so a reply waiting in a dead worker's buffer starts elsewhere before the
# sweep would end it as orphaned.
WEBOX_CELERY_VISIBILITY_TIMEOUT = env_int("WEBOX_CELERY_VISIBILITY_TIMEOUT", 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # The broker's keys carry the prefix too, so two installations can share one Redis database.
    "global_keyprefix": f"{WEBOX_REDIS_PREFIX}:", "visibility_timeout": WEBOX_CELERY_VISIBILITY_TIMEOUT,
} if REDIS_URL else {}
# Tasks reserved per pool slot. 1: a busy worker does not sit on replies an idle one could start.
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("WEBOX_CELERY_PREFETCH", 1)
# A worker holds many streams in one process on threads (docs/deployment.md, "Celery workers");
# ``-P``/``-c`` on the command line override these.
CELERY_WORKER_POOL = env_str("WEBOX_CELERY_POOL", "threads")
CELERY_WORKER_CONCURRENCY = env_int("WEBOX_CELERY_CONCURRENCY", 200)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
WEBOX_SWEEP_INTERVAL_SECONDS = env_float("WEBOX_SWEEP_INTERVAL_SECONDS", 15.0)
CELERY_BEAT_SCHEDULE = {
    "sweep-orphaned-replies": {
        "task": "chat.tasks.sweep_orphaned_replies",
        "schedule": WEBOX_SWEEP_INTERVAL_SECONDS,
    },
    "sweep-attachments": {"task": "chat.tasks.sweep_attachments", "schedule": 3600.0},
}

# --- Streaming and providers ------------------------------------------------------------------
WEBOX_FLUSH_INTERVAL_MS = env_int("WEBOX_FLUSH_INTERVAL_MS", 50)
WEBOX_CHECKPOINT_INTERVAL_MS = env_int("WEBOX_CHECKPOINT_INTERVAL_MS", 1000)
# A reply whose stream has not checkpointed for this long is ended as an error by the sweep.
WEBOX_REPLY_STALE_SECONDS = env_int("WEBOX_REPLY_STALE_SECONDS", 120)
# Layer messages a second each publishing process aims at: past it the flush interval widens, but never
# beyond WEBOX_MAX_FLUSH_INTERVAL_MS (what a token may wait there). With N workers daphne gets N times this.
WEBOX_MAX_PUBLISH_RATE = env_int("WEBOX_MAX_PUBLISH_RATE", 250)
WEBOX_MAX_FLUSH_INTERVAL_MS = env_int("WEBOX_MAX_FLUSH_INTERVAL_MS", 150)
WEBOX_CONTEXT_TOKENS = env_int("WEBOX_CONTEXT_TOKENS", 32000)
WEBOX_ENCRYPTION_KEYS = env_list("WEBOX_ENCRYPTION_KEYS")
WEBOX_DEMO_PROVIDER = env_bool("WEBOX_DEMO_PROVIDER", True)
WEBOX_DEMO_DELAY_MS = env_int("WEBOX_DEMO_DELAY_MS", 40)
WEBOX_PROVIDER_CONNECT_TIMEOUT = env_float("WEBOX_PROVIDER_CONNECT_TIMEOUT", 10.0)
WEBOX_PROVIDER_FIRST_TOKEN_TIMEOUT = env_float("WEBOX_PROVIDER_FIRST_TOKEN_TIMEOUT", 60.0)
WEBOX_PROVIDER_IDLE_TIMEOUT = env_float("WEBOX_PROVIDER_IDLE_TIMEOUT", 30.0)
WEBOX_PROVIDER_RETRY_BUDGET = env_float("WEBOX_PROVIDER_RETRY_BUDGET", 20.0)
WEBOX_PROVIDER_MAX_RETRIES = env_int("WEBOX_PROVIDER_MAX_RETRIES", 3)
WEBOX_PROVIDER_BACKOFF_BASE = env_float("WEBOX_PROVIDER_BACKOFF_BASE", 0.5)
# Past either, a reply's stream is closed and the reply ends as an error with its text so far
# (deadline_exceeded, too_long). 0: no limit.
WEBOX_REPLY_DEADLINE_SECONDS = env_float("WEBOX_REPLY_DEADLINE_SECONDS", 600.0)
WEBOX_REPLY_MAX_CHARS = env_int("WEBOX_REPLY_MAX_CHARS", 200_000)
# Celery's time limits: a backstop under the engine's own deadline (WEBOX_REPLY_DEADLINE_SECONDS), which ends
# a reply cleanly with its text; only prefork enforces these (the threads pool cannot stop a thread).
CELERY_TASK_SOFT_TIME_LIMIT = env_float("WEBOX_CELERY_SOFT_TIME_LIMIT", (WEBOX_REPLY_DEADLINE_SECONDS or 3600) + 60)
CELERY_TASK_TIME_LIMIT = env_float("WEBOX_CELERY_TIME_LIMIT", CELERY_TASK_SOFT_TIME_LIMIT + 30)
if WEBOX_REPLY_DEADLINE_SECONDS and not (
        WEBOX_REPLY_DEADLINE_SECONDS < CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT):
    raise ImproperlyConfigured(
        "WEBOX_CELERY_SOFT_TIME_LIMIT must be above WEBOX_REPLY_DEADLINE_SECONDS and below WEBOX_CELERY_TIME_LIMIT:"
        " a reply within its deadline must never be cut by Celery."
    )

# --- Operations ------------------------------------------------------------------------------
# /metrics outside DEBUG: a bearer token and/or client addresses or networks (CIDR) allowed.
WEBOX_METRICS_TOKEN = env_str("WEBOX_METRICS_TOKEN")
WEBOX_METRICS_ALLOW = env_list("WEBOX_METRICS_ALLOW")
# Proxies (IPs or CIDR networks) whose X-Forwarded-For is believed, right to left
# (webox/client_address.py). Empty: the peer is the client and the header is ignored.
WEBOX_TRUSTED_PROXIES = env_list("WEBOX_TRUSTED_PROXIES")
# Who may create an account: "open" (anyone), "invite" (with a staff-made invitation), "closed".
WEBOX_SIGNUP = env_str("WEBOX_SIGNUP", "open")
# Read-only share links (chat/sharing/): "off" turns them off site-wide, existing links included.
WEBOX_SHARING = env_bool("WEBOX_SHARING", True)

# --- REST API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's, reading a token's user at most once every 2 s per process (accounts/authentication.py).
        "accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 30,
    "EXCEPTION_HANDLER": "webox.api.exception_handler",
    "VIEW_NAME_FUNCTION": "webox.api.view_name",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "webox.api.BrowsableAPIRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "webox.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Tokens carry a digest of the password hash: a password change ends every token issued before.
    "CHECK_REVOKE_TOKEN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "webox API",
    "DESCRIPTION": "Send one message to several AI providers and stream every reply.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # Probes inside the network speak plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready)?$"]
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)

# "json": one JSON object per line (webox/logging_context.py), for log collectors; "plain": text.
WEBOX_LOG_FORMAT = env_str("WEBOX_LOG_FORMAT") or ("plain" if DEBUG else "json")
# --- Cache, throttles and limits ----------------------------------------------------------
# The throttles count here: with REDIS_URL every process counts in the same Redis.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": WEBOX_REDIS_PREFIX}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rates are "COUNT/SECONDS" (fixed windows); a COUNT of 0 turns the limit off.
WEBOX_SEND_RATE = env_str("WEBOX_SEND_RATE", "30/60")  # turns per user, REST and socket together
WEBOX_LOGIN_RATE_IP = env_str("WEBOX_LOGIN_RATE_IP", "30/300")  # log-in and token attempts per address
WEBOX_LOGIN_RATE_ACCOUNT = env_str("WEBOX_LOGIN_RATE_ACCOUNT", "10/300")  # ... per username
WEBOX_REGISTER_RATE_IP = env_str("WEBOX_REGISTER_RATE_IP", "10/3600")  # sign-ups per address
WEBOX_IMPORT_RATE = env_str("WEBOX_IMPORT_RATE", "10/3600")  # POST /api/chat/import per user
# The characters of message text one user may keep (counted when they import; 0: no limit).
WEBOX_USER_STORAGE_CHARS = env_int("WEBOX_USER_STORAGE_CHARS", 100_000_000)
# Per user; staff can override both per user in the admin (accounts.UserLimits). 0: no limit.
WEBOX_MAX_ACTIVE_REPLIES = env_int("WEBOX_MAX_ACTIVE_REPLIES", 16)  # pending + streaming at once
WEBOX_MONTHLY_TOKEN_BUDGET = env_int("WEBOX_MONTHLY_TOKEN_BUDGET", 0)  # prompt + completion, calendar month UTC
# Cost in USD per calendar month (UTC), from the replies' stored cost; a reply with no known price
# (in USD) counts at WEBOX_UNPRICED_PRICE_PER_MTOK USD per million tokens, prompt and completion alike.
try:
    WEBOX_MONTHLY_COST_BUDGET = Decimal(env_str("WEBOX_MONTHLY_COST_BUDGET", "0") or "0")
    WEBOX_UNPRICED_PRICE_PER_MTOK = Decimal(env_str("WEBOX_UNPRICED_PRICE_PER_MTOK", "10") or "0")
    if WEBOX_MONTHLY_COST_BUDGET < 0 or WEBOX_UNPRICED_PRICE_PER_MTOK < 0:
        raise InvalidOperation
except InvalidOperation:
    raise ImproperlyConfigured(
        "WEBOX_MONTHLY_COST_BUDGET and WEBOX_UNPRICED_PRICE_PER_MTOK must be numbers of USD, e.g. 25 or 7.50."
    ) from None
# The largest WebSocket frame the conversation socket reads; larger ones get an error frame.
# daphne drops frames over its own --websocket-max-message-size (1 MiB by default) first.
WEBOX_WS_MAX_FRAME_BYTES = env_int("WEBOX_WS_MAX_FRAME_BYTES", 512 * 1024)
# Frames one socket may send (a token bucket per socket, chat/streaming/socket_limits.py): "COUNT/SECONDS",
# 0 turns a limit off. The chat page sends a frame per turn, cancel or resync; it never comes near.
WEBOX_WS_FRAME_RATE = env_str("WEBOX_WS_FRAME_RATE", "120/60")
WEBOX_WS_RESYNC_RATE = env_str("WEBOX_WS_RESYNC_RATE", "20/60")  # each builds and renders a snapshot
# Frames over a limit, one after another, after which the socket is closed with 4429.
WEBOX_WS_FRAMES_OVER_LIMIT = env_int("WEBOX_WS_FRAMES_OVER_LIMIT", 20)
# Output daphne may hold for one socket whose client does not read; past it the socket is closed
# with 4008 (webox/daphne_options.py). 0: no bound.
WEBOX_WS_MAX_PENDING_BYTES = env_int("WEBOX_WS_MAX_PENDING_BYTES", 1024 * 1024)
# How often a session-authenticated socket checks that its session still exists (log-outs close it at once).
WEBOX_WS_SESSION_CHECK_SECONDS = env_int("WEBOX_WS_SESSION_CHECK_SECONDS", 60)
# daphne's listen queue for ``-b/-p`` (webox/daphne_options.py); the kernel caps it at somaxconn.
WEBOX_LISTEN_BACKLOG = env_int("WEBOX_LISTEN_BACKLOG", 1024)
# The largest multipart body of a file upload (POST /api/chat/import takes a 20 MB file); other
# bodies are bounded by Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB). Larger ones are a 413.
WEBOX_MAX_UPLOAD_BYTES = env_int("WEBOX_MAX_UPLOAD_BYTES", 21 * 1024 * 1024)

# --- Attachments (docs/attachments.md) -------------------------------------------------------
WEBOX_ATTACHMENT_MAX_BYTES = env_int("WEBOX_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
WEBOX_ATTACHMENTS_PER_MESSAGE = env_int("WEBOX_ATTACHMENTS_PER_MESSAGE", 10)
# What one user's attachments may take in all (pending and sent), in bytes.
WEBOX_ATTACHMENT_QUOTA_BYTES = env_int("WEBOX_ATTACHMENT_QUOTA_BYTES", 500 * 1024 * 1024)
# Images larger than this many pixels are refused (decompression bombs are far past it).
WEBOX_ATTACHMENT_MAX_PIXELS = env_int("WEBOX_ATTACHMENT_MAX_PIXELS", 40_000_000)
# The text of one text file or PDF sent to the models, in characters; longer ones are refused.
WEBOX_ATTACHMENT_MAX_TEXT_CHARS = env_int("WEBOX_ATTACHMENT_MAX_TEXT_CHARS", 200_000)
# An upload not sent with a message within this time is deleted by the sweep.
WEBOX_ATTACHMENT_PENDING_SECONDS = env_int("WEBOX_ATTACHMENT_PENDING_SECONDS", 24 * 3600)
# Models that can see images, beyond the built-in table (chat/attachments/vision.py): JSON
# {"provider name or *": ["model glob", ...]}, e.g. {"ollama": ["llava*"]}.
WEBOX_VISION_MODELS = env_str("WEBOX_VISION_MODELS")
# Where attachment files live: empty, the local directory var/attachments; or
# s3://bucket/prefix?endpoint_url=https://…&region_name=… (django-storages; credentials from
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
WEBOX_STORAGE_URL = env_str("WEBOX_STORAGE_URL")


def attachment_storage(url: str) -> dict:
    """The ``STORAGES["attachments"]`` entry for ``WEBOX_STORAGE_URL`` (empty: the local directory)."""
    if not url:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": VAR_DIR / "attachments", "base_url": None}}
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ImproperlyConfigured("WEBOX_STORAGE_URL must be s3://bucket[/prefix][?endpoint_url=…&region_name=…].")
    options = {"bucket_name": parts.netloc, "location": parts.path.strip("/"), "default_acl": None,
               "querystring_auth": True, "file_overwrite": True}
    options.update(dict(parse_qsl(parts.query)))
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


STORAGES["attachments"] = attachment_storage(WEBOX_STORAGE_URL)
LOGGING = logging_config(WEBOX_LOG_FORMAT, env_str("WEBOX_LOG_LEVEL", "INFO"))
