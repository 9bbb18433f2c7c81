"""Tables and filters of the due list and the alert list (screen tables and plain export tables)."""

import django_filters
import django_tables2 as tables

from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.models import PREFIX_LENGTH, Region, RegionLevel
from portal.scoping import scope_prefixes, scope_regions
from services.care.models import Alert, AlertKind, AlertStatus
from services.care.visits import DUE_ALL, DUE_OVERDUE, DUE_THIS_WEEK, due_parts, week_bounds
from services.ledger.models import Elder, PriorityLevel


def elder_url(pk: int) -> str:
    try:
        return reverse("services:elder-detail", args=[pk])
    except NoReverseMatch:
        return reverse("services:visit-create", args=[pk])


def days_between(later, earlier) -> int:
    return (timezone.localtime(later).date() - timezone.localtime(earlier).date()).days


def _areas(request):
    """Townships and villages in scope. For a county or wider scope, the townships only, plus the villages
    of the township chosen (hundreds of options would make every page heavy)."""
    if request is None:
        return Region.objects.none()
    regions = scope_regions(request.user).order_by("code").only("code", "name", "level")
    prefixes = scope_prefixes(request.user)
    if prefixes is None or any(len(p) < PREFIX_LENGTH[RegionLevel.TOWNSHIP] for p in prefixes):
        chosen = (request.GET.get("area") or "")[:9]
        villages = (
            Q(level=RegionLevel.VILLAGE, code__startswith=chosen) if len(chosen) == 9 and chosen.isdigit() else Q()
        )
        return (
            regions.filter(Q(level=RegionLevel.TOWNSHIP) | villages)
            if villages
            else regions.filter(level=RegionLevel.TOWNSHIP)
        )
    return regions.filter(level__in=(RegionLevel.TOWNSHIP, RegionLevel.VILLAGE))


class AreaChoiceFilter(django_filters.ModelChoiceFilter):
    """A township (everything under it) or one village, among those in the user's scope."""

    def __init__(self, *args, region_field: str = "village", **kwargs):
        self.region_field = region_field
        kwargs.setdefault("queryset", _areas)
        kwargs.setdefault("label", _("Township or village"))
        kwargs.setdefault("empty_label", _("All in my area"))
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.region_field}__code__startswith": value.prefix})

    def label_from_instance(self, region):
        return region.name if region.level == RegionLevel.TOWNSHIP else f"　{region.name}"


class DueFilter(django_filters.FilterSet):
    when = django_filters.ChoiceFilter(
        label=_("Show"),
        choices=[(DUE_THIS_WEEK, _("Due this week")), (DUE_OVERDUE, _("Overdue")), (DUE_ALL, _("Everyone"))],
        empty_label=None,
        method="filter_when",
    )
    area = AreaChoiceFilter()
    priority = django_filters.ChoiceFilter(
        label=_("Priority"), choices=PriorityLevel.choices, field_name="priority_level", empty_label=_("All")
    )

    class Meta:
        model = Elder
        fields = ["when", "area", "priority"]

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        data.setdefault("when", DUE_THIS_WEEK)
        super().__init__(data, *args, **kwargs)
        self.form.fields["area"].label_from_instance = self.filters["area"].label_from_instance

    def filter_when(self, queryset, name, value):
        now = timezone.now()
        if value == DUE_OVERDUE:
            return queryset.filter(next_due__lt=now)
        if value == DUE_THIS_WEEK:
            return queryset.filter(next_due__lt=week_bounds()[1])
        return queryset


DUE_KIND_LABELS = {
    "alert": _("Home visit after an alert"),
    "home": _("Home visit"),
    "contact": _("Call or visit"),
}


def due_kind(record) -> str:
    parts = due_parts(record)
    if parts["alert"] is not None and parts["alert"] <= min(parts["contact"], parts["home"]):
        return "alert"
    if parts["home"] < parts["contact"]:
        return "home"
    return "contact"


class DueTable(tables.Table):
    name = tables.Column(verbose_name=_("Elder"), order_by=("name", "pk"))
    village = tables.Column(accessor="village__name", verbose_name=_("Village"), order_by=("village_id", "name"))
    priority_level = tables.Column(verbose_name=_("Priority"), order_by=("priority_rank", "next_due"))
    last_visit_at = tables.Column(verbose_name=_("Last contact"), empty_values=())
    next_due = tables.Column(verbose_name=_("Due"), order_by=("next_due", "pk"))
    what = tables.Column(verbose_name=_("What is due"), empty_values=(), orderable=False)
    open_follow_ups = tables.Column(verbose_name=_("Open follow-ups"))
    record = tables.Column(verbose_name="", empty_values=(), orderable=False)

    class Meta:
        attrs = {"class": "table due-table"}
        template_name = "services/care/_table.html"
        per_page = 50
        order_by = ("next_due",)
        row_attrs = {"class": lambda table, record: "is-overdue" if record.next_due < table.now else ""}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # per-page constants: one clock reading, URL patterns reversed once, not per row
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.elder_url = elder_url(0).replace("/0/", "/{}/")
        self.visit_url = reverse("services:visit-create", args=[0]).replace("/0/", "/{}/")
        self.record_label = str(_("Record visit"))

    def render_name(self, record, value):
        return format_html('<a href="{}">{}</a>', self.elder_url.format(record.pk), value)

    def render_priority_level(self, value):
        return PriorityLevel(value).label

    def render_last_visit_at(self, value):
        from django.template.defaultfilters import date

        return date(timezone.localtime(value), "DATE_FORMAT") if value else _("never")

    def render_next_due(self, record, value):
        from django.template.defaultfilters import date

        due_day = timezone.localtime(value).date()
        late = (self.today - due_day).days
        shown = date(due_day, "DATE_FORMAT")
        if late > 0:
            return format_html(
                '{}<br><strong class="overdue">{}</strong>', shown, _("%(days)s days overdue") % {"days": late}
            )
        if late == 0 and value < self.now:
            return format_html('{}<br><strong class="overdue">{}</strong>', shown, _("due today"))
        return shown

    def render_what(self, record):
        return DUE_KIND_LABELS[due_kind(record)]

    def render_open_follow_ups(self, value):
        return value or "—"

    def render_record(self, record):
        return format_html(
            '<a class="button small-button" href="{}">{}</a>', self.visit_url.format(record.pk), self.record_label
        )


class DueExportTable(tables.Table):
    """Plain values for CSV/Excel: ISO dates, numbers of days."""

    name = tables.Column(verbose_name=_("Elder"))
    village_code = tables.Column(accessor="village_id", verbose_name=_("Village code"))
    village = tables.Column(accessor="village__name", verbose_name=_("Village"))
    priority = tables.Column(accessor="priority_level", verbose_name=_("Priority"))
    last_visit = tables.Column(accessor="last_visit_at", verbose_name=_("Last contact"))
    last_home_visit = tables.Column(accessor="last_home_visit_at", verbose_name=_("Last home visit"))
    next_due = tables.Column(verbose_name=_("Due"))
    days_overdue = tables.Column(empty_values=(), verbose_name=_("Days overdue"))
    what = tables.Column(empty_values=(), verbose_name=_("What is due"))
    open_follow_ups = tables.Column(verbose_name=_("Open follow-ups"))

    class Meta:
        order_by = ("next_due",)

    def value_priority(self, value):
        return str(PriorityLevel(value).label)

    def value_last_visit(self, value):
        return timezone.localtime(value).date().isoformat() if value else ""

    value_last_home_visit = value_last_visit

    def value_next_due(self, value):
        return timezone.localtime(value).date().isoformat()

    def value_days_overdue(self, record):
        return max(0, days_between(timezone.now(), record.next_due))

    def value_what(self, record):
        return str(DUE_KIND_LABELS[due_kind(record)])


# --- alerts ----------------------------------------------------------------------------------------

OPEN = "open"
OVERDUE = "overdue"


class AlertFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[(OPEN, _("Open")), (OVERDUE, _("Overdue")), *AlertStatus.choices],
        empty_label=_("All"),
        method="filter_state",
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=AlertKind.choices, empty_label=_("All"))
    area = AreaChoiceFilter()

    class Meta:
        model = Alert
        fields = ["state", "kind", "area"]

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        data.setdefault("state", OPEN)
        super().__init__(data, *args, **kwargs)
        self.form.fields["area"].label_from_instance = self.filters["area"].label_from_instance

    def filter_state(self, queryset, name, value):
        if value == OPEN:
            return queryset.exclude(status=AlertStatus.CLOSED)
        if value == OVERDUE:
            return queryset.filter(~Q(status=AlertStatus.CLOSED), due_at__lt=timezone.now())
        return queryset.filter(status=value)


class AlertTable(tables.Table):
    reference = tables.Column(verbose_name=_("Reference"), linkify=("services:alert-detail", {"pk": tables.A("pk")}))
    created_at = tables.DateTimeColumn(verbose_name=_("Reported at"), format="SHORT_DATETIME_FORMAT")
    kind = tables.Column(verbose_name=_("Kind"))
    subject = tables.Column(
        verbose_name=_("About"),
        empty_values=(),
        order_by=("elder__name", "person_name"),
    )
    village = tables.Column(
        accessor="village__name",
        verbose_name=_("Village"),
        order_by=("village_id",),
    )
    status = tables.Column(verbose_name=_("Status"))
    due_at = tables.Column(verbose_name=_("Next step due"))

    class Meta:
        attrs = {"class": "table alert-table"}
        template_name = "services/care/_table.html"
        per_page = 50
        order_by = ("-created_at",)
        row_attrs = {"class": lambda record: "is-overdue" if record.is_overdue else ""}

    def render_subject(self, record):
        return record.subject

    def render_due_at(self, record, value):
        from django.template.defaultfilters import date

        if record.status == AlertStatus.CLOSED:
            return "—"
        shown = date(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
        if record.is_overdue:
            return format_html('{}<br><strong class="overdue">{}</strong>', shown, _("overdue"))
        return shown


class AlertExportTable(tables.Table):
    reference = tables.Column(verbose_name=_("Reference"))
    created_at = tables.Column(verbose_name=_("Reported at"))
    kind = tables.Column(verbose_name=_("Kind"))
    subject = tables.Column(empty_values=(), verbose_name=_("About"))
    village_code = tables.Column(accessor="village_id", verbose_name=_("Village code"))
    village = tables.Column(accessor="village__name", verbose_name=_("Village"))
    source = tables.Column(verbose_name=_("Reported by"))
    status = tables.Column(verbose_name=_("Status"))
    due_at = tables.Column(verbose_name=_("Next step due"))
    overdue = tables.Column(empty_values=(), verbose_name=_("Overdue"))

    class Meta:
        order_by = ("-created_at",)

    def value_created_at(self, value):
        return timezone.localtime(value).isoformat(timespec="minutes")

    def value_kind(self, record):
        return str(record.get_kind_display())

    def value_subject(self, record):
        return record.subject

    def value_source(self, record):
        return str(record.get_source_display())

    def value_status(self, record):
        return str(record.get_status_display())

    def value_due_at(self, value):
        return timezone.localtime(value).isoformat(timespec="minutes") if value else ""

    def value_overdue(self, record):
        return 1 if record.is_overdue else 0
