"""The volunteer's consent (结对邀请): offered → accepted / declined / expired; replays, strangers and deadlines."""

import datetime

import pytest
import time_machine

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from services.pairing import candidates, lifecycle, offers
from services.pairing import rules as pairing_rules
from services.pairing import selectors as pairing_reads
from services.pairing.models import EndReason, Pairing, PairingStatus
from services.tests.factories_care import make_key_elder
from services.tests.pairing.test_services import VILLAGE, make_giver, need, proposal
from volunteers.models import Membership, Organisation, OrganisationKind

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 4, 10, 0, tzinfo=datetime.UTC)


def offered(officer, giver, **elder):
    p = proposal(make_key_elder(**elder), giver)
    lifecycle.pairing_accept(actor=officer, pairing=p)
    p.refresh_from_db()
    return p


def test_officer_accept_makes_an_offer_texted_with_a_link_and_no_elder_details(
    township_officer, outbox, django_capture_on_commit_callbacks
):
    giver = make_giver()
    with time_machine.travel(NOW, tick=False):
        p = proposal(make_key_elder(name="马秀英", address="三组12号", phone="13987654321"), giver)
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.pairing_accept(actor=township_officer, pairing=p)
    p.refresh_from_db()
    assert p.status == PairingStatus.OFFERED and p.start_date is None
    assert p.offer_expires_at == NOW + datetime.timedelta(days=offers.OFFER_DAYS)
    assert len(p.offer_token) >= 16
    [(phone, text)] = outbox
    assert phone == giver.phone
    assert reverse("services:pairing-offer", args=[p.offer_token]) in text and "2026年12月11日" in text
    assert "马秀英" not in text and "三组12号" not in text and "13987654321" not in text
    assert not pairing_reads.is_paired(giver, p.elder)


def test_volunteer_accepts_on_the_page_then_a_replay_changes_nothing(client, township_officer):
    giver = make_giver()
    p = offered(township_officer, giver)
    client.force_login(giver)
    url = reverse("services:pairing-offer", args=[p.offer_token])
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "accept"}).status_code == 302
    p.refresh_from_db()
    assert p.status == PairingStatus.ACTIVE and p.start_date == timezone.localdate() and p.answered_at
    assert pairing_reads.is_paired(giver, p.elder)
    answered = p.answered_at
    response = client.post(url, {"action": "decline"})  # a replay, and a change of mind, after the answer
    assert response.status_code == 409 and str(pairing_rules.OFFER_ANSWERED) in response.content.decode()
    p.refresh_from_db()
    assert p.status == PairingStatus.ACTIVE and p.answered_at == answered
    with pytest.raises(ValidationError) as exc:
        offers.offer_accept(actor=giver, token=p.offer_token)
    assert exc.value.messages == [str(pairing_rules.OFFER_ANSWERED)]
    assert (
        AuditEvent.objects.filter(
            object_type="services.pairing", object_id=str(p.pk), changes__status=["offered", "active"]
        ).count()
        == 1
    )


@pytest.mark.parametrize("token", ["", "x" * 30, "<script>alert(1)</script>", "../../admin"])
def test_another_volunteer_or_a_made_up_token_gets_404_and_changes_nothing(client, township_officer, token):
    giver, stranger = make_giver(), make_giver()
    p = offered(township_officer, giver)
    client.force_login(stranger)
    assert client.get(reverse("services:pairing-offer", args=[p.offer_token])).status_code == 404
    assert client.post(reverse("services:pairing-offer", args=[p.offer_token]), {"action": "accept"}).status_code == 404
    if token:
        assert client.post(f"/services/pairing/offers/{token}/", {"action": "accept"}).status_code == 404
    with pytest.raises(Pairing.DoesNotExist):
        offers.offer_accept(actor=stranger, token=p.offer_token)
    client.force_login(township_officer)  # an officer is not the volunteer either
    assert client.get(reverse("services:pairing-offer", args=[p.offer_token])).status_code == 404
    client.logout()
    response = client.get(reverse("services:pairing-offer", args=[p.offer_token]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    p.refresh_from_db()
    assert p.status == PairingStatus.OFFERED


def test_decline_frees_the_place_for_the_next_run(client, township_officer):
    giver = make_giver(max_elders=1)
    p = offered(township_officer, giver)
    taken = {g.id: g.capacity for g in candidates._giver_inputs(VILLAGE[:6], {}, Q(pk__in=[]))}
    assert taken[f"u{giver.pk}"] == 0  # the offer holds the only place
    client.force_login(giver)
    url = reverse("services:pairing-offer", args=[p.offer_token])
    assert client.post(url, {"action": "decline", "note": "<b>外出务工</b>"}).status_code == 302
    p.refresh_from_db()
    assert (p.status, p.end_reason, p.end_note) == (PairingStatus.DECLINED, EndReason.GIVER_DECLINED, "<b>外出务工</b>")
    assert not pairing_reads.is_paired(giver, p.elder)
    # the place is free: another proposal for this giver can be confirmed now
    other = offered(township_officer, giver)
    assert other.status == PairingStatus.OFFERED


def test_expired_offer_cannot_be_accepted_and_the_daily_job_closes_the_rest(client, township_officer):
    giver = make_giver(max_elders=3)
    with time_machine.travel(NOW, tick=False):
        late, forgotten = offered(township_officer, giver), offered(township_officer, giver)
    with time_machine.travel(NOW + datetime.timedelta(days=offers.OFFER_DAYS, minutes=1), tick=False):
        client.force_login(giver)
        url = reverse("services:pairing-offer", args=[late.offer_token])
        page = client.get(url)  # the page opens, without its buttons
        assert page.status_code == 200 and 'value="accept"' not in page.content.decode()
        response = client.post(url, {"action": "accept"})
        assert response.status_code == 409
        late.refresh_from_db()
        assert (late.status, late.end_reason) == (PairingStatus.DECLINED, EndReason.OFFER_EXPIRED)
        assert not pairing_reads.is_paired(giver, late.elder)
        call_command("expire_pairing_offers", verbosity=0)
    forgotten.refresh_from_db()
    assert (forgotten.status, forgotten.end_reason) == (PairingStatus.DECLINED, EndReason.OFFER_EXPIRED)


def test_offer_not_yet_due_is_left_open_by_the_job(township_officer):
    giver = make_giver()
    with time_machine.travel(NOW, tick=False):
        p = offered(township_officer, giver)
    with time_machine.travel(NOW + datetime.timedelta(days=offers.OFFER_DAYS - 1), tick=False):
        assert offers.offers_expire() == 0
    p.refresh_from_db()
    assert p.status == PairingStatus.OFFERED


def test_elder_who_left_the_ledger_meanwhile_cannot_be_accepted(township_officer):
    giver = make_giver()
    p = offered(township_officer, giver)
    p.elder.status = "moved"
    p.elder.save(update_fields=["status"])
    with pytest.raises(ValidationError) as exc:
        offers.offer_accept(actor=giver, token=p.offer_token)
    assert exc.value.messages == [str(pairing_rules.ELDER_NOT_ACTIVE)]
    p.refresh_from_db()
    assert p.status == PairingStatus.OFFERED


def test_officer_withdraws_an_unanswered_offer(township_officer):
    giver = make_giver()
    p = offered(township_officer, giver)
    lifecycle.pairing_reject(actor=township_officer, pairing=p)
    p.refresh_from_db()
    assert p.status == PairingStatus.DECLINED
    with pytest.raises(ValidationError):
        offers.offer_accept(actor=giver, token=p.offer_token)


def test_my_page_lists_offers_waiting_for_an_answer(client, township_officer):
    giver = make_giver()
    p = offered(township_officer, giver)
    client.force_login(giver)
    html = client.get(reverse("volunteers:me")).content.decode()
    assert reverse("services:pairing-offer", args=[p.offer_token]) in html


def _org_with(user, status):
    kind, _ = OrganisationKind.objects.get_or_create(name="志愿服务队", defaults={"slug": "zhiyuan-fuwudui-t"})
    org = Organisation.objects.create(
        name=f"志愿服务队{user.pk}", kind=kind, region_id=VILLAGE, contact_name="马", contact_phone="13900000001"
    )
    Membership.objects.create(organisation=org, user=user, status=status)
    return org


def test_giver_whose_membership_is_pending_is_no_candidate_nor_proposed_by_hand(township_officer):
    need(make_key_elder())
    pending, vetted, independent = make_giver(), make_giver(), make_giver()
    _org_with(pending, "pending")
    _org_with(vetted, "active")
    ids = {g.id for g in candidates._giver_inputs(VILLAGE[:6], {}, Q(pk__in=[]))}
    assert f"u{pending.pk}" not in ids
    assert {f"u{vetted.pk}", f"u{independent.pk}"} <= ids
    with pytest.raises(ValidationError) as exc:
        lifecycle.pairing_propose(actor=township_officer, elder=make_key_elder(), giver_user=pending)
    assert exc.value.messages == [str(pairing_rules.GIVER_PENDING)]
    assert not Pairing.objects.filter(giver_user=pending).exists()
