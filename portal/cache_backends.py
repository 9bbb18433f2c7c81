"""A cache that survives its server: `ResilientCache` uses a primary cache (Redis) and, when a call to it
fails, logs the error and answers from a fallback cache for RETRY_AFTER seconds before trying the
primary again (one failed call per process per period, not a timeout on every request).

Why not only django-redis's IGNORE_EXCEPTIONS: an ignored error makes `add` answer False, and allauth's
rate limiter takes a lock with `cache.add` — with Redis down every sign-in would wait a second and then
be refused as rate limited. With a per-process in-memory fallback the limits keep counting (per process,
so a few times laxer with several web workers) and sign-in keeps working.

settings.CACHES["default"] = {
    "BACKEND": "portal.cache_backends.ResilientCache",
    "OPTIONS": {"PRIMARY": {...a cache config...}, "FALLBACK": {...}, "RETRY_AFTER": 5},
}
"""

import logging
import threading
import time

from django.core.cache import InvalidCacheBackendError
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.utils.module_loading import import_string

logger = logging.getLogger("portal.cache")


def _build(config: dict, name: str) -> BaseCache:
    config = dict(config)
    backend = config.pop("BACKEND")
    location = config.pop("LOCATION", name)
    try:
        return import_string(backend)(location, config)
    except ImportError as exc:
        raise InvalidCacheBackendError(f"Could not find backend {backend!r}: {exc}") from exc


class ResilientCache(BaseCache):
    def __init__(self, location, params):
        options = dict(params.get("OPTIONS") or {})
        super().__init__({key: value for key, value in params.items() if key != "OPTIONS"})
        self.primary = _build(options["PRIMARY"], f"{location}-primary")
        self.fallback = _build(
            options.get("FALLBACK", {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}),
            f"{location}-fallback",
        )
        self.retry_after = float(options.get("RETRY_AFTER", 5))
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def primary_up(self) -> bool:
        return time.monotonic() >= self._down_until

    def _call(self, method: str, *args, **kwargs):
        if self.primary_up:
            try:
                return getattr(self.primary, method)(*args, **kwargs)
            except (ValueError, TypeError):
                raise  # an answer, not an outage (incr of a missing key, a value that cannot be pickled)
            except Exception as exc:
                with self._lock:
                    if self.primary_up:
                        logger.warning("cache unavailable, using the fallback for %ss: %s", self.retry_after, exc)
                    self._down_until = time.monotonic() + self.retry_after
        return getattr(self.fallback, method)(*args, **kwargs)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout=timeout, version=version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout=timeout, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout=timeout, version=version)

    def delete(self, key, version=None):
        return self._call("delete", key, version=version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout=timeout, version=version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version=version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version=version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version=version)

    def decr(self, key, delta=1, version=None):
        return self._call("decr", key, delta, version=version)

    def clear(self):
        self.fallback.clear()
        return self._call("clear")

    def close(self, **kwargs):
        for cache in (self.primary, self.fallback):
            try:
                cache.close(**kwargs)
            except Exception as exc:  # closing a dead connection must not fail the request
                logger.debug("closing cache: %s", exc)
