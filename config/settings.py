"""Recourse settings, read from environment variables (every one documented in
deploy/recourse.env.example).

RECOURSE_ENV selects the defaults: "production" (the default, and the strict one),
"development" (what `make run` sets) or "test" (config.settings_test).
"""

import os
from pathlib import Path

import dj_database_url
from django.conf import global_settings
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.languages import with_added_languages

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


RECOURSE_ENV = env("RECOURSE_ENV", "production")
if RECOURSE_ENV not in {"production", "development", "test"}:
    raise ImproperlyConfigured("RECOURSE_ENV must be production, development or test.")
PRODUCTION = RECOURSE_ENV == "production"

DEBUG = env_bool("DJANGO_DEBUG", RECOURSE_ENV == "development")

SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required in production. "
            "For local development run `make run` (it sets RECOURSE_ENV=development)."
        )
    SECRET_KEY = "development-only-secret-key-never-use-in-production-" + "x" * 20

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
)

# The public URL the service is reached at (behind the TLS proxy). Used for links in
# staff notifications and, later, to validate Twilio signatures.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "" if PRODUCTION else "http://127.0.0.1:8000").rstrip("/")
if PRODUCTION and not PUBLIC_BASE_URL:
    raise ImproperlyConfigured("PUBLIC_BASE_URL is required in production.")

# --- Key ring -------------------------------------------------------------------------
# The server's key ring: it seals only what vault/server_sealed.py lists (never a case's
# data key) and keys the blind indexes.
# Either the JSON itself in RECOURSE_KEYRING, or a path in RECOURSE_KEYRING_FILE.
RECOURSE_KEYRING = env("RECOURSE_KEYRING")
RECOURSE_KEYRING_FILE = env(
    "RECOURSE_KEYRING_FILE", "" if PRODUCTION else str(BASE_DIR / "var" / "dev-keyring.json")
)
if PRODUCTION and not (RECOURSE_KEYRING or RECOURSE_KEYRING_FILE):
    raise ImproperlyConfigured(
        "Production refuses to start without a key ring: set RECOURSE_KEYRING or "
        "RECOURSE_KEYRING_FILE (create one with `manage.py keyring_add --file PATH`)."
    )
# Append-only file of the audit chain's anchored heads (ids and hashes only), written
# daily and by `manage.py audit_anchor`; ship it off the host. Empty: log lines only.
AUDIT_ANCHOR_FILE = env(
    "AUDIT_ANCHOR_FILE", "" if PRODUCTION else str(BASE_DIR / "var" / "audit-anchors.log")
)
# Keyed HMAC for blind indexes and for pseudonymising client addresses in throttles.
# Derived from the key ring when empty.

# --- Applications -----------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_q",
    "policies",
    "complaints",
    "vault",
    "intake",
    "notifications",
    "competencies",
    "oversight",
    "benchmarks",
]

MIDDLEWARE = [
    # First, so its line times and reports every request, redirects included.
    "config.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.PrivacyHeadersMiddleware",
    # Twilio's signed webhooks skip everything below: it is for pages people use.
    "config.middleware.ProviderWebhookMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.SameOriginNullOriginMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Staff pages in the person's language and their unit's time zone (not reporters').
    "config.middleware.StaffLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "config.context_processors.recourse",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'recourse.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60 if PRODUCTION else 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker write without blocking readers.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif env_bool("DATABASE_SERVER_SIDE_BINDING", True):
    # Parameters travel apart from the SQL (no quoting in Python) and psycopg prepares
    # the statements a connection runs often, so PostgreSQL plans them once: 25% more
    # SMS webhooks per second in `make bench`. Turn off behind PgBouncer's transaction
    # pooling, which cannot keep prepared statements.
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Messages stay on the server (the session row, deleted once shown), never in a cookie:
# the admin shows a unit's new recovery key through one.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- Authentication ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "staff:queue"
OTP_TOTP_ISSUER = "Recourse"
OTP_LOGIN_URL = "staff:verify"

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("Français")),
    ("es", _("Español")),
    ("ar", "العربية"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# A unit's own languages (Wolof, Mooré...): <code>/LC_MESSAGES/django.po dropped here is
# compiled and offered at the next start (config/languages.py; README "Adding a language").
LOCALE_EXTRA_DIR = Path(env("LOCALE_EXTRA_DIR", str(BASE_DIR / "var" / "locale")))
_languages = with_added_languages(
    LOCALE_EXTRA_DIR,
    languages=LANGUAGES,
    languages_bidi=list(global_settings.LANGUAGES_BIDI),
    locale_paths=LOCALE_PATHS,
    lang_info=LANG_INFO,
)
LANGUAGES = _languages.languages
LANGUAGES_BIDI = _languages.languages_bidi
LOCALE_PATHS = _languages.locale_paths
# Unambiguous dates in every language ("3 December 2026, 10:03"): config/formats/.
FORMAT_MODULE_PATH = ["config.formats"]
LANGUAGE_COOKIE_AGE = None  # a browser-session cookie: nothing lingers on a shared phone
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------
STATIC_URL = "static/"
# Production serves the collected files (collectstatic); elsewhere WhiteNoise finds
# them in place.
STATIC_ROOT = BASE_DIR / "staticfiles" if PRODUCTION else None
WHITENOISE_USE_FINDERS = not PRODUCTION
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Email ------------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Recourse <no-reply@localhost>")

# --- Background work (django-q2, ORM broker: the database records pending work) --------
# /healthz (config/health.py): failing when the oldest waiting task is older, or the
# minute sweep is this late.
HEALTH_QUEUE_MAX_AGE = env_int("HEALTH_QUEUE_MAX_AGE", 300)
HEALTH_SWEEP_MAX_LATE = env_int("HEALTH_SWEEP_MAX_LATE", 180)
# /metrics (config/metrics.py) answers only a request carrying this bearer token; with
# none set it is a 404. At least 32 random characters.
METRICS_TOKEN = env("METRICS_TOKEN")

Q_CLUSTER = {
    "name": "recourse",
    "orm": "default",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 60),
    # Must exceed timeout, or a slow task runs twice at once.
    "retry": env_int("Q_RETRY", 120),
    "max_attempts": 5,
    "save_limit": 250,
    "ack_failures": True,
    "catch_up": False,  # a worker that was down does not replay every missed schedule
    "poll": 1,
}
# The daily retention purge stops starting batches after this long, well within the
# worker's task timeout (a killed run would be retried from its last committed batch).
RETENTION_PURGE_TASK_SECONDS = env_int("RETENTION_PURGE_TASK_SECONDS", 40)

# A notice or text claimed by a worker that then died may be retried after this long.
NOTIFICATION_CLAIM_TIMEOUT_SECONDS = env_int("NOTIFICATION_CLAIM_TIMEOUT_SECONDS", 300)

# --- Security headers -------------------------------------------------------------------
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_AGE = None  # a browser-session cookie, like the language one
# A reporter page in the visitor's language, with the unit's emergency numbers.
CSRF_FAILURE_VIEW = "intake.errors.csrf_failure"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # A probe and a Prometheus scrape ask over plain HTTP on the host itself.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", PUBLIC_BASE_URL)

# --- Reporter-facing behaviour ----------------------------------------------------------
# Where "Exit this page" goes: a neutral site, opened in place of ours.
QUICK_EXIT_URL = env("QUICK_EXIT_URL", "https://www.bbc.co.uk/weather")
# Argon2id cost for follow-up codes (RFC 9106 / OWASP minimum: 19 MiB, 2 passes).
FOLLOWUP_CODE_KDF = {
    "memory_cost": env_int("FOLLOWUP_KDF_MEMORY_KIB", 19 * 1024),
    "iterations": env_int("FOLLOWUP_KDF_ITERATIONS", 2),
    "lanes": 1,
}
# Argon2id cost of the key that wraps each staff member's private key, derived from
# their password at every login (64 MiB, 2 passes: about 0.17 s on these machines).
STAFF_KEY_KDF = {
    "memory_cost": env_int("STAFF_KEY_KDF_MEMORY_KIB", 64 * 1024),
    "iterations": env_int("STAFF_KEY_KDF_ITERATIONS", 2),
}
# Wrong staff passwords allowed in the window, per account (known or not) and per client
# address (complaints/signin.py).
STAFF_LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int("STAFF_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
STAFF_LOGIN_MAX_FAILURES_PER_CLIENT = env_int("STAFF_LOGIN_MAX_FAILURES_PER_CLIENT", 20)
STAFF_LOGIN_THROTTLE_WINDOW_MINUTES = env_int("STAFF_LOGIN_THROTTLE_WINDOW_MINUTES", 15)
# Wrong follow-up codes allowed in the window, per case reference and per client.
FOLLOWUP_MAX_FAILURES_PER_REFERENCE = env_int("FOLLOWUP_MAX_FAILURES_PER_REFERENCE", 5)
FOLLOWUP_MAX_FAILURES_PER_CLIENT = env_int("FOLLOWUP_MAX_FAILURES_PER_CLIENT", 20)
FOLLOWUP_THROTTLE_WINDOW_MINUTES = env_int("FOLLOWUP_THROTTLE_WINDOW_MINUTES", 15)
# Complaints one client address may file from the web in the window (a family may file
# several); past it a simple question, never a refusal (intake/human_check.py).
SUBMISSIONS_PER_CLIENT = env_int("SUBMISSIONS_PER_CLIENT", 10)
SUBMISSION_THROTTLE_WINDOW_MINUTES = env_int("SUBMISSION_THROTTLE_WINDOW_MINUTES", 60)
# Request bodies past this are refused before they are read (a complaint is at most
# 5,000 characters: 64 KiB leaves room for any script).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 64 * 1024)
# A reporter's follow-up access ends after this long without activity.
FOLLOWUP_SESSION_IDLE_MINUTES = env_int("FOLLOWUP_SESSION_IDLE_MINUTES", 15)

# --- Logging: never complaint content; see tests/complaints/test_confidentiality.py ------
# One line per request and per task, ids only (config/logs.py); LOG_FORMAT=json writes
# JSON lines for a log collector. No formatter writes an exception's message.
LOG_FORMAT = env("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "config.logs.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "filters": {"django_q_task_lines": {"()": "config.logs.DjangoQTaskLinesFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django logs POST bodies of failed requests nowhere, but keep SQL out of logs.
        "django.db.backends": {"level": "WARNING"},
        # Twilio's HTTP client logs request parameters at INFO: phone numbers, texts.
        "twilio": {"level": "WARNING"},
        # requests' connection pool logs every request line at DEBUG: a Media API URL
        # opens a child's photo (with our credentials) until it is deleted at Twilio.
        "urllib3": {"level": "WARNING"},
        # The request line says the status of every request: Django's own 4xx lines
        # would be a second line naming the path; runserver's names path and query.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # django-q2's lines per task (a failure's with its message) give way to the task
        # line; its cluster's own stay. Through the root's handler, not one of its own.
        "django-q": {"level": "INFO", "propagate": True, "filters": ["django_q_task_lines"]},
    },
}

# Behind a proxy, the request header that carries the client address, e.g.
# HTTP_X_FORWARDED_FOR (the last address in it is used). Empty: REMOTE_ADDR.
CLIENT_IP_HEADER = env("CLIENT_IP_HEADER")

# --- SMS (Twilio) -------------------------------------------------------------------------
SMS_BACKEND = env(
    "SMS_BACKEND",
    "notifications.backends.twilio.TwilioSmsBackend"
    if PRODUCTION
    else "notifications.backends.console.ConsoleSmsBackend",
)
# For the ledger backends (notifications/backends/ledger.py: `make soak NODES=2` and the
# restore drill): the file every process appends one line per send to, ids only.
DELIVERY_LEDGER_FILE = env("DELIVERY_LEDGER_FILE")
DELIVERY_LEDGER_SEND_MS = env_int("DELIVERY_LEDGER_SEND_MS", 0)  # each send's pretend latency
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID")
# Signs every webhook Twilio sends us. Development uses a fixed token so the SMS
# simulator at /dev/sms/ can sign its requests the same way.
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", "" if PRODUCTION else "development-twilio-token")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID")
# Where photos and voice messages a child sent are fetched from and deleted (the tests
# point it at a local stand-in of Twilio's API).
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", "https://api.twilio.com")
# A photo or voice message larger than this is not kept; the child is told (in bytes).
SMS_MEDIA_MAX_BYTES = env_int("SMS_MEDIA_MAX_BYTES", 5 * 1024 * 1024)
# The number children text, shown in help texts (and later on posters).
SMS_PUBLIC_NUMBER = env("SMS_PUBLIC_NUMBER", TWILIO_FROM_NUMBER)
# Narrative messages are joined until DONE, or until this many minutes of silence.
SMS_NARRATIVE_PAUSE_MINUTES = env_int("SMS_NARRATIVE_PAUSE_MINUTES", 10)
# A conversation idle this long ends: a narrative already given is filed, not dropped.
SMS_CONVERSATION_EXPIRY_HOURS = env_int("SMS_CONVERSATION_EXPIRY_HOURS", 24)
# The web code of a case filed by SMS is not put in the filing text: the child texts
# CODE for it. Until then (at most this long) it is sealed under the server key ring,
# then deleted: the one window in which the server could read a code.
SMS_CODE_PICKUP_HOURS = env_int("SMS_CODE_PICKUP_HOURS", 24)
# Numbered unit menu when the deployment has at most this many units.
SMS_UNIT_MENU_MAX = env_int("SMS_UNIT_MENU_MAX", 6)
# A focal point's reply to a child who wrote by SMS is refused past this many segments
# (each one costs, and a long text splits badly on old phones).
STAFF_SMS_REPLY_MAX_SEGMENTS = env_int("STAFF_SMS_REPLY_MAX_SEGMENTS", 3)
# --- WhatsApp (Twilio, the same messaging webhook) --------------------------------------
# The default WhatsApp sender, "whatsapp:+...": texts to WhatsApp children go from the
# address they last wrote to, else their unit's own number (Unit.whatsapp_number), else
# this one.
TWILIO_WHATSAPP_FROM = env("TWILIO_WHATSAPP_FROM")
# WhatsApp's customer-service window: free text only this long after the child's last
# message, less a margin for clocks and queues; later, a template (policies.
# WhatsAppTemplate) says there is news and the text waits for the child's reply.
WHATSAPP_WINDOW_HOURS = env_int("WHATSAPP_WINDOW_HOURS", 24)
WHATSAPP_WINDOW_MARGIN_MINUTES = env_int("WHATSAPP_WINDOW_MARGIN_MINUTES", 30)
