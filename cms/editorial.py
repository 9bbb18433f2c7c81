"""Editorial set-up: the moderation workflow and county editors who may edit only their own section.

Wagtail's page permissions are inherited down the tree, so a county's own publicity section is an
ArticleIndexPage with the county set, and the county editor group holds "add" and "change" there and
nowhere else. Editors cannot publish: submitting starts the site's workflow (draft → review by the
moderators → published), and the moderators group holds "publish" on the whole site. Scheduled
publishing uses the page's "go live" date; `manage.py publish_scheduled` (run every few minutes by cron
or a systemd timer) makes due pages live.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.text import slugify

from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from portal.models import Region, RegionLevel

from .models import ArticleIndexPage

MODERATORS_GROUP = "宣传审核员"
EDITOR_GROUP_FORMAT = "{county}宣传编辑"
WORKFLOW_NAME = "宣传与政策审核"
NOT_A_COUNTY = "A county section needs a county."

EDITOR_PAGE_PERMISSIONS = ["add_page", "change_page"]
MODERATOR_PAGE_PERMISSIONS = ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"]
MEDIA_PERMISSIONS = [
    ("wagtailimages", "add_image"),
    ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "choose_document"),
]


def _page_permissions(group: Group, page: Page, codenames: list[str]) -> None:
    for codename in codenames:
        permission = Permission.objects.get(content_type__app_label="wagtailcore", codename=codename)
        GroupPagePermission.objects.get_or_create(group=group, page=page, permission=permission)


def _admin_access(group: Group) -> None:
    group.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    root = Collection.get_first_root_node()
    for app_label, codename in MEDIA_PERMISSIONS:
        permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
        GroupCollectionPermission.objects.get_or_create(group=group, collection=root, permission=permission)


@transaction.atomic
def workflow_ensure(*, site_root: Page) -> Workflow:
    """The moderators group, its publish rights on the site, and the review workflow on the site root."""
    moderators, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    _admin_access(moderators)
    _page_permissions(moderators, site_root, MODERATOR_PAGE_PERMISSIONS)
    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW_NAME, defaults={"active": True})
    task = GroupApprovalTask.objects.filter(name=f"{MODERATORS_GROUP}审核").first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=f"{MODERATORS_GROUP}审核")
        task.groups.set([moderators])
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    WorkflowPage.objects.update_or_create(page=site_root, defaults={"workflow": workflow})
    return workflow


@transaction.atomic
def county_section_ensure(*, county: Region, parent: Page, intro: str = "") -> tuple[Page, Group]:
    """The county's own publicity section below `parent` and the editor group that may edit only there."""

    if county.level != RegionLevel.COUNTY:
        raise ValueError(NOT_A_COUNTY)
    section = ArticleIndexPage.objects.child_of(parent).filter(region=county).first()
    if section is None:
        section = parent.add_child(
            instance=ArticleIndexPage(
                title=f"{county.name}宣传", slug=slugify(f"county-{county.code[:6]}"), region=county, intro=intro
            )
        )
    group, _ = Group.objects.get_or_create(name=EDITOR_GROUP_FORMAT.format(county=county.name))
    _admin_access(group)
    _page_permissions(group, section, EDITOR_PAGE_PERMISSIONS)
    return section, group
