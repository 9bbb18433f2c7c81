"""The SMS provider's reply callback of 平安铃: signed, in a time window, idempotent by message id.

The provider POSTs JSON `{"message_id", "phone", "text"}` with the headers `X-Timestamp` (Unix seconds) and
`X-Signature`: hex HMAC-SHA256 over "<timestamp>.<raw body>" with SAFECHECK_CALLBACK_SECRET. A wrong signature
or a timestamp outside SAFECHECK_CALLBACK_WINDOW_SECONDS is refused (403) and changes nothing; a message id seen
before changes nothing again. Every accepted callback gets the same answer whether or not the number is
enrolled, so the endpoint tells nobody which numbers are.
"""

import hashlib
import hmac
import json
import time

from django.conf import settings


class Refused(Exception):
    pass


def sign(body: bytes, timestamp: str, secret: str | None = None) -> str:
    key = (secret if secret is not None else settings.SAFECHECK_CALLBACK_SECRET).encode()
    return hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(body: bytes, timestamp: str, signature: str, *, now: float | None = None) -> dict:
    """The payload of a well-signed, fresh callback; Refused otherwise."""
    secret = getattr(settings, "SAFECHECK_CALLBACK_SECRET", "")
    if not secret or not timestamp or not signature:
        raise Refused("unsigned")
    if not hmac.compare_digest(sign(body, timestamp, secret), signature.strip().lower()):
        raise Refused("signature")
    try:
        stamp = int(timestamp)
    except ValueError:
        raise Refused("timestamp") from None
    window = int(getattr(settings, "SAFECHECK_CALLBACK_WINDOW_SECONDS", 300))
    if abs((now if now is not None else time.time()) - stamp) > window:
        raise Refused("stale")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refused("body") from None
    if not isinstance(payload, dict):
        raise Refused("body")
    fields = {name: payload.get(name) for name in ("message_id", "phone", "text")}
    if not all(isinstance(value, str) for value in fields.values()) or not fields["message_id"].strip():
        raise Refused("body")
    return fields
