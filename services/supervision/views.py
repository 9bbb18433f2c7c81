"""Supervision dashboards (督促检查) and the warning-sign ranking: read-only pages over an area and a period.

Thin views: the figures come from services.supervision.figures (aggregate queries); this module resolves the
area (in the user's scope, else 404) and the period (bad dates: a message and this month), builds the
links to the lists behind each figure, the chart data (static/js/charts.js reads it through json_script)
and the xlsx export.
"""

import io
from urllib.parse import urlencode

import django_tables2 as tables

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from portal import audit
from portal.exports import safe_workbook
from portal.models import PREFIX_LENGTH, AuditAction, Region, RegionLevel
from portal.scoping import ScopedViewMixin, in_scope, scoped_view
from services.ledger.models import PriorityLevel
from services.pairing.models import PairingStatus
from services.records.models import RecordKind, RecordStatus
from services.supervision import figures as sup
from services.supervision.forms import PERIOD_DEFAULT, PeriodForm, RankingForm

LIST_LEVELS = (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE)  # the levels the list pages can filter by
ORGANISATIONS_IN_CHART = 10
RANKING_PREVIEW = 5


# --- area and period -------------------------------------------------------------------------------


def resolve_region(request) -> tuple[Region, list[Region]]:
    """The area asked for (`region`, a 12-digit code) or the user's widest; outside the scope → 404."""
    roots = sup.root_regions(request.user)
    if not roots:
        raise Http404
    code = request.GET.get("region", "").strip()
    if not code:
        return roots[0], roots
    if not (len(code) == 12 and code.isdigit()) or not in_scope(request.user, code, roles=sup.SUPERVISION_ROLES):
        raise Http404
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise Http404
    return region, roots


def resolve_period(request) -> tuple[sup.Period, PeriodForm]:
    form = PeriodForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        for text in form.error_messages():
            messages.error(request, text)
        messages.warning(request, PERIOD_DEFAULT)
    return form.period(), form


def region_options(region: Region, roots: list[Region]) -> list[tuple[str, str]]:
    """The area select: the user's own areas, the way down to the current one, and its sub-areas (one query)."""
    ancestors = [
        region.code[:length].ljust(12, "0")
        for level, length in PREFIX_LENGTH.items()
        if length < len(region.prefix) and region.code[:length].ljust(12, "0") != region.code
    ]
    root_prefixes = [r.prefix for r in roots]
    wanted = Q(code__in=[r.code for r in roots]) | Q(code=region.code) | Q(code__in=ancestors)
    if region.level != RegionLevel.VILLAGE:
        wanted |= Q(parent=region)
    options = []
    for code, name, level in Region.objects.filter(wanted).order_by("code").values_list("code", "name", "level"):
        if not any(code.startswith(p) for p in root_prefixes):
            continue  # an ancestor above the user's own area
        depth = list(PREFIX_LENGTH).index(level)
        options.append((code, "\u3000" * max(0, depth - 1) + name))
    return options


# --- links to the lists behind the figures ---------------------------------------------------------


def _url(name: str, *, keep_empty: tuple[str, ...] = (), **query) -> str:
    """A list page's URL with its filter parameters; "" if the page does not exist (yet)."""
    try:
        base = reverse(name)
    except NoReverseMatch:
        return ""
    query = {k: v for k, v in query.items() if v not in (None, "") or k in keep_empty}
    return f"{base}?{urlencode(query)}" if query else base


def list_links(region_code: str, level: str, period: sup.Period) -> dict[str, str]:
    """Links to the list pages, filtered to this area where the list can filter by it (township, village)."""
    filterable = level in LIST_LEVELS
    area = region_code if filterable else ""
    dates = {"start_after": period.start.isoformat(), "start_before": period.end.isoformat()}
    return {
        "ledger": _url("services:elder-list", region=area),
        "ledger_key": _url("services:elder-list", region=area, priority=PriorityLevel.KEY),
        "visits_overdue": _url("services:visits-due", when="overdue", area=area),
        "visits_week": _url("services:visits-due", when="week", area=area),
        "alerts": _url("services:alert-list", keep_empty=("state",), state="", area=area),
        "alerts_open": _url("services:alert-list", state="open", area=area),
        "alerts_overdue": _url("services:alert-list", state="overdue", area=area),
        "pairings": _url("services:pairing-list", status=PairingStatus.ACTIVE),
        "records_volunteer": _url(
            "volunteers:record-list", kind=RecordKind.VOLUNTEER, status=RecordStatus.CONFIRMED, **dates
        ),
        "records_purchased": _url(
            "volunteers:record-list", kind=RecordKind.PURCHASED, status=RecordStatus.CONFIRMED, **dates
        ),
        "records_settled": _url("volunteers:record-list", status=RecordStatus.SETTLED, **dates),
        "contracts": _contract_list_url(),
        "filterable": filterable,
    }


def _contract_list_url() -> str:
    for name in ("services:contract-list", "services:purchase-contract-list", "services:purchasing-contracts"):
        url = _url(name)
        if url:
            return url
    return ""


def dashboard_url(region_code: str, request) -> str:
    """The dashboard of another area, keeping the chosen period (not the ranking's sorting or page)."""
    query = request.GET.copy()
    for name in ("sort", "page", "level"):
        query.pop(name, None)
    query["region"] = region_code
    return f"{reverse('services:supervision')}?{query.urlencode()}"


# --- chart data ------------------------------------------------------------------------------------


def chart_data(board: sup.Dashboard) -> dict:
    """Plain data for static/js/charts.js: labels and datasets; the tables next to the charts show the same.
    Volunteer and purchased hours are drawn side by side, never stacked: the two ledgers are not added up."""
    # areas with nothing to show would only add empty bands to the chart; the table lists every area
    areas = [a for a in board.areas if a.active or a.visits_done or a.overdue_visits]
    charts = {
        "visits": {
            "type": "bar",
            "labels": [a.name for a in areas],
            "datasets": [
                {"label": _("Planned contacts"), "data": [a.visits_expected_whole for a in areas], "color": "muted"},
                {"label": _("Contacts made"), "data": [a.visits_done for a in areas], "color": "accent"},
                {"label": _("Overdue now"), "data": [a.overdue_visits for a in areas], "color": "error"},
            ],
        },
        "alerts": {
            "type": "bar",
            "labels": [k.label for k in board.kinds],
            "datasets": [
                {"label": _("Reported in the period"), "data": [k.reported for k in board.kinds], "color": "accent"},
                {"label": _("Step overdue now"), "data": [k.overdue_now for k in board.kinds], "color": "error"},
            ],
        },
        "categories": {
            "type": "bar",
            "labels": [c.name for c in board.categories],
            "datasets": [
                {
                    "label": _("Volunteer hours"),
                    "data": [c.volunteer_hours for c in board.categories],
                    "color": "accent",
                },
                {
                    "label": _("Purchased hours"),
                    "data": [c.purchased_hours for c in board.categories],
                    "color": "brand",
                },
            ],
        },
        "organisations": {
            "type": "bar",
            "horizontal": True,
            "labels": [o.name for o in board.organisations[:ORGANISATIONS_IN_CHART]],
            "datasets": [
                {
                    "label": _("Volunteer hours"),
                    "data": [o.volunteer_hours for o in board.organisations[:ORGANISATIONS_IN_CHART]],
                    "color": "accent",
                },
                {
                    "label": _("Purchased hours"),
                    "data": [o.purchased_hours for o in board.organisations[:ORGANISATIONS_IN_CHART]],
                    "color": "brand",
                },
            ],
        },
    }
    if board.spend:
        rows = board.spend["rows"]
        charts["spend"] = {
            "type": "bar",
            "labels": [r["name"] for r in rows],
            "datasets": [
                {"label": _("Budget (yuan)"), "data": [float(r["budget"]) for r in rows], "color": "muted"},
                {"label": _("Spent to date (yuan)"), "data": [float(r["spent"]) for r in rows], "color": "brand"},
                {
                    "label": _("Spent in the period (yuan)"),
                    "data": [float(r["spent_period"]) for r in rows],
                    "color": "accent",
                },
            ],
        }
    return charts


# --- the dashboard ---------------------------------------------------------------------------------


def _context(request) -> dict:
    region, roots = resolve_region(request)
    period, form = resolve_period(request)
    board = sup.dashboard(request.user, region, period)
    links = list_links(region.code, region.level, period)
    for area in board.areas:
        area.links = {"dashboard": dashboard_url(area.code, request), **list_links(area.code, area.level, period)}
    area = region.code if links["filterable"] else ""
    for kind in board.kinds:
        kind.links = {
            "all": _url("services:alert-list", keep_empty=("state",), state="", kind=kind.kind, area=area),
            "open": _url("services:alert-list", state="open", kind=kind.kind, area=area),
            "overdue": _url("services:alert-list", state="overdue", kind=kind.kind, area=area),
        }
    ranking = board.ranking
    # areas with nothing at all are listed by name only, under the table (a county has hundreds of villages)
    shown = [a for a in board.areas if a.active or a.visits_done or a.alerts_reported or a.alerts_open]
    empty = [a for a in board.areas if a not in shown]
    query = request.GET.copy()
    query["region"] = region.code
    return {
        "board": board,
        "region": region,
        "period": period,
        "form": form,
        "region_options": region_options(region, roots),
        "areas_shown": shown,
        "areas_empty": empty,
        "links": links,
        "charts": chart_data(board),
        "ranking_preview": [
            (row, [sup.SIGN_LABELS[s] for s in row.signs(board.now, board.stale_days)])
            for row in ranking[:RANKING_PREVIEW]
        ],
        "query": query.urlencode(),
        "child_level_label": RegionLevel(board.child_level).label,
        "sign_labels": sup.SIGN_LABELS,
        "family_contact": sup.family_contact_shares(request.user, region, level=board.child_level, now=board.now),
    }


@transaction.non_atomic_requests
@scoped_view(*sup.SUPERVISION_ROLES)
def supervision_dashboard(request):
    context = _context(request)
    context["proof"] = sup.proof_figures(request.user, context["region"].prefix, period=context["period"])
    return render(request, "services/supervision/dashboard.html", context)


@transaction.non_atomic_requests
@scoped_view(*sup.SUPERVISION_ROLES)
def supervision_export(request):
    """The dashboard as an xlsx workbook, one sheet per section; audited."""
    region, _roots = resolve_region(request)
    period, _form = resolve_period(request)
    board = sup.dashboard(request.user, region, period)
    content = workbook(board)
    audit.record(
        AuditAction.EXPORT,
        request=request,
        object_type="services.supervision",
        object_id=region.code,
        object_repr=f"supervision {region.name} {period.start}–{period.end} (xlsx)",
        changes={"region": region.code, "start": period.start.isoformat(), "end": period.end.isoformat()},
    )
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    filename = f"supervision-{region.code}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def workbook(board: sup.Dashboard) -> bytes:
    """One sheet per section: plain numbers (hours with one decimal, shares as fractions)."""
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    bold = Font(bold=True)

    def sheet(title: str, header: list[str], rows: list[list], first: bool = False):
        ws = book.active if first else book.create_sheet()
        ws.title = title[:31]
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append(row)
        for i, _h in enumerate(header, start=1):
            ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width = 16
        return ws

    t, p = board.total, board.period
    sheet(
        _("Summary"),
        [_("Figure"), _("Value")],
        [
            [_("Area"), board.region.name],
            [_("Division code"), board.region.code],
            [_("From"), p.start],
            [_("To"), p.end],
            [_("Elders on the ledger"), t.active],
            [_("Key elders"), t.key],
            [_("Key elders with an active pairing"), t.key_paired],
            [_("Share of key elders paired"), _share(t.key_paired_share)],
            [_("Planned contacts in the period"), t.visits_expected_whole],
            [_("Contacts made in the period"), t.visits_done],
            [_("Home visits made in the period"), t.home_visits],
            [_("Elders reached in the period"), t.elders_reached],
            [_("Elders overdue a visit now"), t.overdue_visits],
            [_("Alerts reported in the period"), t.alerts_reported],
            [_("Open alerts now"), t.alerts_open],
            [_("Alerts with an overdue step now"), t.alerts_overdue],
            [_("Ledger entries not updated for %(days)s days") % {"days": board.stale_days}, t.stale],
        ],
        first=True,
    )
    area_header = [
        _("Division code"),
        _("Area"),
        _("Elders on the ledger"),
        _("Key elders"),
        _("Key elders paired"),
        _("Planned contacts"),
        _("Contacts made"),
        _("Home visits"),
        _("Elders reached"),
        _("Overdue now"),
        _("Alerts reported"),
        _("Alerts overdue now"),
        _("Stale ledger entries"),
    ]

    def area_row(a: sup.AreaRow) -> list:
        return [
            a.code,
            a.name,
            a.active,
            a.key,
            a.key_paired,
            a.visits_expected_whole,
            a.visits_done,
            a.home_visits,
            a.elders_reached,
            a.overdue_visits,
            a.alerts_reported,
            a.alerts_overdue,
            a.stale,
        ]

    sheet(_("By area"), area_header, [area_row(a) for a in board.areas])
    sheet(
        _("Alerts by kind"),
        [
            _("Kind"),
            _("Reported in the period"),
            _("Closed"),
            _("Open now"),
            _("Step overdue now"),
            _("Median hours to acknowledge"),
            _("Median hours to close"),
        ],
        [
            [k.label, k.reported, k.closed, k.open_now, k.overdue_now, k.median_ack_hours, k.median_close_hours]
            for k in board.kinds
        ],
    )
    hours_header = [_("Volunteer hours"), _("Purchased hours"), _("Total hours"), _("Records")]
    sheet(
        _("Hours by category"),
        [_("Service category"), *hours_header],
        [[c.name, c.volunteer_hours, c.purchased_hours, c.total_hours, c.records] for c in board.categories],
    )
    sheet(
        _("Hours by organisation"),
        [_("Organisation"), *hours_header],
        [[o.name, o.volunteer_hours, o.purchased_hours, o.total_hours, o.records] for o in board.organisations],
    )
    if board.spend is not None:
        sheet(
            _("Spend and budget"),
            [
                _("Contract"),
                _("Organisation"),
                _("Buyer"),
                _("From"),
                _("To"),
                _("Budget (yuan)"),
                _("Spent to date (yuan)"),
                _("Spent in the period (yuan)"),
            ],
            [
                [
                    r["name"],
                    r["organisation"],
                    r["buyer"],
                    r["start"],
                    r["end"],
                    r["budget"],
                    r["spent"],
                    r["spent_period"],
                ]
                for r in board.spend["rows"]
            ],
        )
    else:
        sheet(_("Spend and budget"), [_("Purchasing is not set up yet.")], [])
    sheet(
        _("Ranking"),
        [
            _("Rank"),
            *area_header[:3],
            _("Overdue now"),
            _("Alerts overdue now"),
            _("Stale ledger entries"),
            _("Days since the ledger was updated"),
            _("Warning signs"),
        ],
        [
            [
                i,
                r.code,
                r.name,
                r.active,
                r.overdue_visits,
                r.alerts_overdue,
                r.stale,
                r.days_since_update(board.now),
                "、".join(str(sup.SIGN_LABELS[s]) for s in r.signs(board.now, board.stale_days)),
            ]
            for i, r in enumerate(board.ranking, start=1)
        ],
    )
    out = io.BytesIO()
    safe_workbook(book).save(out)
    return out.getvalue()


def _share(value: float | None) -> float | str:
    return "" if value is None else round(value, 4)


# --- the ranking -----------------------------------------------------------------------------------


class RankingTable(tables.Table):
    """Villages or townships by warning signs; every column sorts (the rows are a list, sorted in Python)."""

    position = tables.Column(verbose_name=gettext_lazy("Rank"))
    name = tables.Column(verbose_name=gettext_lazy("Area"), order_by=("code",))
    sign_count = tables.Column(verbose_name=gettext_lazy("Warning signs"), order_by=("position",))
    alerts_overdue = tables.Column(verbose_name=gettext_lazy("Alerts overdue now"))
    overdue_visits = tables.Column(verbose_name=gettext_lazy("Elders overdue a visit"))
    overdue_permille = tables.Column(verbose_name=gettext_lazy("Share overdue"))
    stale = tables.Column(verbose_name=gettext_lazy("Stale ledger entries"))
    days_since = tables.Column(verbose_name=gettext_lazy("Days since the ledger was updated"))
    active = tables.Column(verbose_name=gettext_lazy("Elders on the ledger"))
    family_share = tables.Column(verbose_name=gettext_lazy("Family contact in 30 days"))

    class Meta:
        attrs = {"class": "table ranking-table"}
        template_name = "services/care/_table.html"
        per_page = 50
        order_by = ("position",)

    def __init__(self, *args, period=None, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.period = period
        self.request = request

    def render_name(self, record, value):
        return format_html('<a href="{}">{}</a>', dashboard_url(record.code, self.request), value)

    def render_sign_count(self, record):
        if not record.sign_list:
            return "—"
        labels = "、".join(str(sup.SIGN_LABELS[s]) for s in record.sign_list)
        return format_html('<strong class="overdue">{}</strong> {}', len(record.sign_list), labels)

    def _linked(self, record, value, key):
        links = list_links(record.code, record.level, self.period)
        if value and links["filterable"] and links[key]:
            return format_html('<a href="{}">{}</a>', links[key], value)
        return str(value)

    def render_alerts_overdue(self, record, value):
        return self._linked(record, value, "alerts_overdue")

    def render_overdue_visits(self, record, value):
        return self._linked(record, value, "visits_overdue")

    def render_stale(self, record, value):
        return self._linked(record, value, "ledger")

    def render_overdue_permille(self, record):
        return record.overdue_pct

    def render_days_since(self, record, value):
        return "—" if value < 0 else value

    def render_family_share(self, record):
        return record.family_pct


def ranking_rows(rows: list[sup.AreaRow], *, now, days: int) -> list[sup.AreaRow]:
    """Give each ranked row the plain attributes the table shows and sorts by (no None: lists sort in Python)."""
    for position, row in enumerate(rows, start=1):
        row.position = position
        row.sign_list = row.signs(now, days)
        row.sign_count = len(row.sign_list)
        row.overdue_permille = round(1000 * (row.overdue_share or 0))
        since = row.days_since_update(now)
        row.days_since = -1 if since is None else since
    return rows


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class RankingView(ScopedViewMixin, tables.SingleTableMixin, TemplateView):
    """Where to go first: villages or townships of the area ranked by the three warning signs of today."""

    allowed_roles = sup.SUPERVISION_ROLES
    template_name = "services/supervision/ranking.html"
    table_class = RankingTable

    def get(self, request, *args, **kwargs):
        self.region, self.roots = resolve_region(request)
        self.period, self.period_form = resolve_period(request)
        self.level_form = RankingForm(request.GET)
        self.level = self.level_form.level_value()
        self.now = timezone.now()
        rows = sup.ranking(request.user, self.region, level=self.level, now=self.now)
        self.rows = ranking_rows(rows, now=self.now, days=sup.stale_days())
        sup.family_contact_attach(self.rows, request.user, self.region, level=self.level, now=self.now)
        sup.add_formal_care_sign(self.rows, request.user, self.region, level=self.level, now=self.now)
        return super().get(request, *args, **kwargs)

    def get_table_data(self):
        return self.rows

    def get_table_kwargs(self):
        return {"period": self.period, "request": self.request}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query["region"] = self.region.code
        query.pop("page", None)
        query.pop("sort", None)
        context.update(
            region=self.region,
            period=self.period,
            level=self.level,
            level_form=self.level_form,
            period_form=self.period_form,
            region_options=region_options(self.region, self.roots),
            stale_days=sup.stale_days(),
            dashboard_query=query.urlencode(),
            sign_labels=sup.SIGN_LABELS,
            with_signs=sum(1 for r in self.rows if r.sign_list),
        )
        return context
