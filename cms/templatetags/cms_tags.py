"""Template helpers of the public site."""

from django import template
from django.utils.html import strip_tags
from django.utils.text import Truncator

from wagtail.whitelist import check_url

from ..richtext import render_richtext

register = template.Library()


@register.filter
def safe_richtext(value):
    """Rich text (a RichTextField's string or a RichText value) expanded and whitelisted."""
    return render_richtext(value)


@register.simple_tag
def page_description(page, limit: int = 120) -> str:
    """The page's search description, else the start of its summary, intro or text."""
    if page is None:
        return ""
    specific = getattr(page, "specific_deferred", page)
    for attr in ("search_description", "summary", "intro", "hero_text"):
        text = getattr(specific, attr, "") or ""
        if text.strip():
            return Truncator(" ".join(strip_tags(text).split())).chars(limit)
    if hasattr(specific, "search_plain_text"):
        return Truncator(" ".join(specific.search_plain_text().split())).chars(limit)
    return ""


@register.filter
def safe_url(value) -> str:
    """The address if its scheme is harmless (http, https, mailto, tel or relative), else empty."""
    return check_url(str(value or "")) or ""
