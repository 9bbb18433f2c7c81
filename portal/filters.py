import django_filters

from django.core.cache import cache
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import Region, RegionLevel
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
