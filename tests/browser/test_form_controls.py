"""Issue 16, items 3 and 8: every visible control on every form page meets its mode's sizes at 390 px.

Standard mode: targets at least 44 px high and text at least 16 px; large-text mode: 60 px and 18 px. A
checkbox or radio is hit through its label, so the label row is measured. Public pages and the staff pages of
the demo roles (portal/demo.py) are opened as those roles."""

import pytest

from django.urls import reverse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MEASURE = """(least) => {
  const controls = [...document.querySelectorAll(
      'main input:not([type=hidden]), main select, main textarea, main button, main a.button')]
    .filter(el => el.offsetParent !== null && !el.closest('.care-hp, [aria-hidden=true]'));
  const small = [];
  for (const el of controls) {
    const box = (el.type === 'checkbox' || el.type === 'radio') ? (el.closest('label') || el.parentElement) : el;
    const r = box.getBoundingClientRect();
    const text = parseFloat(getComputedStyle(el).fontSize);
    if (r.height < least.height - 0.5 || (el.type !== 'checkbox' && el.type !== 'radio' && text < least.text - 0.1)) {
      small.push(`${el.outerHTML.slice(0, 70)} ${Math.round(r.width)}x${Math.round(r.height)} ${text}px`);
    }
  }
  return {count: controls.length, small, overflow: document.documentElement.scrollWidth - window.innerWidth};
}"""


def _pages():
    """(role phone or None, path) of every form page a field trial would reach."""
    from services.models import Elder

    elder = Elder.objects.filter(village_id="640422100201").first()
    family_elder = Elder.objects.filter(family_contacts__phone="13900000007").first()
    return [
        (None, reverse("services:alert-report")),
        (None, reverse("services:alert-report-status")),
        (None, "/accounts/login/"),
        (None, reverse("volunteers:signup")),
        ("13900000006", reverse("volunteers:record-create")),
        ("13900000006", reverse("volunteers:profile")),
        ("13900000006", reverse("volunteers:organisation-create")),
        ("13900000001", reverse("volunteers:record-create-group")),
        ("13900000001", reverse("services:elder-create")),
        ("13900000001", reverse("services:visit-create", args=[elder.pk])),
        ("13900000001", reverse("services:alert-raise", args=[elder.pk])),
        ("13900000001", reverse("services:need-create", args=[elder.pk])),
        ("13900000001", reverse("services:contact-create", args=[elder.pk])),
        (None, reverse("account_request_login_code")),
        (None, reverse("services:family-agreement-accept")),
        ("13900000007", reverse("services:family-home")),
        ("13900000007", reverse("services:family-elder", args=[family_elder.pk])),
        ("13900000007", reverse("services:family-agreement", args=[family_elder.pk])),
        ("13900000001", reverse("services:family-changes")),
    ]


@pytest.mark.parametrize("elder_mode", [False, True], ids=["normal", "elder"])
def test_every_control_on_every_form_page_is_big_enough(demo_site, open_page, elder_mode):
    from portal.models import User

    least = {"height": 60, "text": 18} if elder_mode else {"height": 44, "text": 16}
    failures = {}
    for phone, path in _pages():
        user = User.objects.get(phone=phone) if phone else None
        name = "form" + path.replace("/", "_").rstrip("_")
        page = open_page(path, elder=elder_mode, name=name, user=user)
        result = page.evaluate(MEASURE, least)
        assert result["count"] > 0, path
        if result["small"] or result["overflow"] > 0:
            failures[path] = result
    assert not failures, failures


@pytest.mark.parametrize("elder_mode", [False, True], ids=["normal", "elder"])
def test_staff_list_controls_are_big_enough(demo_site, open_page, elder_mode):
    """Item 8: the member list's 同意/拒绝/设为管理员, filter, export and clear links, 详情 in tables."""
    from portal.models import User
    from volunteers.models import Organisation

    least = {"height": 60, "text": 18} if elder_mode else {"height": 44, "text": 16}
    liaison = User.objects.get(phone="13900000001")
    organisation = Organisation.objects.filter(memberships__user=liaison, memberships__is_admin=True).first()
    failures = {}
    for path in [
        reverse("volunteers:organisation-members", args=[organisation.pk]),
        reverse("services:elder-list"),
        reverse("volunteers:record-list"),
        reverse("services:visits-due"),
    ]:
        page = open_page(path, elder=elder_mode, name="list" + path.replace("/", "_").rstrip("_"), user=liaison)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        result = page.evaluate(MEASURE, least)
        if result["small"] or result["overflow"] > 0:
            failures[path] = result
    assert not failures, failures
