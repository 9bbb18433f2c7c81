"""Public-site cases: home, a policy page, the care-service list (whole and by county), search.

The setup adds 200 policy pages, 200 articles and 300 service items beside the demo content, so the
timings show that these pages do not slow down as the site grows (their query counts are pinned in
cms/tests). The plain cases render every time (the page cache off); the "cached" ones are what an
anonymous visitor gets from portal.cache (0 queries).
"""

from bench.harness import anonymous_get

BULK = 200


def _grow_site() -> None:
    from cms.demo import ensure_site
    from cms.models import ArticleIndexPage, ArticlePage, PolicyIndexPage, PolicyPage
    from services.catalogue.demo import service_items_ensure
    from services.models import ServiceCategory, ServiceItem

    service_items_ensure()
    ensure_site()
    index = PolicyIndexPage.objects.get()
    publicity = ArticleIndexPage.objects.get(slug="publicity")
    if not PolicyPage.objects.filter(slug="bench-0").exists():
        for n in range(BULK):
            index.add_child(instance=PolicyPage(title=f"基准政策 {n}", slug=f"bench-{n}", summary="留守老人关爱"))
            publicity.add_child(
                instance=ArticlePage(title=f"基准文章 {n}", slug=f"bench-{n}", date="2026-01-01", category="news")
            )
    categories = list(ServiceCategory.objects.all())
    if not ServiceItem.objects.filter(name="基准服务 0").exists():
        ServiceItem.objects.bulk_create(
            ServiceItem(category=categories[n % len(categories)], name=f"基准服务 {n}", description="说明")
            for n in range(300)
        )


RENDERED = [
    ("cms: home page with sections", "/"),
    ("cms: policy page (full text)", "/policy/ningxia-2018-105/"),
    ("cms: policy index", "/policy/"),
    ("cms: care-service list (all)", "/care-services/"),
    ("cms: care-service list (西吉县)", "/care-services/?county=640422000000"),
    ("cms: care-service item", "/care-services/item/1/"),
]
CACHED = [
    ("cms: cached home page", "/"),
    ("cms: cached policy page", "/policy/ningxia-2018-105/"),
    ("cms: cached care-service list (西吉县)", "/care-services/?county=640422000000"),
    ("cms: cached sitemap", "/sitemap.xml"),
]


def register(suite) -> None:
    suite.setup(_grow_site)
    for name, url in RENDERED:
        suite.call(name, anonymous_get(url, cached=False), floor="view floor")
    suite.page("cms: search 留守", "/search/?query=%E7%95%99%E5%AE%88")
    # Anonymous visitors' second and later views: the issue's bar is within 2× of the view floor.
    for name, url in CACHED:
        suite.call(name, anonymous_get(url, cached=True), floor="view floor")
