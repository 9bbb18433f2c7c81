"""Benchmark settings: the test settings plus a floor view, on a file database that survives between runs."""

from pathlib import Path

import dj_database_url

from portal.settings.env import env
from portal.settings.test import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
_default = f"sqlite:///{Path(__file__).resolve().parent / 'out' / 'bench.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env("BENCH_DATABASE_URL", _default))}
DEBUG = False
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"level": "ERROR"}}
# As in production: anonymous visitors get cached public pages ("cms: cached …" cases, "home page (anonymous)").
PUBLIC_PAGE_CACHE_SECONDS = 300
