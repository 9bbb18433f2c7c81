"""RSS feeds of policy documents and publicity articles, and robots.txt."""

from datetime import datetime, time

from django.contrib.syndication.views import Feed
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import ArticlePage, PolicyPage

FEED_SIZE = 20


def _as_datetime(day):
    return timezone.make_aware(datetime.combine(day, time(9, 0))) if day else None


class PolicyFeed(Feed):
    title = _("Policy documents")
    description = _("New and updated policy documents on care for rural left-behind elders.")

    def link(self):
        return reverse("cms:feed-policies")

    def items(self):
        return PolicyPage.objects.live().public().order_by("-published_date", "-pk")[:FEED_SIZE]

    def item_title(self, item):
        return f"{item.title}（{item.document_number}）" if item.document_number else item.title

    def item_description(self, item):
        return item.search_description or item.summary or item.title

    def item_link(self, item):
        return item.url

    def item_pubdate(self, item):
        return _as_datetime(item.published_date) or item.first_published_at


class PublicityFeed(Feed):
    title = _("Publicity")
    description = _("Filial-piety examples, health knowledge, law and rights, and work news.")

    def link(self):
        return reverse("cms:feed-publicity")

    def items(self):
        return ArticlePage.objects.live().public().order_by("-date", "-pk")[:FEED_SIZE]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.search_description or item.summary or item.title

    def item_link(self, item):
        return item.url

    def item_pubdate(self, item):
        return _as_datetime(item.date)

    def item_categories(self, item):
        return [item.get_category_display()]


def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /django-admin/",
        "Disallow: /accounts/",
        "Disallow: /portal/",
        "Disallow: /services/",
        "Disallow: /search/",
        # the header's large-text and language links (GET, rel="nofollow"): nothing to index there
        "Disallow: /a11y/",
        "Disallow: /i18n/",
        f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
