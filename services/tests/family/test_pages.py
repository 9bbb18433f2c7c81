"""The family pages: what 我的老人 shows, the family scope on every URL, audit, no caching, query counts."""

import datetime

import pytest
import time_machine

from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, Region
from services.care.models import Alert, Visit
from services.catalogue.selectors import categories_ensure
from services.family.models import FamilyContactLog
from services.ledger.models import AgreementStatus, CareAgreement
from services.models import ServiceItem, ServiceRecord
from services.pairing.models import Pairing
from services.tests.factories_care import make_elder
from services.tests.factories_ledger import FamilyContactFactory
from tests.factories import UserFactory
from volunteers.organisations import kinds_ensure
from volunteers.tests.conftest import make_organisation

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 15, 10, 0, tzinfo=datetime.UTC)


def elder_urls(elder_pk: int, agreement_pk: int | None = None) -> list[tuple[str, str]]:
    """(method, url) of every family page about one elder."""
    urls = [
        ("get", reverse("services:family-elder", args=[elder_pk])),
        ("post", reverse("services:family-contact-report", args=[elder_pk])),
        ("post", reverse("services:family-whereabouts", args=[elder_pk])),
        ("get", reverse("services:family-agreement", args=[elder_pk])),
        ("post", reverse("services:family-agreement", args=[elder_pk])),
    ]
    if agreement_pk:
        urls.append(("get", reverse("services:family-agreement-pdf", args=[agreement_pk])))
    return urls


def _agreement(elder, contact) -> CareAgreement:
    return CareAgreement.objects.create(
        elder=elder,
        supporter=contact,
        carer_name="王婶",
        carer_phone="15900000001",
        start_date=datetime.date(2026, 7, 1),
        end_date=datetime.date(2026, 12, 31),
        status=AgreementStatus.DRAFT,
    )


# --- what the page shows ---------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_my_elder_shows_visit_alerts_services_pairing_and_liaison(family_client, elder, contact, liaison):
    liaison.phone = "13900000001"
    liaison.save()
    Visit.objects.create(
        elder=elder,
        visitor=liaison,
        method="home",
        visited_at=timezone.now() - datetime.timedelta(days=3),
        contact_made=True,
        health="fair",
        mood="low",
        living_conditions="good",
        notes="STAFF-ONLY-NOTE 儿子不孝",
        safety_risks="SAFETY-RISK-TEXT",
    )
    Alert.objects.create(
        reference="JJ-1",
        elder=elder,
        village=elder.village,
        kind="critical_illness",
        description="摔倒",
        source="liaison",
        status="escalated",
        content_hash="x",
    )
    Alert.objects.create(
        reference="JJ-2",
        elder=elder,
        village=elder.village,
        kind="critical_illness",
        description="旧事",
        source="liaison",
        status="closed",
        content_hash="y",
        closed_at=timezone.now(),
    )
    giver = UserFactory(real_name="海小勇")
    kinds_ensure()
    organisation = make_organisation(admin=giver, name="大营村老年协会")
    Pairing.objects.create(elder=elder, giver_user=giver, status="active")
    Pairing.objects.create(elder=elder, giver_organisation=organisation, status="active")
    item = ServiceItem.objects.create(category=categories_ensure()[0], name="助餐", description="")
    region = Region.objects.get(code=elder.village_id)
    start = timezone.now() - datetime.timedelta(days=2)
    for kind, status in (
        ("volunteer", "confirmed"),
        ("volunteer", "confirmed"),
        ("purchased", "settled"),
        ("purchased", "submitted"),
        ("volunteer", "rejected"),
    ):
        ServiceRecord.objects.create(
            giver=giver,
            recorded_by=giver,
            organisation=organisation,
            elder=elder,
            region=region,
            service_item=item,
            kind=kind,
            status=status,
            start=start,
            end=start + datetime.timedelta(hours=1),
            place="家中",
            content="助餐",
            reason="不符" if status == "rejected" else "",
        )
    response = family_client.get(reverse("services:family-elder", args=[elder.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "2026年6月12日" in html  # the last visit, the Chinese way
    assert "上门探访" in html and "联系上了老人" in html
    assert "低落或孤独" in html
    assert "STAFF-ONLY-NOTE" not in html and "SAFETY-RISK-TEXT" not in html
    assert "已上报乡镇" in html and "旧事" not in html
    assert "海小勇" in html and "大营村老年协会" in html
    assert "13900000001" in html  # the liaison's work phone
    assert response.context["month"] == {"visits": 1, "volunteer": 2, "purchased": 1}
    assert "no-store" in response["Cache-Control"]


def test_home_lists_only_the_familys_elders(family_client, elder, other_elder, other_contact):
    html = family_client.get(reverse("services:family-home")).content.decode()
    assert elder.name in html
    assert other_elder.name not in html


def test_home_without_elders_says_so(client):
    client.force_login(UserFactory())
    response = client.get(reverse("services:family-home"))
    assert response.status_code == 200
    assert response.context["elders"] == []


def test_anonymous_is_sent_to_sign_in(client, elder):
    for method, url in [("get", reverse("services:family-home"))] + elder_urls(elder.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_unverified_phone_sees_nothing(client, contact, elder):
    user = UserFactory(phone=contact.phone, phone_verified=False)
    client.force_login(user)
    assert client.get(reverse("services:family-elder", args=[elder.pk])).status_code == 404


# --- scope: every URL ------------------------------------------------------------------------------


def test_family_of_another_elder_gets_404_on_every_url(client, elder, contact, other_family_user):
    agreement = _agreement(elder, contact)
    client.force_login(other_family_user)
    before = (FamilyContactLog.objects.count(), CareAgreement.objects.count())
    for method, url in elder_urls(elder.pk, agreement.pk):
        response = getattr(client, method)(url, {"kind": "call", "contact_date": "2026-06-01", "city": "银川"})
        assert response.status_code == 404, url
    assert (FamilyContactLog.objects.count(), CareAgreement.objects.count()) == before


def test_missing_elder_is_the_same_404(family_client):
    for method, url in elder_urls(999999, 999999):
        assert getattr(family_client, method)(url).status_code == 404


def test_staff_and_volunteers_get_no_family_pages(client, elder, contact, liaison, township_officer, volunteer):
    other = make_elder(village="640422101200")  # outside the liaison's and the township's rights
    other_contact = FamilyContactFactory(elder=other)
    agreement = _agreement(other, other_contact)
    for user in (liaison, township_officer, volunteer):
        client.force_login(user)
        for method, url in elder_urls(other.pk, agreement.pk):
            assert getattr(client, method)(url).status_code == 404, (user, url)
        # a staff member is not family of the elders in their own area either
        for method, url in elder_urls(elder.pk):
            assert getattr(client, method)(url).status_code == 404, (user, url)


def test_liaison_queue_is_for_liaisons_only(client, family_user, volunteer, supervisor):
    for user in (family_user, volunteer, supervisor):
        client.force_login(user)
        assert client.get(reverse("services:family-changes")).status_code == 403


# --- audit -----------------------------------------------------------------------------------------


def test_every_view_is_audited_without_phone_numbers(family_client, family_user, elder, contact):
    AuditEvent.objects.all().delete()
    family_client.get(reverse("services:family-home"))
    family_client.get(reverse("services:family-elder", args=[elder.pk]))
    family_client.get(reverse("services:family-agreement", args=[elder.pk]))
    events = AuditEvent.objects.filter(action="view", object_id=str(elder.pk), actor=family_user)
    assert sorted(e.changes["page"] for e in events) == ["family-agreement", "family-elder", "family-home"]
    for event in AuditEvent.objects.all():
        text = f"{event.changes} {event.object_repr} {event.path}"
        assert contact.phone not in text and family_user.phone not in text


# --- query counts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("elders", [1, 6])
def test_home_queries_do_not_grow_with_elders(family_client, contact, elders, django_assert_max_num_queries):
    for _ in range(elders - 1):
        FamilyContactFactory(elder=make_elder(), phone=contact.phone)
    with django_assert_max_num_queries(12 + 2 * elders):  # one audit row per elder shown
        response = family_client.get(reverse("services:family-home"))
    assert len(response.context["elders"]) == elders


@pytest.mark.parametrize("logs", [1, 20])
def test_elder_page_queries_are_bounded(family_client, elder, contact, logs, django_assert_max_num_queries):
    for n in range(logs):
        FamilyContactLog.objects.create(
            elder=elder,
            contact=contact,
            kind="call",
            contact_date=datetime.date(2026, 1, 1) + datetime.timedelta(days=n),
        )
    with django_assert_max_num_queries(24):
        response = family_client.get(reverse("services:family-elder", args=[elder.pk]))
    assert response.status_code == 200


def test_names_are_escaped(family_client, elder, contact):
    elder.name = "<script>alert(1)</script>"
    elder.save()
    html = family_client.get(reverse("services:family-home")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
