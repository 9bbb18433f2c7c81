"""Tables of the public lists and the organiser's member list, each with a plain-value export twin."""

import django_tables2 as tables

from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .models import Activity, Membership, Organisation


class OrganisationTable(tables.Table):
    name = tables.Column(verbose_name=_("Name"), linkify=True)
    kind = tables.Column(accessor="kind__name", verbose_name=_("Kind"), order_by=("kind__sort_order",))
    township = tables.Column(accessor="region", verbose_name=_("Place"), order_by=("region_id",), orderable=True)
    county = tables.Column(accessor="region", verbose_name=_("County"), order_by=("region_id",), orderable=False)

    class Meta:
        model = Organisation
        fields = ("name", "kind", "township", "county")
        template_name = "volunteers/tables/organisation_cards.html"  # cards read better on a phone
        per_page = 30

    def render_township(self, record):
        region = record.region
        return f"{region.parent.name} · {region.name}" if region.level == "village" else region.name

    def render_county(self, record):
        region = record.region
        county = region.parent.parent if region.level == "village" else region.parent
        return county.name


class OrganisationExportTable(tables.Table):
    name = tables.Column(verbose_name=_("Name"))
    kind = tables.Column(accessor="kind__name", verbose_name=_("Kind"))
    region_code = tables.Column(accessor="region_id", verbose_name=_("Division code"))
    region_name = tables.Column(accessor="region__name", verbose_name=_("Place"))
    address = tables.Column(verbose_name=_("Address"))
    contact_name = tables.Column(verbose_name=_("Contact person"))
    contact_phone = tables.Column(verbose_name=_("Contact phone"))
    credit_code = tables.Column(verbose_name=_("Unified social credit code"))

    class Meta:
        model = Organisation
        fields = ()


class ActivityTable(tables.Table):
    """Rendered as cards (volunteers/tables/activity_cards.html): easier to read on a phone than columns."""

    start = tables.Column(verbose_name=_("Starts"))
    title = tables.Column(verbose_name=_("Title"), linkify=True)
    kind = tables.Column(verbose_name=_("Kind"))
    village = tables.Column(verbose_name=_("Place"), order_by=("village_id",))
    organisation = tables.Column(accessor="organisation__name", verbose_name=_("Organisation"))

    class Meta:
        model = Activity
        fields = ("start", "title", "kind", "village", "organisation")
        template_name = "volunteers/tables/activity_cards.html"
        per_page = 20
        order_by = ("start",)


class ActivityExportTable(tables.Table):
    start = tables.Column(verbose_name=_("Starts"))
    end = tables.Column(verbose_name=_("Ends"))
    title = tables.Column(verbose_name=_("Title"))
    kind = tables.Column(verbose_name=_("Kind"))
    village_code = tables.Column(accessor="village_id", verbose_name=_("Division code"))
    village = tables.Column(accessor="village__name", verbose_name=_("Village"))
    address = tables.Column(verbose_name=_("Address"))
    organisation = tables.Column(accessor="organisation__name", verbose_name=_("Organisation"))
    capacity = tables.Column(verbose_name=_("Places"))
    signup_count = tables.Column(verbose_name=_("Signed up"))

    class Meta:
        model = Activity
        fields = ()

    def value_start(self, value):
        return value.isoformat()

    def value_end(self, value):
        return value.isoformat()


class MemberTable(tables.Table):
    """The organiser's member list: admins see contact phones (members only ever see names)."""

    name = tables.Column(accessor="user__real_name", verbose_name=_("Name"), order_by=("user__real_name",))
    phone = tables.Column(accessor="user__phone", verbose_name=_("Mobile number"))
    status = tables.Column(verbose_name=_("Status"))
    is_admin = tables.BooleanColumn(verbose_name=_("Admin"))
    created_at = tables.DateColumn(verbose_name=_("Asked at"), format="DATE_FORMAT")
    actions = tables.Column(accessor="pk", verbose_name=_("Actions"), orderable=False)

    class Meta:
        model = Membership
        fields = ("name", "phone", "status", "is_admin", "created_at", "actions")
        attrs = {"class": "table nowrap-table"}
        template_name = "django_tables2/table.html"
        per_page = 50

    def render_actions(self, record):
        """Accept/decline or appoint buttons; built in Python (a template per row costs more than the query)."""
        if record.status == "pending":
            buttons = [("accept", _("Accept"), "button small-button"), ("decline", _("Decline"), "link-button")]
        elif record.status == "active" and record.is_admin:
            buttons = [("remove_admin", _("Remove as admin"), "link-button")]
        elif record.status == "active":
            buttons = [("make_admin", _("Make admin"), "link-button")]
        else:
            return ""
        url = reverse("volunteers:membership-action", args=[record.organisation_id, record.pk])
        token = get_token(self.request)
        return format_html(
            '<form method="post" action="{}" class="inline-actions">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">{}</form>',
            url,
            token,
            format_html_join(" ", '<button type="submit" name="action" value="{}" class="{}">{}</button>', buttons),
        )


class MemberExportTable(tables.Table):
    name = tables.Column(accessor="user__real_name", verbose_name=_("Name"))
    phone = tables.Column(accessor="user__phone", verbose_name=_("Mobile number"))
    status = tables.Column(verbose_name=_("Status"))
    is_admin = tables.Column(verbose_name=_("Admin"))
    created_at = tables.Column(verbose_name=_("Asked at"))

    class Meta:
        model = Membership
        fields = ()

    def value_created_at(self, value):
        return value.date().isoformat()


class OrganisationReviewTable(OrganisationTable):
    status = tables.Column(verbose_name=_("Status"))
    created_at = tables.DateColumn(verbose_name=_("Registered"), format="DATE_FORMAT")

    class Meta(OrganisationTable.Meta):
        fields = ("name", "kind", "township", "status", "created_at")
        exclude = ("county",)
        attrs = {"class": "table"}
        template_name = "django_tables2/table.html"
