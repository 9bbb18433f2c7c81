"""Tables of the public lists and the organiser's member list, each with a plain-value export twin."""

import django_tables2 as tables

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from volunteers.models import Activity, Membership, Organisation, VolunteerProfile


class OrganisationTable(tables.Table):
    """The public directory. Its rows are plain values (organisations.organisations_directory), shown as
    cards by volunteers/tables/organisation_cards.html; the columns give the sort orders."""

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
        return _local_minute(value)

    def value_end(self, value):
        return _local_minute(value)


def _local_minute(value) -> str:
    """Local (Asia/Shanghai) time to the minute, as a printed sign-up sheet needs: "2026-12-02 09:00"."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


class MemberTable(tables.Table):
    """The organiser's member list: admins see contact phones (members only ever see names).

    The columns give the sortable headers; the rows are written out by the template
    (volunteers/tables/member_rows.html) from the record's fields: django-tables2's per-cell
    rendering (a signature inspection per cell, a template per date cell) cost more than the queries.
    """

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
        template_name = "volunteers/tables/member_rows.html"
        per_page = 50


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


class VolunteerStaffTable(tables.Table):
    """The staff's list of givers. Rows are written by volunteers/tables/volunteer_rows.html from the record
    (see MemberTable); the columns give the sortable headers."""

    name = tables.Column(accessor="user__real_name", verbose_name=_("Name"), order_by=("user__real_name", "pk"))
    kind = tables.Column(verbose_name=_("Kind"))
    village = tables.Column(verbose_name=_("Home village"), order_by=("village_id", "pk"))
    phone = tables.Column(accessor="user__phone", verbose_name=_("Mobile number"), orderable=False)
    skills = tables.Column(verbose_name=_("Skills"), orderable=False, empty_values=())
    spare = tables.Column(verbose_name=_("Elders paired / can pair"), order_by=("spare", "pk"))
    volunteer_minutes = tables.Column(verbose_name=_("Service hours"), order_by=("volunteer_minutes", "pk"))

    class Meta:
        model = VolunteerProfile
        fields = ("name", "kind", "village", "phone", "skills", "spare", "volunteer_minutes")
        attrs = {"class": "table giver-staff-table"}
        template_name = "volunteers/tables/volunteer_rows.html"
        per_page = 50


class VolunteerStaffExportTable(tables.Table):
    """Plain values for xlsx/csv: the ID number masked (never in full), the phone in full (staff call givers)."""

    name = tables.Column(accessor="user__real_name", verbose_name=_("Name"))
    kind = tables.Column(verbose_name=_("Kind"))
    village_code = tables.Column(accessor="village_id", verbose_name=_("Division code"))
    township = tables.Column(accessor="village__parent__name", verbose_name=_("Township"))
    village = tables.Column(accessor="village__name", verbose_name=_("Village"))
    phone = tables.Column(accessor="user__phone", verbose_name=_("Mobile number"))
    resident_id = tables.Column(accessor="pk", verbose_name=_("Resident ID number (masked)"))
    sex = tables.Column(verbose_name=_("Sex"))
    skills = tables.Column(accessor="pk", verbose_name=_("Skills"))
    days = tables.Column(accessor="pk", verbose_name=_("Days available"))
    max_elders = tables.Column(verbose_name=_("Elders they can pair with"))
    open_pairings = tables.Column(verbose_name=_("Open pairings"))
    spare = tables.Column(verbose_name=_("Spare capacity"))
    hours = tables.Column(accessor="volunteer_minutes", verbose_name=_("Service hours"))
    qualification = tables.Column(verbose_name=_("Qualification"))
    real_name = tables.Column(accessor="pk", verbose_name=_("Real-name details complete"))
    created_at = tables.Column(verbose_name=_("Registered"))

    class Meta:
        model = VolunteerProfile
        fields = ()

    def value_kind(self, record):
        return record.get_kind_display()

    def value_resident_id(self, record):
        return record.masked_resident_id

    def value_sex(self, record):
        return record.get_sex_display()

    def value_skills(self, record):
        return "、".join(skill.name for skill in record.skills.all())

    def value_days(self, record):
        return record.get_available_days_display()

    def value_hours(self, value):
        return round(value / 60, 1)

    def value_qualification(self, record):
        return record.get_qualification_display()

    def value_real_name(self, record):
        return str(_("Yes") if record.real_name_complete else _("No"))

    def value_created_at(self, value):
        return value.date().isoformat()
