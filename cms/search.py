"""Site search that works for Chinese, on SQLite and PostgreSQL alike.

Chinese is written without spaces, so both databases' full-text tokenisers (SQLite FTS5's unicode61
and PostgreSQL's default parser, which Wagtail's database backend uses) read a whole run of Chinese
characters as one "word": a page saying "农村留守老年人关爱服务" is indexed under that single token and
a search for 留守 misses it.

We therefore index, beside the ordinary fields, a copy of each page's text in which every run of
Chinese characters is written out as its single characters and its overlapping character pairs
(留守老人 → 留 守 老 人 留守 守老 老人), separated by spaces, which every tokeniser splits. A query is
cut the same way (留守老人 → 留守 守老 老人, a single character stays itself) and all its pieces must
match. This is the classic CJK bigram method (Lucene's CJKAnalyzer, Elasticsearch's cjk analyzer).
We chose it over a dictionary segmenter such as jieba because it needs no dictionary: index and query
are cut by the same rule, so a word the dictionary lacks (巡访, a village name, a person's name) is cut
identically in both and is still found; jieba cuts by context and can split the same word differently
in a sentence and in a two-character query. The index copy is larger, which a site of a few thousand
pages does not notice.

Queries are cut to MAX_QUERY_LENGTH characters and MAX_TERMS pieces, so a 2,000-character paste or a
line of punctuation answers at once.
"""

import re

from django.db.models import Q
from django.template.response import TemplateResponse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail.models import Page

from services.catalogue.selectors import items_published

from . import models as cms_models  # cms.models imports this module: its names are read at call time

MAX_QUERY_LENGTH = 100
MAX_TERMS = 24
RESULTS_PER_PAGE = 10
MAX_RESULTS = 500
EXCERPT_RADIUS = 60

QUERY_TRUNCATED = gettext_lazy("Your search was long; only its first %(count)s characters were used.")
QUERY_EMPTY = gettext_lazy("Type a word to search for, for example 留守 or 巡访.")

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD_RE = re.compile(rf"[{_CJK}]+|[0-9a-z]+", re.IGNORECASE)
_CJK_RE = re.compile(rf"^[{_CJK}]+$")


def _words(text: str) -> list[str]:
    return _WORD_RE.findall((text or "").lower())


def segment_for_index(text: str) -> str:
    """The text as space-separated single characters and character pairs of each Chinese run, plus words."""
    out = []
    for word in _words(text):
        if _CJK_RE.match(word):
            out.extend(word)
            out.extend(word[i : i + 2] for i in range(len(word) - 1))
        else:
            out.append(word)
    return " ".join(out)


def query_terms(query: str) -> list[str]:
    """The pieces every result must contain: character pairs of each Chinese run (or the one character)."""
    terms: list[str] = []
    for word in _words(query[:MAX_QUERY_LENGTH]):
        pieces = [word[i : i + 2] for i in range(len(word) - 1)] if _CJK_RE.match(word) and len(word) > 1 else [word]
        for piece in pieces:
            if piece not in terms:
                terms.append(piece)
    return terms[:MAX_TERMS]


def highlight_words(query: str) -> list[str]:
    """The query's own words, longest first, for marking them in excerpts."""
    return sorted(set(_words(query[:MAX_QUERY_LENGTH])), key=len, reverse=True)[:MAX_TERMS]


def excerpt(text: str, words: list[str], radius: int = EXCERPT_RADIUS) -> SafeString:
    """A piece of `text` around the first query word found, escaped, with the words in <mark>."""
    text = " ".join((text or "").split())
    lowered = text.lower()
    positions = [lowered.find(w) for w in words if w and lowered.find(w) >= 0]
    start = max(min(positions) - radius, 0) if positions else 0
    end = min(start + 2 * radius + 20, len(text))
    piece = text[start:end]
    if not words:
        return escape(piece)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    html, last = [], 0
    for match in pattern.finditer(piece):
        html.append(escape(piece[last : match.start()]))
        html.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    html.append(escape(piece[last:]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(prefix + "".join(html) + suffix)  # noqa: S308 - every piece escaped above


def pages_search(query: str):
    """Live public pages containing every piece of the query, in the backend's order (none for no pieces)."""
    terms = query_terms(query)
    if not terms:
        return Page.objects.none()
    return Page.objects.live().public().search(" ".join(terms), operator="and")


def ranked_page_ids(query: str) -> list[int]:
    """Ids of the matching pages, those whose title holds every query word first.

    Full-text ranking (BM25) favours short pages, so a long policy whose very title is the query would
    come after a short page that mentions it once; the title test puts it back on top.
    """
    ids = [page.pk for page in pages_search(query)[:MAX_RESULTS]]
    if not ids:
        return []
    in_title = Page.objects.filter(pk__in=ids)
    for word in highlight_words(query)[:5]:
        in_title = in_title.filter(title__icontains=word)
    first = set(in_title.values_list("pk", flat=True))
    return [i for i in ids if i in first] + [i for i in ids if i not in first]


def service_items_search(query: str, limit: int = 10):
    """Published care-service items whose name, description or category contain every query word."""

    words = highlight_words(query)[:5]
    if not words:
        return []
    items = items_published()
    for word in words:
        items = items.filter(
            Q(name__icontains=word) | Q(description__icontains=word) | Q(category__name__icontains=word)
        )
    return list(items[:limit])


def search_view(request):
    """/search/?query=… (or ?q=…): pages and care-service items, with highlighted excerpts and paging."""

    raw = (request.GET.get("query") or request.GET.get("q") or "").strip()
    query = raw[:MAX_QUERY_LENGTH]
    notices = []
    if len(raw) > MAX_QUERY_LENGTH:
        notices.append(QUERY_TRUNCATED % {"count": MAX_QUERY_LENGTH})
    results = None
    items = []
    words = highlight_words(query)
    if query and not query_terms(query):
        notices.append(QUERY_EMPTY)
    elif query:
        results = cms_models.paginate(request, ranked_page_ids(query), RESULTS_PER_PAGE)
        pages = Page.objects.filter(pk__in=results.object_list).specific().in_bulk()
        results.object_list = [pages[pk] for pk in results.object_list if pk in pages]
        for page in results.object_list:
            source = page.search_plain_text() if hasattr(page, "search_plain_text") else page.title
            source = source.removeprefix(page.title)
            page.search_excerpt = excerpt(source, words)
            page.search_kind = page._meta.verbose_name
        items = service_items_search(query)
    list_page = cms_models.ServiceListPage.objects.live().public().first() if items else None
    return TemplateResponse(
        request,
        "cms/search.html",
        {
            "query": query,
            "notices": notices,
            "results": results,
            "service_items": items,
            "service_list_page": list_page,
            "title": _("Search"),
        },
    )
