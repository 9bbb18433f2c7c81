"""The public activity list as a Wagtail page, so editors can place it in the site's menu and home page."""

from django.core.paginator import Paginator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel
from wagtail.models import Page

from volunteers import activities
from volunteers.filters import ActivityFilter


class ActivityIndexPage(Page):
    """Upcoming published mutual-aid activities, filtered by county, township and kind, with an iCalendar feed."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []
    max_count = 1

    class Meta:
        verbose_name = _("activity list page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        queryset = activities.activities_public().filter(end__gte=timezone.now())
        activity_filter = ActivityFilter(request.GET, queryset=queryset, request=request)
        page = Paginator(activity_filter.qs, 20).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            {
                "filter": activity_filter,
                "activities": page,
                "query": query.urlencode(),
                "ics_url": reverse("volunteers:activity-ics") + (f"?{query.urlencode()}" if query else ""),
            }
        )
        return context
