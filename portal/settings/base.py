"""Settings shared by every environment. Safe by default: dev.py relaxes, production.py insists."""

from pathlib import Path

import dj_database_url

from .env import env, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env("SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "portal",
    "api",
    "cms",
    "volunteers",
    "services",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "portal.apps.PortalUsersAppConfig",  # wagtail.users, scoped
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "django_tables2",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.csp.PortalCSPMiddleware",  # outside the page cache: every response gets its own header
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.ChosenLanguageMiddleware",
    "portal.cache.PublicPageCacheMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.StaffIdleTimeoutMiddleware",
    "portal.middleware.RequireMFAMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # PostgreSQL's JIT spends seconds compiling the dashboards' aggregates for well under a second of work.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    # Redis down must not take the site down (portal.cache_backends.ResilientCache): a failing call is logged
    # and answered by a fallback for REDIS_RETRY_AFTER seconds. "default" (allauth's rate limits, the rest)
    # falls back to an in-process cache, so limits keep counting; public pages are then served uncached and
    # sessions read from the database (cached_db). Every Redis call gives up after REDIS_TIMEOUT seconds.
    def _resilient(key_prefix: str = "", fallback: str = "django.core.cache.backends.locmem.LocMemCache"):
        primary = {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": key_prefix,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": float(env("REDIS_CONNECT_TIMEOUT", "0.5")),
                "SOCKET_TIMEOUT": float(env("REDIS_TIMEOUT", "0.5")),
            },
        }
        return {
            "BACKEND": "portal.cache_backends.ResilientCache",
            "OPTIONS": {
                "PRIMARY": primary,
                "FALLBACK": {"BACKEND": fallback},
                "RETRY_AFTER": env_int("REDIS_RETRY_AFTER", 5),
            },
        }

    _dummy = "django.core.cache.backends.dummy.DummyCache"
    CACHES = {"default": _resilient(), "pages": _resilient("pages", _dummy), "sessions": _resilient("sessions", _dummy)}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "sessions"
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Anonymous visitors' copies of public pages (portal.cache) live in their own cache, so that many
        # page variants never push rate-limit counters out of the in-process "default" cache.
        "pages": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pages",
            "OPTIONS": {"MAX_ENTRIES": 2000},
        },
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Key of the audit trail's hash chain (portal.audit); derived from SECRET_KEY when unset. Never change it
# without re-sealing: `verify_audit` would report the first event as broken.
AUDIT_HASH_KEY = env("AUDIT_HASH_KEY", "")
# Bulk exports of personal data (GB/T 35273 §7): more rows than this ask for a reason, kept in the audit.
EXPORT_REASON_THRESHOLD = env_int("EXPORT_REASON_THRESHOLD", 500)

# --- background work (portal.tasks): Django's tasks API, a durable queue in the database ----------
# `manage.py run_worker` runs the tasks (any number of processes); `manage.py run_scheduler` (one process)
# enqueues the periodic ones listed in portal/schedule.py. Tests use the immediate backend.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# Idempotent tasks put back in the queue when they have been "running" longer than this many seconds (their
# worker was killed): portal.tasks.requeue_stale_tasks, every 5 minutes. A pairing run or an import joins
# this list once its task is idempotent.
TASKS_REQUEUE_AFTER = {
    "portal.tasks.deliver_sms": 600,
    "portal.tasks.run_command": 3600,
    "services.pairing.runs.run_match": 330,  # half RUN_STALE_AFTER and a little: see run_match
    "services.ledger.imports.run_import": 900,
}

AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:me"
LOGOUT_REDIRECT_URL = "/"

# --- allauth: phone + password, SMS verification, rate limits on -----------------------------
ACCOUNT_ADAPTER = "portal.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "portal.forms.SignupExtraForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_USER_MODEL_EMAIL_FIELD = "email"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 10 * 60
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_RATE_LIMITS = {
    "reset_password": "20/m/ip,3/10m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "留守老人关爱服务门户"

# Where SMS goes. The default writes the message to the log; set SMS_SENDER to a dotted path of a
# class with `send(phone, message)` for a real provider (its own settings read from the environment).
SMS_SENDER = env("SMS_SENDER", "portal.sms.LogSender")
SMS_SIGN_NAME = env("SMS_SIGN_NAME", "留守老人关爱")
# The outbox (portal.SmsMessage, portal.sms): a message failing with a temporary error is tried again
# after SMS_RETRY_BASE_SECONDS, doubling each time, at most SMS_MAX_ATTEMPTS times; one phone receives
# at most SMS_DAILY_CAP_PER_PHONE messages a day (the rest are marked failed, never sent).
SMS_MAX_ATTEMPTS = env_int("SMS_MAX_ATTEMPTS", 5)
SMS_RETRY_BASE_SECONDS = env_int("SMS_RETRY_BASE_SECONDS", 30)
SMS_DAILY_CAP_PER_PHONE = env_int("SMS_DAILY_CAP_PER_PHONE", 20)
SMS_TIMEOUT_SECONDS = float(env("SMS_TIMEOUT_SECONDS", "10"))

# Resident ID numbers and similar identifiers are encrypted at rest (portal.identity). Keys are
# comma-separated Fernet keys; the first encrypts, all decrypt (rotation). A keyed hash allows lookup.
# base.py derives development keys from SECRET_KEY; production.py requires real ones.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])
IDENTITY_HASH_KEY = env("IDENTITY_HASH_KEY", "")

# Key of the audit trail's hash chain (portal.audit); derived from SECRET_KEY when unset. Never change it
# without re-sealing: `verify_audit` would report the first event as broken.
AUDIT_HASH_KEY = env("AUDIT_HASH_KEY", "")
# Bulk exports of personal data (GB/T 35273 §7): more rows than this ask for a reason, kept in the audit.
EXPORT_REASON_THRESHOLD = env_int("EXPORT_REASON_THRESHOLD", 500)

# Anonymous visitors' copies of public pages are kept this many seconds (portal.cache); 0 turns it off.
PUBLIC_PAGE_CACHE_SECONDS = env_int("PUBLIC_PAGE_CACHE_SECONDS", 300)

# Supervision (services.supervision.figures): a village whose ledger has not been updated for this many days is
# flagged 底数不清 in the warning-sign ranking.
SUPERVISION_LEDGER_STALE_DAYS = env_int("SUPERVISION_LEDGER_STALE_DAYS", 90)

# Staff (anyone holding a StaffRole, or is_staff) are signed out after this many idle seconds.
STAFF_IDLE_TIMEOUT = env_int("STAFF_IDLE_TIMEOUT", 30 * 60)

# --- i18n -------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [
    BASE_DIR / "locale",
    BASE_DIR / "portal" / "allauth_locale",
]  # the second: wording for allauth's own strings
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["portal.formats"]

# --- static and media ---------------------------------------------------------------------------
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATIC_URL = "/static/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
# "private": uploads that must never be served as static media (care-agreement scans); views serve them
# after a scope check and an audit entry.
PRIVATE_ROOT = Path(env("PRIVATE_ROOT", str(BASE_DIR / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_ROOT), "base_url": None},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# --- security headers that hold everywhere --------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy, enforced (portal.csp: the policy, and the looser one for Wagtail's /admin/).
from portal.csp import PORTAL_POLICY  # noqa: E402

CONTENT_SECURITY_POLICY = {"DIRECTIVES": PORTAL_POLICY}
SESSION_COOKIE_AGE = 14 * 24 * 3600

# --- Wagtail ------------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "农村留守老年人关爱服务门户"
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
WAGTAILADMIN_LOGIN_URL = "account_login"
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "rtf", "txt", "xlsx", "zip", "jpg", "png"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILEMBEDS_FINDERS = []

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "django.tasks": {"level": "WARNING"},
        "wagtail": {"level": "WARNING"},
        "apscheduler": {"level": "WARNING"},
    },
}

# The open API (/api/v1/, app `api`): access tokens are short-lived, refresh tokens last longer; both
# can be revoked by their owner on “My page”. Throttles count per client (Django cache, so Redis in
# production); API_RATE_LIMITS ({name: (count, seconds)}) bounds SMS sign-in codes (api/ratelimit.py).
API_ACCESS_TOKEN_SECONDS = env_int("API_ACCESS_TOKEN_SECONDS", 15 * 60)
API_REFRESH_TOKEN_DAYS = env_int("API_REFRESH_TOKEN_DAYS", 30)
API_THROTTLE_RATES = {"anon": env("API_THROTTLE_ANON", "120/m"), "auth": env("API_THROTTLE_AUTH", "600/m")}
