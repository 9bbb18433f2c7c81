import re

import django_filters

from django.core.cache import cache
from django.db.models import Q
from django.http import QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from .identity import decrypt, encrypt, normalise_resident_id
from .models import Region, RegionLevel
from .phone import MOBILE_RE, normalise_phone
from .scoping import scope_prefixes, scope_regions


def region_choices(user) -> list[tuple[str, str]]:
    """Townships and villages in the user's scope; division names change rarely, so they are cached."""
    prefixes = scope_prefixes(user)
    key = "ledger-region-choices:" + ("all" if prefixes is None else ",".join(prefixes))
    choices = cache.get(key)
    if choices is None:
        regions = scope_regions(user).filter(level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE]).order_by("code")
        rows = list(regions.values_list("code", "name", "level")[:3000])
        townships = {code for code, _name, level in rows if level == RegionLevel.TOWNSHIP}
        # a village is indented under its township only when that township is listed too (a liaison's
        # one village reads "大营村委会", not "· 大营村委会")
        choices = [
            (code, f"· {name}" if level != RegionLevel.TOWNSHIP and code[:9] + "000" in townships else name)
            for code, name, level in rows
        ]
        cache.set(key, choices, 3600)
    return choices


def _townships(request):
    if request is None:
        return Region.objects.none()
    return scope_regions(request.user).filter(level=RegionLevel.TOWNSHIP)


class VillageFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name or code"), method="search")
    township = django_filters.ModelChoiceFilter(
        label=_("Township"), queryset=_townships, field_name="parent", empty_label=_("All townships")
    )

    class Meta:
        model = Region
        fields = ["q", "township"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__contains=value) | Q(code__startswith=value))


# --- searches by ID number or phone -------------------------------------------------------------------

SEALED_PARAM = "qs"
_ID_LIKE = re.compile(r"^\d{17}[\dX]$")


def is_personal_number(term: str) -> bool:
    """A full resident ID number or a mainland mobile number: terms that must never stand in a URL."""
    return bool(_ID_LIKE.match(normalise_resident_id(term)) or MOBILE_RE.match(normalise_phone(term)))


class SealedSearchMixin:
    """A list whose search box takes ID numbers or phones: the filter form is POSTed and answered with a
    redirect to the GET list (post/redirect/get), the term sealed (encrypted) when it is such a number. URLs
    reach server logs, browser history, the Referer header and the audit trail; the sealed token says nothing
    and only this server can open it. A clear number typed into the URL by hand is sealed by a redirect too."""

    search_field = "q"

    def _sealed_redirect(self, query: QueryDict):
        query = query.copy()
        query.pop("csrfmiddlewaretoken", None)
        term = query.get(self.search_field, "").strip()
        if term and is_personal_number(term):
            query.pop(self.search_field)
            query[SEALED_PARAM] = encrypt(term)
        return redirect(f"{self.request.path}?{query.urlencode()}" if query else self.request.path)

    def post(self, request, *args, **kwargs):
        return self._sealed_redirect(request.POST)

    def get(self, request, *args, **kwargs):
        term = request.GET.get(self.search_field, "").strip()
        if term and is_personal_number(term):
            return self._sealed_redirect(request.GET)
        return super().get(request, *args, **kwargs)

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        token = self.request.GET.get(SEALED_PARAM)
        if token and kwargs.get("data") is not None:
            data = kwargs["data"].copy()
            data.pop(SEALED_PARAM)
            try:
                data[self.search_field] = decrypt(token)
            except (ValueError, TypeError):
                data[self.search_field] = ""  # a token from elsewhere (or tampered) searches for nothing special
            kwargs["data"] = data
        return kwargs
