"""Local development: DEBUG on, a throwaway key, localhost only."""

from .base import *  # noqa: F401,F403
from .env import env, env_list

DEBUG = True
SECRET_KEY = env("SECRET_KEY", "dev-only-insecure-key-change-me")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
STORAGES = {
    **STORAGES,  # noqa: F405
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

from portal.identity import derive_key  # noqa: E402

FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [derive_key(SECRET_KEY, "fields")]  # noqa: F405
IDENTITY_HASH_KEY = IDENTITY_HASH_KEY or derive_key(SECRET_KEY, "identity-hash")  # noqa: F405
