"""The environment of a production-like stack on this machine (`make serve`, `make faults`, the
collectstatic check of `make test`): production settings, loopback only, plain HTTP.

Keys are generated once per state folder and kept there (encrypted columns must stay readable across
restarts); they are for local use only and never leave the machine.
"""

import base64
import json
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _keys(state: Path) -> dict:
    path = state / "keys.json"
    if path.exists():
        return json.loads(path.read_text())
    keys = {
        "SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "IDENTITY_HASH_KEY": secrets.token_urlsafe(40),
    }
    state.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keys))
    path.chmod(0o600)
    return keys


def production_env(state: Path, *, database_url: str, redis_url: str | None = None, **extra: str) -> dict:
    env = {
        **os.environ,
        **_keys(state),
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "TRUSTED_PROXY_COUNT": "0",
        "STATIC_ROOT": str(state / "static"),
        "WAGTAILADMIN_BASE_URL": "http://127.0.0.1:8000",
        **extra,
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return env
