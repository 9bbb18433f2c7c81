"""Pairing screens: run matching, proposals with reasons, accept all/some, adjust by hand, end; the giver's view;
scope (404 outside the officer's area) and bad input."""

import pytest

from django.urls import reverse

from portal.models import AuditEvent
from services.catalogue.selectors import categories_ensure
from services.models import MatchRun, Need, Pairing
from services.pairing import lifecycle
from services.pairing import rules as pairing_rules
from services.pairing import runs as match_runs
from services.pairing.models import EndReason, PairingStatus
from services.tests.factories_care import OTHER_TOWNSHIP_VILLAGE, make_key_elder
from services.tests.factories_pairing import start_pairing
from services.tests.pairing.test_services import TOWNSHIP, cat, make_giver, need, proposal, region
from volunteers.models import VolunteerProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(client, township_officer):
    client.force_login(township_officer)
    return client


def run_for_township(officer):
    return match_runs.match_run(region=region(TOWNSHIP), user=officer)


def test_officer_runs_matching_and_sees_reasons(officer_client, township_officer):
    elder = make_key_elder(name="马秀英")
    need(elder, "jingshen-weijie")
    make_giver(skills=("jingshen-weijie",))
    page = officer_client.get(reverse("services:match-run"))
    assert page.status_code == 200 and "吉强镇" in page.content.decode()
    page = officer_client.get(reverse("services:match-run"), {"region": TOWNSHIP})
    assert "重点" in page.content.decode()  # coverage figures
    response = officer_client.post(reverse("services:match-run"), {"region": TOWNSHIP})
    run = MatchRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("services:match-proposals", args=[run.pk])
    html = officer_client.get(response.url).content.decode()
    assert "马秀英" in html and "同村" in html and "精神慰藉" in html
    assert AuditEvent.objects.filter(object_type="services.matchrun", action="view").exists()


def test_run_outside_scope_is_refused(officer_client):
    response = officer_client.post(reverse("services:match-run"), {"region": "640422101000"})  # 兴隆镇
    assert response.status_code == 400
    assert not MatchRun.objects.exists()
    response = officer_client.post(reverse("services:match-run"), {"region": "<script>alert(1)</script>"})
    assert response.status_code == 400 and "<script>alert(1)" not in response.content.decode()


def test_liaison_and_volunteer_cannot_run(client, liaison, volunteer):
    for user in (liaison, volunteer):
        client.force_login(user)
        assert client.get(reverse("services:match-run")).status_code == 403
        assert client.post(reverse("services:match-run"), {"region": TOWNSHIP}).status_code == 403
    assert not MatchRun.objects.exists()


def test_accept_some_then_all(officer_client, township_officer, outbox, django_capture_on_commit_callbacks):
    elders = [make_key_elder() for _ in range(3)]
    for e in elders:
        need(e)
    givers = [make_giver(max_elders=1) for _ in range(3)]
    run = run_for_township(township_officer)
    first = run.pairings.order_by("pk").first()
    url = reverse("services:match-proposals", args=[run.pk])
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(url, {"action": "accept", "ids": [str(first.pk)]})
    first.refresh_from_db()
    assert first.status == PairingStatus.OFFERED
    assert run.pairings.filter(status=PairingStatus.PROPOSED).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(url, {"action": "accept_all"})
    assert run.pairings.filter(status=PairingStatus.OFFERED).count() == 3
    assert sorted(p for p, _ in outbox) == sorted(g.phone for g in givers)
    # replayed accept-all changes nothing and says so
    response = officer_client.post(url, {"action": "accept_all"}, follow=True)
    assert run.pairings.filter(status=PairingStatus.OFFERED).count() == 3
    assert str(pairing_rules.NOTHING_CHOSEN) in response.content.decode() or "至少" in response.content.decode()


def test_decline_selected_and_bad_ids(officer_client, township_officer):
    need(make_key_elder())
    make_giver()
    run = run_for_township(township_officer)
    p = run.pairings.get()
    url = reverse("services:match-proposals", args=[run.pk])
    officer_client.post(url, {"action": "accept", "ids": ["abc", "99999999"]})
    p.refresh_from_db()
    assert p.status == PairingStatus.PROPOSED
    officer_client.post(url, {"action": "reject", "ids": [str(p.pk)]})
    p.refresh_from_db()
    assert p.status == PairingStatus.DECLINED


def test_officer_cannot_see_or_accept_another_townships_run(client, township_officer, county_officer):
    need(make_key_elder(village=OTHER_TOWNSHIP_VILLAGE))
    make_giver(village=OTHER_TOWNSHIP_VILLAGE)
    run = match_runs.match_run(region=region("640422101000"), user=county_officer)
    p = run.pairings.get()
    client.force_login(township_officer)
    url = reverse("services:match-proposals", args=[run.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "accept_all"}).status_code == 404
    assert client.get(reverse("services:pairing-detail", args=[p.pk])).status_code == 404
    assert client.post(reverse("services:pairing-detail", args=[p.pk]), {"action": "accept"}).status_code == 404
    p.refresh_from_db()
    assert p.status == PairingStatus.PROPOSED


def test_liaison_sees_pairing_but_cannot_accept(client, liaison):
    p = proposal(make_key_elder(), make_giver())
    client.force_login(liaison)
    page = client.get(reverse("services:pairing-detail", args=[p.pk]))
    assert page.status_code == 200 and 'value="accept"' not in page.content.decode()
    client.post(reverse("services:pairing-detail", args=[p.pk]), {"action": "accept"})
    p.refresh_from_db()
    assert p.status == PairingStatus.PROPOSED


def test_end_pairing_from_detail(officer_client, township_officer):
    p = start_pairing(officer=township_officer, pairing=proposal(make_key_elder(), make_giver()))
    url = reverse("services:pairing-detail", args=[p.pk])
    assert officer_client.post(url, {"action": "end", "reason": "bogus"}).status_code == 400
    p.refresh_from_db()
    assert p.status == PairingStatus.ACTIVE
    officer_client.post(url, {"action": "end", "reason": EndReason.OFFICER, "note": "<b>调整</b>"})
    p.refresh_from_db()
    assert p.status == PairingStatus.ENDED and p.end_note == "<b>调整</b>"
    assert "&lt;b&gt;调整" in officer_client.get(url).content.decode()


def test_adjust_by_hand(officer_client, township_officer):
    elder = make_key_elder()
    need(elder)
    giver = make_giver()

    profile = VolunteerProfile.objects.get(user=giver)
    url = reverse("services:pairing-create", args=[elder.pk])
    assert officer_client.get(url).status_code == 200
    assert officer_client.post(url, {}).status_code == 400  # nobody chosen
    response = officer_client.post(url, {"giver": profile.pk, "categories": [cat("shenghuo-zhaoliao").pk]})
    p = Pairing.objects.get()
    assert response.status_code == 302 and p.status == PairingStatus.OFFERED and p.confirmed_by == township_officer
    response = officer_client.post(url, {"giver": profile.pk})  # replay
    assert response.status_code == 400 and Pairing.objects.count() == 1
    far = make_key_elder(village=OTHER_TOWNSHIP_VILLAGE)
    assert officer_client.get(reverse("services:pairing-create", args=[far.pk])).status_code == 404


def test_liaison_records_need_from_form(client, liaison):
    categories_ensure()
    elder = make_key_elder()
    client.force_login(liaison)
    url = reverse("services:need-create", args=[elder.pk])
    assert client.get(url).status_code == 200
    category = cat("shenghuo-zhaoliao")
    assert client.post(url, {"category": category.pk, "urgency": "high", "note": "做饭困难"}).status_code == 302
    response = client.post(url, {"category": category.pk, "urgency": "high"})
    assert response.status_code == 400 and Need.objects.count() == 1
    assert client.post(url, {"category": "x", "urgency": "never"}).status_code == 400
    far = make_key_elder(village=OTHER_TOWNSHIP_VILLAGE)
    assert client.get(reverse("services:need-create", args=[far.pk])).status_code == 404


def test_giver_sees_only_their_elders_and_loses_access(client, township_officer):
    mine = make_key_elder(name="马秀英", address="大营村三组12号", phone="13987654321")
    need(mine, "jingshen-weijie")
    theirs = make_key_elder(name="李桂兰")
    giver, other = make_giver(), make_giver()
    p = proposal(mine, giver)
    client.force_login(giver)
    url = reverse("services:pairing-mine")
    assert "马秀英" not in client.get(url).content.decode()  # a proposal is not a pairing yet
    lifecycle.pairing_accept(actor=township_officer, pairing=p)
    lifecycle.pairing_accept(actor=township_officer, pairing=proposal(theirs, other))
    html = client.get(url).content.decode()
    # offered, not yet accepted: the offer is listed, the elder's name, address and phone are not
    p.refresh_from_db()
    assert reverse("services:pairing-offer", args=[p.offer_token]) in html
    assert "马秀英" not in html and "大营村三组12号" not in html and mine.phone not in html
    offer_page = client.get(reverse("services:pairing-offer", args=[p.offer_token])).content.decode()
    assert "马秀英" not in offer_page and "大营村三组12号" not in offer_page and mine.phone not in offer_page
    assert "精神慰藉" in offer_page
    response = client.post(reverse("services:pairing-offer", args=[p.offer_token]), {"action": "accept"})
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "马秀英" in html and "大营村三组12号" in html and mine.phone in html and "精神慰藉" in html
    assert "李桂兰" not in html
    assert mine.id_number not in html and mine.id_number[-4:] not in html
    assert AuditEvent.objects.filter(actor=giver, action="view", object_type="services.elder").exists()
    # no staff pages for a giver
    assert client.get(reverse("services:pairing-detail", args=[p.pk])).status_code == 403
    lifecycle.pairing_end(actor=township_officer, pairing=p, reason=EndReason.OFFICER)
    assert "马秀英" not in client.get(url).content.decode()


def test_pairing_list_scoped_export_and_constant_queries(client, township_officer, django_assert_max_num_queries):
    for _ in range(3):
        p = proposal(make_key_elder(), make_giver())
        p.categories.set([cat("shenghuo-zhaoliao")])
    far = proposal(
        make_key_elder(village=OTHER_TOWNSHIP_VILLAGE, name="外镇老人"), make_giver(village=OTHER_TOWNSHIP_VILLAGE)
    )
    client.force_login(township_officer)
    url = reverse("services:pairing-list")
    with django_assert_max_num_queries(14) as small:
        html = client.get(url).content.decode()
    assert "外镇老人" not in html
    for _ in range(10):
        proposal(make_key_elder(), make_giver()).categories.set([cat("jingshen-weijie")])
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)
    export = client.get(reverse("services:pairing-export"), {"format": "csv"})
    body = export.content.decode("utf-8-sig")
    assert export.status_code == 200 and "外镇老人" not in body and body.count("\n") == 14  # header + 13 rows
    assert far.elder.name not in body
    assert AuditEvent.objects.filter(action="export", object_type="services.pairing").exists()


def test_pages_render_in_elder_mode(officer_client, township_officer):
    need(make_key_elder())
    make_giver()
    run = run_for_township(township_officer)
    officer_client.cookies["elder_mode"] = "1"
    html = officer_client.get(reverse("services:match-proposals", args=[run.pk])).content.decode()
    assert "elder-mode" in html


def test_proposals_page_queries_do_not_grow(officer_client, township_officer, django_assert_max_num_queries):
    for _ in range(2):
        need(make_key_elder())
        make_giver()
    run = run_for_township(township_officer)
    url = reverse("services:match-proposals", args=[run.pk])
    with django_assert_max_num_queries(30) as small:
        officer_client.get(url)
    for _ in range(8):
        need(make_key_elder())
        make_giver()
    run = run_for_township(township_officer)
    assert run.pairings.count() > 8
    with django_assert_max_num_queries(len(small.captured_queries)):
        officer_client.get(reverse("services:match-proposals", args=[run.pk]))
