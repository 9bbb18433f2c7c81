"""Rich text made harmless at render time, whatever route it took into the database.

Wagtail's editor only produces whitelisted HTML, but rich text can also arrive through imports, the
shell, an API or an old revision. Rendering therefore passes the expanded HTML through a whitelist:
unknown elements (``<script>``, ``<iframe>``, ``<style>``…) are unwrapped to escaped text, every
attribute not listed is dropped (``onclick``, ``onerror``, ``style``…), and link targets keep only
http(s), mailto, tel and relative URLs (``javascript:`` and ``data:`` are removed).
"""

import re

from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe

from wagtail.rich_text import expand_db_html
from wagtail.whitelist import DEFAULT_ELEMENT_RULES, Whitelister, attribute_rule, check_url


def _image_src(url: str) -> str | None:
    return check_url(url) if not url.lower().lstrip().startswith("data:") else None


class PublicWhitelister(Whitelister):
    element_rules = {
        **DEFAULT_ELEMENT_RULES,
        "a": attribute_rule({"href": check_url}),
        "img": attribute_rule({"src": _image_src, "width": True, "height": True, "alt": True, "class": True}),
        "blockquote": attribute_rule({}),
        "code": attribute_rule({}),
        "s": attribute_rule({}),
        "small": attribute_rule({}),
        "table": attribute_rule({}),
        "thead": attribute_rule({}),
        "tbody": attribute_rule({}),
        "tr": attribute_rule({}),
        "th": attribute_rule({"scope": True}),
        "td": attribute_rule({}),
    }

    def clean_tag_node(self, doc, tag):
        # Drop the text of script and style elements entirely instead of unwrapping it.
        if tag.name in {"script", "style", "template"}:
            tag.decompose()
            return
        super().clean_tag_node(doc, tag)


_WHITELISTER = PublicWhitelister()


def clean_html(html: str) -> str:
    """Whitelist already expanded (front-end) HTML."""
    return _WHITELISTER.clean(html or "")


def render_richtext(value) -> SafeString:
    """Expand Wagtail's database HTML (page links, documents, images) and whitelist the result."""
    source = getattr(value, "source", value) or ""
    return mark_safe(clean_html(expand_db_html(str(source))))  # noqa: S308 - whitelisted just above


_HIDDEN_ELEMENTS = re.compile(r"<(script|style|template)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def html_to_text(html: str) -> str:
    """Readable text of rich text (for the search index and descriptions): tags and script bodies dropped."""
    return strip_tags(_HIDDEN_ELEMENTS.sub(" ", html or ""))
