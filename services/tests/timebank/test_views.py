# ruff: noqa: F811 — fixtures imported from the topic's conftest
"""The time-bank pages: my account, the statement PDF, the association's list (scope, export, queries), forms."""

import pytest

from django.urls import reverse

from portal.models import AuditEvent
from services.records import actions as record_actions
from services.tests.factories_records import add_member, at
from services.tests.factories_records import elder as elder  # noqa: F401 — fixtures
from services.tests.timebank.conftest import confirmed, submitted  # noqa: F401
from services.timebank import actions as bank
from services.timebank.models import TimeAccount, TimeRequest, TimeTransaction
from tests.factories import UserFactory
from volunteers.models import OrganisationKind
from volunteers.tests.conftest import make_organisation

pytestmark = pytest.mark.django_db

URL = reverse("volunteers:timebank")
MEMBERS = reverse("volunteers:timebank-members")


def test_contract_url_name():
    assert URL == "/volunteers/timebank/"


def test_anonymous_is_sent_to_sign_in(client):
    for url in (URL, MEMBERS, reverse("volunteers:timebank-statement")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_my_account_shows_balance_and_statement_in_chinese_dates(client, confirmed, member):
    client.force_login(member)
    response = client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "2.0" in page and "2026年10月15日" in page  # the deposit, dated the Chinese way
    assert reverse("volunteers:record-detail", args=[confirmed.pk]) in page


def test_new_person_sees_an_empty_account_without_a_row_being_made(client):
    user = UserFactory()
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200 and "0.0" in response.content.decode()
    assert not TimeAccount.objects.filter(user=user).exists()


def test_year_parameter_is_bounded(client, confirmed, member):
    client.force_login(member)
    for bad in ("abc", "1900", "99999", "<script>"):
        response = client.get(URL, {"year": bad})
        assert response.status_code == 200 and response.context["year"] == 2026
    assert client.get(URL, {"year": "2025"}).context["statement"]["entries"] == []


def test_statement_pdf_is_chinese_and_audited(client, confirmed, member):
    client.force_login(member)
    response = client.get(reverse("volunteers:timebank-statement"), {"year": "2026"})
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert b"STSong-Light" in response.content
    assert AuditEvent.objects.filter(action="export", object_type="services.timeaccount").exists()


def test_association_admin_sees_member_balances_and_statement(client, confirmed, member, org_admin):
    client.force_login(org_admin)
    response = client.get(MEMBERS)
    assert response.status_code == 200
    page = response.content.decode()
    assert "会员甲" in page and "2.0" in page
    assert member.phone not in page  # masked
    account = TimeAccount.objects.get(user=member)
    detail = client.get(reverse("volunteers:timebank-account", args=[account.pk]))
    assert detail.status_code == 200 and "2.0" in detail.content.decode()
    pdf = client.get(reverse("volunteers:timebank-statement"), {"account": account.pk})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="view", object_type="services.timeaccount").exists()


def test_others_see_only_their_own(client, confirmed, member, liaison):
    """A fellow member, the liaison (a staff role), another association's admin: none sees the member's account."""
    account = TimeAccount.objects.get(user=member)
    organisation = member.memberships.first().organisation
    fellow = add_member(organisation, real_name="会员乙")
    other_admin = UserFactory(real_name="别的会长")
    make_organisation(admin=other_admin, name="兴隆村老年协会", code="640422101000")
    team_admin = UserFactory(real_name="队长")
    team = make_organisation(admin=team_admin, name="青年志愿服务队")
    team.kind = OrganisationKind.objects.exclude(slug="laonian-xiehui").first()
    team.save()
    add_member(team, user=member)
    for user in (fellow, liaison, other_admin, team_admin):
        client.force_login(user)
        assert client.get(reverse("volunteers:timebank-account", args=[account.pk])).status_code == 404
        assert client.get(reverse("volunteers:timebank-statement"), {"account": account.pk}).status_code == 404
        members = client.get(MEMBERS)
        assert members.status_code == 403 or "会员甲" not in members.content.decode()
    client.force_login(member)
    assert client.get(reverse("volunteers:timebank-statement"), {"account": "x"}).status_code == 404


def test_members_list_filters_sorts_exports(client, confirmed, member, org_admin, organisation):
    for n in range(3):
        user = add_member(organisation, real_name=f"会员{n}")
        bank.account_for(user)
    client.force_login(org_admin)
    page = client.get(MEMBERS, {"q": "会员甲"}).content.decode()
    assert "会员甲" in page and "会员0" not in page
    rich = client.get(MEMBERS, {"min_hours": "1"})
    assert [row.record.user for row in rich.context["table"].page.object_list] == [member]
    ordered = client.get(MEMBERS, {"sort": "-balance"}).context["table"].page.object_list
    assert next(iter(ordered)).record.user == member
    export = client.get(MEMBERS, {"_export": "csv"})
    body = export.content.decode()
    assert export.status_code == 200 and "会员甲" in body and ",120," in body
    assert AuditEvent.objects.filter(action="export", object_type="services.timeaccount").exists()


def test_members_list_query_count_is_constant(client, org_admin, organisation, django_assert_max_num_queries):
    for n in range(30):
        bank.account_for(add_member(organisation, real_name=f"会员{n}"))
    client.force_login(org_admin)
    with django_assert_max_num_queries(12):
        assert client.get(MEMBERS).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(MEMBERS, {"_export": "csv"}).status_code == 200


def test_transfer_through_the_page_and_its_messages(client, confirmed, member):
    kin = UserFactory(phone="13911119999", real_name="老父亲")
    client.force_login(member)
    response = client.post(
        reverse("volunteers:timebank-transfer"), {"phone": kin.phone, "relation": "<script>x</script>", "hours": "1"}
    )
    assert response.status_code == 302
    assert TimeAccount.objects.get(user=kin).balance == 60
    page = client.get(URL).content.decode()
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page
    refused = client.post(
        reverse("volunteers:timebank-transfer"), {"phone": kin.phone, "relation": "父亲", "hours": "99"}, follow=True
    )
    assert "不足" in refused.content.decode() or "not enough" in refused.content.decode()
    malformed = client.post(reverse("volunteers:timebank-transfer"), {"phone": "12", "relation": "", "hours": "x"})
    assert malformed.status_code == 302
    assert TimeAccount.objects.get(user=member).balance == 60
    assert client.get(reverse("volunteers:timebank-transfer")).status_code == 405


def test_request_and_cancel_through_the_pages(client, confirmed, member, organisation, item, org_admin):
    client.force_login(member)
    response = client.post(
        reverse("volunteers:timebank-request"),
        {"organisation": organisation.pk, "service_item": item.pk, "hours": "1", "description": "帮母亲洗澡"},
    )
    assert response.status_code == 302
    request = TimeRequest.objects.get()
    assert TimeAccount.objects.get(user=member).balance == 60
    # the association's admin sees it; a stranger cannot touch it
    client.force_login(org_admin)
    assert "帮母亲洗澡" in client.get(URL).content.decode()
    client.force_login(UserFactory())
    assert client.post(reverse("volunteers:timebank-request-cancel", args=[request.pk])).status_code == 404
    client.force_login(member)
    client.post(reverse("volunteers:timebank-request-cancel", args=[request.pk]))
    replay = client.post(reverse("volunteers:timebank-request-cancel", args=[request.pk]), follow=True)
    assert TimeAccount.objects.get(user=member).balance == 120
    assert TimeTransaction.objects.filter(kind="refund").count() == 1
    assert [m.level_tag for m in replay.context["messages"]][-1] == "error"


def test_reversal_refused_through_the_page_keeps_everything(client, confirmed, member, liaison):
    kin = UserFactory(phone="13911119999")
    bank.transfer_to_kin(actor=member, phone=kin.phone, relation="父亲", hours="2")
    client.force_login(liaison)
    client.post(reverse("volunteers:record-reverse", args=[confirmed.pk]), {"reason": "重复"})
    assert not confirmed.__class__.objects.filter(reverses=confirmed).exists()
    assert TimeAccount.objects.get(user=member).balance == 0


def test_confirming_through_the_page_deposits(client, liaison, org_admin, member, elder, item):
    record = submitted(org_admin, member, elder, item, start=at(1, 14), end=at(1, 15))
    client.force_login(liaison)
    client.post(reverse("volunteers:record-confirm", args=[record.pk]))
    assert TimeAccount.objects.get(user=member).balance == 60
    record_actions.record_reverse(actor=liaison, record=record, reason="更正")
    assert TimeAccount.objects.get(user=member).balance == 0
