import django_filters

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import Region, RegionLevel
from .scoping import scope_regions


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
