"""Seal the audit events written before the hash chain, then, on PostgreSQL, refuse UPDATE and DELETE on
the table. Two updates stay possible, each touching nothing else: a deleted user's events lose their
actor FK (ON DELETE SET NULL; `actor_ref` keeps the id in the hash), and a tail written by bulk_create
gets its hash once (`portal.audit.seal_pending`). TRUNCATE is left to the owner (test database flushes)."""

from django.db import migrations

TRIGGER = """
CREATE OR REPLACE FUNCTION portal_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
           AND (NEW.id, NEW.action, NEW.object_type, NEW.object_id, NEW.object_repr, NEW.changes, NEW.actor_ref,
                NEW.prev_hash, NEW.hash, NEW.ip_address, NEW.user_agent, NEW.path, NEW.created_at)
           IS NOT DISTINCT FROM
               (OLD.id, OLD.action, OLD.object_type, OLD.object_id, OLD.object_repr, OLD.changes, OLD.actor_ref,
                OLD.prev_hash, OLD.hash, OLD.ip_address, OLD.user_agent, OLD.path, OLD.created_at) THEN
            RETURN NEW;
        END IF;
        IF OLD.hash = '' AND NEW.hash <> ''
           AND (NEW.id, NEW.actor_id, NEW.action, NEW.object_type, NEW.object_id, NEW.object_repr, NEW.changes,
                NEW.ip_address, NEW.user_agent, NEW.path, NEW.created_at)
           IS NOT DISTINCT FROM
               (OLD.id, OLD.actor_id, OLD.action, OLD.object_type, OLD.object_id, OLD.object_repr, OLD.changes,
                OLD.ip_address, OLD.user_agent, OLD.path, OLD.created_at) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'portal_auditevent is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS portal_auditevent_append_only ON portal_auditevent;
CREATE TRIGGER portal_auditevent_append_only BEFORE UPDATE OR DELETE ON portal_auditevent
    FOR EACH ROW EXECUTE FUNCTION portal_auditevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS portal_auditevent_append_only ON portal_auditevent;
DROP FUNCTION IF EXISTS portal_auditevent_append_only();
"""


def seal_existing(apps, schema_editor):
    from portal.audit import event_hash

    AuditEvent = apps.get_model("portal", "AuditEvent")
    prev_hash = ""
    events = AuditEvent.objects.using(schema_editor.connection.alias).order_by("pk")
    for seq, event in enumerate(events.iterator(), start=1):
        event.actor_ref = str(event.actor_id) if event.actor_id else ""
        event.prev_hash = prev_hash
        event.seal_seq = seq
        event.hash = prev_hash = event_hash(event, prev_hash)
        event.save(update_fields=["actor_ref", "prev_hash", "hash", "seal_seq"])


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:  # no parameters: "%" in the function stays as is
            cursor.execute(TRIGGER)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_security_hardening")]

    operations = [
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
        migrations.RunPython(add_trigger, drop_trigger),
    ]
