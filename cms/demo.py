"""Demo content for the public site."""

from django.db import transaction

from wagtail.models import Page, Site

from .models import HomePage

HOME = {
    "title": "首页",
    "hero_title": "农村留守老年人关爱服务",
    "hero_text": "让每一位留守老人有人知、有人访、有人帮。村联络人定期巡访，老年协会互助，志愿者结对帮扶，子女履行赡养责任。",
    "hotline": "12349",
}


@transaction.atomic
def ensure_home() -> HomePage:
    """Make a HomePage the site root (replacing Wagtail's placeholder page) and return it."""
    home = HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node()
        home = root.add_child(instance=HomePage(slug="portal-home", **HOME))
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="关爱服务门户"
        )
    elif site.root_page_id != home.pk:
        old = site.root_page
        site.root_page = home
        site.save()
        if old.specific_class is Page and old.depth == 2 and not old.get_children().exists():
            old.delete()
    return home


def seed() -> None:
    ensure_home()
