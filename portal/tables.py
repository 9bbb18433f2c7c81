import django_tables2 as tables

from django.utils.translation import gettext_lazy as _

from .models import Region


class VillageTable(tables.Table):
    code = tables.Column(verbose_name=_("Division code"))
    name = tables.Column(verbose_name=_("Village / community"))
    township = tables.Column(accessor="parent__name", verbose_name=_("Township"), order_by=("parent__code",))
    county = tables.Column(
        accessor="parent__parent__name", verbose_name=_("County"), order_by=("parent__parent__code",)
    )

    class Meta:
        model = Region
        fields = ("code", "name", "township", "county")
        attrs = {"class": "table"}
        template_name = "django_tables2/table.html"
        per_page = 50
