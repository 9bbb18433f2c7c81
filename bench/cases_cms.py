"""Public-site cases: home, a policy page, the care-service list (whole and by county), search.

The setup adds 200 policy pages, 200 articles and 300 service items beside the demo content, so the
timings show that these pages do not slow down as the site grows (their query counts are pinned in
cms/tests).
"""

BULK = 200


def _grow_site() -> None:
    from cms.demo import ensure_site
    from cms.models import ArticleIndexPage, ArticlePage, PolicyIndexPage, PolicyPage
    from services.demo import service_items_ensure
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


def register(suite) -> None:
    suite.setup(_grow_site)
    suite.page("cms: home page with sections", "/")
    suite.page("cms: policy page (full text)", "/policy/ningxia-2018-105/")
    suite.page("cms: policy index", "/policy/")
    suite.page("cms: care-service list (all)", "/care-services/")
    suite.page("cms: care-service list (西吉县)", "/care-services/?county=640422000000")
    suite.page("cms: care-service item", "/care-services/item/1/")
    suite.page("cms: search 留守", "/search/?query=%E7%95%99%E5%AE%88")
