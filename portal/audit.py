"""One helper to write the audit trail: who viewed, exported or changed what, from where.

The trail is tamper-evident: each event carries a keyed hash (HMAC-SHA256, `AUDIT_HASH_KEY`) of its own
content and of the previous event's hash, so an edited, inserted or deleted row breaks the chain at that
point (`python manage.py verify_audit` names it). On PostgreSQL a trigger refuses UPDATE and DELETE on the
table (migration portal 0003). An event is written in the caller's transaction and sealed into the chain
right after that transaction commits (a short transaction of its own, serialised on PostgreSQL by an
advisory lock). Resident ID numbers and mobile numbers are masked in everything stored.
"""

import hashlib
import hmac
import json
import re
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction

from .models import AuditAction, AuditEvent

# An 18-character resident ID (17 digits and a digit or X) and a mainland mobile number, not inside a longer
# run of digits. A URL-encoded value (%20 between digits) is not matched: searches by ID go by POST.
RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{11})([\dXx])(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# Serialises the chain's writers on PostgreSQL (a transaction-level advisory lock); SQLite has one writer.
CHAIN_LOCK = 72_160_001


def mask(value: Any) -> Any:
    """`value` with every resident ID (6404*************3) and mobile number (138****5678) masked;
    dicts and lists are walked."""
    if isinstance(value, str):
        value = RESIDENT_ID.sub(lambda m: f"{m.group(1)[:4]}{'*' * 13}{m.group(3)}", value)
        return MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", value)
    if isinstance(value, dict):
        return {mask(k) if isinstance(k, str) else k: mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return value


def client_ip(request) -> str | None:
    """The client address; behind a proxy the trusted hop count decides (allauth's setting)."""
    if request is None:
        return None
    hops = getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        parts = [p.strip() for p in forwarded.split(",") if p.strip()]
        if len(parts) >= hops:
            return parts[-hops]
    return request.META.get("REMOTE_ADDR") or None


def _key() -> bytes:
    key = getattr(settings, "AUDIT_HASH_KEY", "") or f"audit-chain:{settings.SECRET_KEY}"
    return key.encode()


def event_hash(event: AuditEvent, prev_hash: str) -> str:
    """The keyed hash of an event's content and of the previous event's hash."""
    created = event.created_at.timestamp() if event.created_at else 0
    content = json.dumps(
        [
            prev_hash,
            event.actor_ref,
            event.action,
            event.object_type,
            event.object_id,
            event.object_repr,
            event.changes,
            event.ip_address or "",
            event.user_agent,
            event.path,
            f"{created:.6f}",
        ],
        sort_keys=True,
        ensure_ascii=False,
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )
    return hmac.new(_key(), content.encode(), hashlib.sha256).hexdigest()


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])


def seal_pending() -> int:
    """Chain every event not sealed yet, in id order, after the current end of the chain.

    Runs in its own short transaction once the writing transaction has committed (`record` registers it
    with on_commit), so no request holds the chain's lock while it renders; the chain's order is the
    order of sealing (`seal_seq`), which is also the order `verify_chain` walks.
    """
    with transaction.atomic():
        _lock_chain()
        tip = AuditEvent.objects.filter(seal_seq__isnull=False).order_by("-seal_seq").first()
        seq, prev_hash = (tip.seal_seq, tip.hash) if tip else (0, "")
        pending = list(AuditEvent.objects.filter(hash="", seal_seq__isnull=True).order_by("pk"))
        for event in pending:
            seq += 1
            event.actor_ref = event.actor_ref or (str(event.actor_id) if event.actor_id else "")
            event.prev_hash = prev_hash
            event.hash = prev_hash = event_hash(event, prev_hash)
            AuditEvent.objects.filter(pk=event.pk, hash="").update(
                actor_ref=event.actor_ref, prev_hash=event.prev_hash, hash=event.hash, seal_seq=seq
            )
    return len(pending)


def record(
    action: str,
    *,
    request=None,
    actor=None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    changes: dict | None = None,
) -> AuditEvent:
    """Write one audit event. `changes` holds field names with before/after values; never put secrets in it."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    assert action in AuditAction.values, action
    # As stored and read back: JSON types only, so that the hash is computed over what the row holds.
    changes = json.loads(json.dumps(mask(changes or {}), cls=DjangoJSONEncoder))
    event = AuditEvent(
        actor=actor,
        actor_ref=str(actor.pk) if actor is not None else "",
        action=action,
        object_type=object_type,
        object_id=mask(object_id)[:64],
        object_repr=mask(object_repr)[:200],
        changes=changes,
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "")[:300] if request else ""),
        path=(mask(request.get_full_path())[:300] if request else ""),
    )
    event.save()
    transaction.on_commit(seal_pending, robust=True)
    return event


def verify_chain() -> tuple[int, AuditEvent | None, str]:
    """Walk the chain in sealing order. Returns (events checked, first broken event or None, what is wrong).

    Events written but not sealed yet (their transaction has just committed) are not a break.
    """
    prev_hash = ""
    checked = 0
    events = AuditEvent.objects.filter(seal_seq__isnull=False).order_by("seal_seq")
    for event in events.iterator(chunk_size=2000):
        if event.seal_seq != checked + 1:
            return checked, event, "link"
        if event.prev_hash != prev_hash:
            return checked, event, "link"
        if not hmac.compare_digest(event.hash, event_hash(event, event.prev_hash)):
            return checked, event, "content"
        prev_hash = event.hash
        checked += 1
    blanked = AuditEvent.objects.filter(seal_seq__isnull=True).exclude(hash="").order_by("pk").first()
    if blanked is not None:
        return checked, blanked, "unsealed"
    return checked, None, ""
