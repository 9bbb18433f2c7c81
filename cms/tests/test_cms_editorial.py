import datetime

import pytest

from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from wagtail.models import Page, WorkflowState

from cms.editorial import EDITOR_GROUP_FORMAT, MODERATORS_GROUP, NOT_A_COUNTY, WORKFLOW_NAME, county_section_ensure
from cms.models import ArticleIndexPage, ArticlePage, PolicyPage
from portal.models import Region
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def county_editor(site):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=EDITOR_GROUP_FORMAT.format(county="西吉县")))
    return user


@pytest.fixture
def moderator(site):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    return user


def test_county_editor_edits_only_their_own_section(county_editor, publicity, policy):
    section = ArticleIndexPage.objects.get(region__code="640422000000")
    own = ArticlePage.objects.child_of(section).first()
    other = ArticlePage.objects.child_of(publicity).first()
    assert own.permissions_for_user(county_editor).can_edit()
    assert section.permissions_for_user(county_editor).can_add_subpage()
    assert not own.permissions_for_user(county_editor).can_publish()
    assert not other.permissions_for_user(county_editor).can_edit()
    assert not policy.permissions_for_user(county_editor).can_edit()
    assert not publicity.permissions_for_user(county_editor).can_add_subpage()


def test_editor_cannot_open_another_section_in_the_admin(client, county_editor, publicity):
    other = ArticlePage.objects.child_of(publicity).first()
    client.force_login(county_editor)
    assert client.get(f"/admin/pages/{other.pk}/edit/").status_code in (302, 403)
    own = ArticlePage.objects.child_of(ArticleIndexPage.objects.get(region__code="640422000000")).first()
    assert client.get(f"/admin/pages/{own.pk}/edit/").status_code == 200


def test_draft_review_publish(county_editor, moderator, site):
    section = ArticleIndexPage.objects.get(region__code="640422000000")
    page = section.add_child(
        instance=ArticlePage(
            title="吉强镇重阳敬老活动", slug="chongyang", date="2026-10-29", category="news", live=False
        )
    )
    revision = page.save_revision(user=county_editor)
    workflow = page.get_workflow()
    assert workflow.name == WORKFLOW_NAME
    state = workflow.start(page, county_editor)
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    task_state = state.current_task_state
    lock = page.get_lock()  # the author cannot edit while the page is in review; the moderator can
    assert lock is not None and lock.for_user(county_editor) and not lock.for_user(moderator)
    assert task_state.task.specific.get_actions(page, moderator)  # moderators may approve
    assert not task_state.task.specific.get_actions(page, county_editor)  # the author may not
    task_state.task.specific.on_action(task_state, moderator, "approve")
    page.refresh_from_db()
    state.refresh_from_db()
    assert page.live and state.status == WorkflowState.STATUS_APPROVED
    assert page.live_revision_id == revision.pk  # the approved revision is the one the public sees


def test_scheduled_publishing_goes_live_with_publish_scheduled(client, site):
    index = PolicyPage.objects.first().get_parent()
    page = index.add_child(instance=PolicyPage(title="明年起施行的办法", slug="later", live=False))
    page.go_live_at = timezone.now() + datetime.timedelta(days=1)
    page.save_revision().publish()
    page.refresh_from_db()
    assert not page.live and page.has_unpublished_changes
    assert client.get("/policy/later/").status_code == 404
    call_command("publish_scheduled")
    page.refresh_from_db()
    assert not page.live
    # The day comes: move the scheduled revision's date into the past, as the clock would.
    past = timezone.now() - datetime.timedelta(minutes=1)
    revision = page.latest_revision
    revision.approved_go_live_at = past
    revision.content["go_live_at"] = past.isoformat()
    revision.save()
    call_command("publish_scheduled")
    page.refresh_from_db()
    assert page.live
    assert client.get("/policy/later/").status_code == 200


def test_preview_of_a_draft(client, django_user_model, site):
    from allauth.mfa.models import Authenticator

    admin = UserFactory(phone="13700009998", is_superuser=True, is_staff=True)
    Authenticator.objects.create(user=admin, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(admin)
    policy = PolicyPage.objects.get(slug="ningxia-2018-105")
    response = client.get(f"/admin/pages/{policy.pk}/view_draft/")
    assert response.status_code == 200
    assert "宁民发〔2018〕105号" in response.content.decode()


def test_county_section_needs_a_county(site):
    township = Region.objects.get(code="640422100000")
    with pytest.raises(ValueError, match=NOT_A_COUNTY):
        county_section_ensure(county=township, parent=Page.objects.get(slug="publicity"))
    again, _ = county_section_ensure(
        county=Region.objects.get(code="640422000000"), parent=Page.objects.get(slug="publicity")
    )
    assert ArticleIndexPage.objects.filter(region__code="640422000000").count() == 1
    assert again.region_id == "640422000000"
