"""Test run: fast hashing, in-memory cache, plain static storage. DATABASE_URL still decides the database."""

from .base import *  # noqa: F401,F403
from .env import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY", "test-only-key")
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "private": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SMS_SENDER = "portal.sms.OutboxSender"
# Tasks run at once, in the caller's transaction; SMS are handed to the task at once as well (the
# database backend makes the enqueue part of the caller's transaction; see portal.sms.send_sms).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SMS_ENQUEUE_AT_ONCE = True
WHITENOISE_AUTOREFRESH = True

from portal.identity import derive_key  # noqa: E402

FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [derive_key(SECRET_KEY, "fields")]  # noqa: F405
IDENTITY_HASH_KEY = IDENTITY_HASH_KEY or derive_key(SECRET_KEY, "identity-hash")  # noqa: F405

MATCH_RUN_INLINE = True  # services.pairing.runs.match_start: run matching in the request, not on the queue
# The public page cache (portal.cache) is off so tests see fresh pages; its own tests turn it on.
PUBLIC_PAGE_CACHE_SECONDS = 0
