"""Contact reports, whereabouts proposals and their confirmation by the liaison: through the views and actions."""

import datetime

import pytest
import time_machine

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from portal.models import AuditEvent, Region
from services.family import actions
from services.family.models import ChangeStatus, FamilyContactLog, WhereaboutsChange
from services.ledger.models import ElderChange, FamilyContact
from services.tests.factories_care import OTHER_TOWNSHIP_VILLAGE, make_elder, staff
from services.tests.factories_ledger import FamilyContactFactory
from services.tests.family.conftest import FAMILY_PHONE
from tests.factories import UserFactory
from tests.races import race

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 12, 4, 10, 0, tzinfo=datetime.UTC)


@time_machine.travel(TODAY, tick=False)
def test_report_contact_through_the_page(family_client, elder, contact, family_user):
    url = reverse("services:family-contact-report", args=[elder.pk])
    response = family_client.post(url, {"kind": "video", "contact_date": "2026-12-03"})
    assert response.status_code == 302
    log = FamilyContactLog.objects.get()
    assert (log.elder, log.contact, log.reporter, log.kind, log.contact_date) == (
        elder,
        contact,
        family_user,
        "video",
        datetime.date(2026, 12, 3),
    )
    page = family_client.get(reverse("services:family-elder", args=[elder.pk])).content.decode()
    assert "2026年12月3日" in page and "视频" in page
    event = AuditEvent.objects.get(action="create", object_type="services.familycontactlog")
    assert event.changes == {"kind": "video", "contact_date": "2026-12-03"}


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    "data",
    [
        {"kind": "call", "contact_date": "2026-12-05"},  # future
        {"kind": "call", "contact_date": "2026-08-01"},  # older than 90 days
        {"kind": "telepathy", "contact_date": "2026-12-01"},  # no such kind
        {"kind": "call", "contact_date": "not a date"},
        {"kind": ["call", "visit"], "contact_date": ["2026-12-01", "x"]},
        {"kind": "<script>alert(1)</script>", "contact_date": "2026-12-01"},
        {},
    ],
)
def test_bad_reports_change_nothing(family_client, elder, contact, data):
    response = family_client.post(reverse("services:family-contact-report", args=[elder.pk]), data)
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert FamilyContactLog.objects.count() == 0


def test_action_refuses_another_familys_elder(other_family_user, elder, contact):
    with pytest.raises(ValidationError) as exc:
        actions.contact_report(
            actor=other_family_user, elder=elder, kind="call", contact_date=datetime.date(2026, 1, 1)
        )
    assert exc.value.code == "not_family"


@time_machine.travel(TODAY, tick=False)
def test_reports_are_rate_limited(family_client, elder, contact):
    url = reverse("services:family-contact-report", args=[elder.pk])
    codes = [family_client.post(url, {"kind": "call", "contact_date": "2026-12-01"}).status_code for _ in range(22)]
    assert codes[:20] == [302] * 20
    assert codes[20:] == [400, 400]
    assert FamilyContactLog.objects.count() == 20


# --- whereabouts -----------------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_whereabouts_proposed_then_confirmed_by_the_liaison(family_client, elder, contact, liaison, client):
    response = family_client.post(
        reverse("services:family-whereabouts", args=[elder.pk]),
        {"city": "银川市", "employer": "宁夏建工集团", "since": "2026-10-01", "phone": "159 0000 1234"},
    )
    assert response.status_code == 302
    change = WhereaboutsChange.objects.get()
    assert change.status == ChangeStatus.PENDING and change.phone == "15900001234"
    contact.refresh_from_db()
    assert contact.works_in == "银川市金凤区" and contact.phone == FAMILY_PHONE  # nothing changes yet

    staff = Client()
    staff.force_login(liaison)
    queue = staff.get(reverse("services:family-changes"))
    assert queue.status_code == 200 and "宁夏建工集团" in queue.content.decode()
    response = staff.post(reverse("services:family-change-decide", args=[change.pk]), {"decision": "confirm"})
    assert response.status_code == 302
    change.refresh_from_db()
    contact.refresh_from_db()
    assert change.status == ChangeStatus.CONFIRMED and change.decided_by == liaison
    assert contact.works_in == "银川市·宁夏建工集团（2026年10月起）"
    assert contact.phone == "15900001234"
    history = ElderChange.objects.filter(elder=elder, kind="family").latest("at")
    assert "15900001234" not in str(history.changes)  # the history keeps the phone masked
    assert "宁夏建工集团" in str(history.changes)
    # the old number has lost access at once; the new one (once verified) has it
    assert family_client.get(reverse("services:family-elder", args=[elder.pk])).status_code == 404


def test_rejected_change_leaves_the_contact(family_user, elder, contact, liaison):
    change = actions.whereabouts_propose(actor=family_user, elder=elder, city="石嘴山")
    actions.whereabouts_decide(actor=liaison, change=change, confirm=False)
    contact.refresh_from_db()
    assert contact.works_in == "银川市金凤区"
    assert WhereaboutsChange.objects.get().status == ChangeStatus.REJECTED


def test_liaison_of_another_village_cannot_decide(family_user, elder, contact, client):
    other = staff("village_liaison", OTHER_TOWNSHIP_VILLAGE)
    change = actions.whereabouts_propose(actor=family_user, elder=elder, city="石嘴山")
    client.force_login(other)
    assert client.get(reverse("services:family-changes")).context["changes"] == []
    assert (
        client.post(reverse("services:family-change-decide", args=[change.pk]), {"decision": "confirm"}).status_code
        == 404
    )
    with pytest.raises(ValidationError):
        actions.whereabouts_decide(actor=other, change=change, confirm=True)
    assert WhereaboutsChange.objects.get().status == ChangeStatus.PENDING


@pytest.mark.parametrize(
    "data",
    [{"city": ""}, {"city": "银川", "phone": "12345"}, {"city": "银川", "since": "2099-01-01"}, {"city": "x" * 80}],
)
def test_bad_whereabouts_change_nothing(family_client, elder, contact, data):
    response = family_client.post(reverse("services:family-whereabouts", args=[elder.pk]), data)
    assert response.status_code == 400
    assert WhereaboutsChange.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_liaisons_deciding_at_once_decide_once():
    if not Region.objects.filter(code="640422100201").exists():
        call_command("load_regions", verbosity=0)
    elder = make_elder()
    FamilyContactFactory(elder=elder, phone=FAMILY_PHONE)
    user = UserFactory(phone=FAMILY_PHONE)
    first = staff("village_liaison", "640422100201")
    second = staff("village_liaison", "640422100201")
    change = actions.whereabouts_propose(actor=user, elder=elder, city="银川", phone="15900005555")

    def decide(actor):
        actions.whereabouts_decide(actor=actor, change=change, confirm=True)
        return "decided"

    assert race(decide, [first, second]) == ["already_decided", "decided"]
    assert ElderChange.objects.filter(elder=elder, kind="family").count() == 1
    assert FamilyContact.objects.get(elder=elder).phone == "15900005555"
