"""Production: refuses to start without the variables it cannot guess; HTTPS everywhere."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .env import env, env_bool, env_int, env_list

DEBUG = False
PORTAL_ENVIRONMENT = "production"
SECRET_KEY = env("SECRET_KEY", required=True)
env("DATABASE_URL", required=True)
IDENTITY_HASH_KEY = env("IDENTITY_HASH_KEY", required=True)
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("The environment variable FIELD_ENCRYPTION_KEYS must be set (Fernet keys).")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("The environment variable ALLOWED_HOSTS must be set.")

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
# One connection per process, reused across requests and checked before reuse (a restarted PostgreSQL
# costs one failed check, not an error page).
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1)
NINJA_NUM_PROXIES = ALLAUTH_TRUSTED_PROXY_COUNT  # the API throttles read the client address the same way

# Wagtail's editor shows its live preview in a same-origin frame, so X-Frame-Options stays
# SAMEORIGIN (set in base.py) rather than DENY; other origins still cannot frame the site.
SILENCED_SYSTEM_CHECKS = ["security.W019"]
