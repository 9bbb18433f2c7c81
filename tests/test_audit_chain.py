"""Issue 15, items 9 and 2 (audit half): a tamper-evident, append-only trail that stores no ID or phone."""

import pytest

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from portal import audit
from portal.models import AuditAction, AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ID_NUMBER = "64042219500315123X"
PHONE = "13812345678"


def write(n=3, **kwargs):
    """Events as a request writes them; sealed as their transaction commits (here: explicitly)."""
    events = [audit.record(AuditAction.VIEW, object_type="t", object_repr=f"event {i}", **kwargs) for i in range(n)]
    audit.seal_pending()
    for event in events:
        event.refresh_from_db()
    return events


def test_each_event_chains_to_the_previous_one():
    events = write(3)
    assert events[0].prev_hash == "" and events[0].seal_seq == 1
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert audit.verify_chain() == (3, None, "")
    call_command("verify_audit")


def _tamper(sql, params):
    """Change the table behind the application's back. On PostgreSQL the trigger refuses that, so the tamperer
    here is a superuser who switches triggers off for the session (as an attacker with the database would)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


def test_verify_audit_names_an_edited_event():
    events = write(4)
    _tamper("UPDATE portal_auditevent SET object_repr = %s WHERE id = %s", ["someone else", events[2].pk])
    with pytest.raises(CommandError, match=rf"(#|第){events[2].pk}\D"):
        call_command("verify_audit")


def test_verify_audit_names_the_event_after_a_deleted_one():
    events = write(4)
    _tamper("DELETE FROM portal_auditevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=rf"(#|第){events[2].pk}\D"):
        call_command("verify_audit")


def test_bulk_written_events_are_sealed_by_the_next_record():
    write(1)
    AuditEvent.objects.bulk_create([AuditEvent(action=AuditAction.CHANGE, object_repr="bulk")])
    assert audit.verify_chain() == (1, None, "")  # written, not sealed yet: not a break
    write(1)
    assert audit.verify_chain() == (3, None, "")


def test_events_are_sealed_when_the_request_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = audit.record(AuditAction.VIEW, object_repr="in a request")
        assert AuditEvent.objects.get(pk=event.pk).hash == ""
    event.refresh_from_db()
    assert event.hash and event.seal_seq == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_writers_keep_one_chain():
    """Ten requests writing at once (really at once on PostgreSQL): one unbroken chain, each sealed once."""
    from tests.races import race

    def press(n):
        with transaction.atomic():
            audit.record(AuditAction.VIEW, object_repr=f"parallel {n}")
        return "ok"

    assert race(press, range(10)) == ["ok"] * 10
    assert audit.verify_chain() == (10, None, "")
    assert sorted(AuditEvent.objects.values_list("seal_seq", flat=True)) == list(range(1, 11))


def test_deleting_a_user_keeps_the_chain():
    user = UserFactory()
    audit.record(AuditAction.LOGIN, actor=user)
    audit.seal_pending()
    user.delete()
    assert AuditEvent.objects.get().actor_id is None
    assert audit.verify_chain()[1] is None


def test_an_edit_through_the_application_is_refused_or_detected():
    """PostgreSQL refuses UPDATE and DELETE on the table (a trigger); SQLite has no such trigger here, and there
    the chain names the edited event."""
    (event,) = write(1)
    if connection.vendor == "postgresql":
        for attempt in (
            lambda: AuditEvent.objects.filter(pk=event.pk).update(object_repr="x"),
            lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
        ):
            with pytest.raises(DatabaseError), transaction.atomic():
                attempt()
        assert AuditEvent.objects.get(pk=event.pk).object_repr == "event 0"
    else:
        AuditEvent.objects.filter(pk=event.pk).update(object_repr="x")
        assert audit.verify_chain()[1].pk == event.pk


def test_ids_and_phones_are_masked_in_path_query_and_changes():
    request = RequestFactory().get("/services/elders/", {"q": ID_NUMBER, "phone": PHONE})
    request.user = UserFactory()
    event = audit.record(
        AuditAction.EXPORT,
        request=request,
        object_repr=f"search {PHONE}",
        changes={"query": f"q={ID_NUMBER}&phone={PHONE}", "id_number": [ID_NUMBER.lower(), None]},
    )
    audit.seal_pending()
    event.refresh_from_db()
    stored = f"{event.path} {event.changes} {event.object_repr}"
    assert ID_NUMBER not in stored and ID_NUMBER.lower() not in stored and PHONE not in stored
    assert "6404*************X" in event.path and "138****5678" in stored
    assert audit.verify_chain()[1] is None


def test_mask_leaves_other_numbers_alone():
    assert audit.mask("640422100201") == "640422100201"  # a village code
    assert audit.mask("rows=500") == "rows=500"
