"""Fixed-window counters in the cache for the sign-in endpoints (per mobile number and per connection).

The limits live in `settings.API_RATE_LIMITS` ({name: (count, seconds)}) and are read on every call, so a
test or an operator can change them. With Redis (production) every worker shares the counters.
"""

from django.conf import settings
from django.core.cache import cache

DEFAULT_LIMITS = {
    "code_phone": (3, 600),  # SMS codes per mobile number per 10 minutes
    "code_ip": (20, 600),  # SMS codes per connection per 10 minutes
    "token_ip": (30, 600),  # code or refresh exchanges per connection per 10 minutes
}


def limit(name: str) -> tuple[int, int]:
    return {**DEFAULT_LIMITS, **getattr(settings, "API_RATE_LIMITS", {})}[name]


def allow(name: str, key: str) -> bool:
    """Count one hit of `key` under the limit `name`; False once the window is full."""
    count, seconds = limit(name)
    cache_key = f"api-rl:{name}:{key}"
    if cache.add(cache_key, 1, seconds):
        return True
    try:
        hits = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, seconds)
        return True
    return hits <= count
