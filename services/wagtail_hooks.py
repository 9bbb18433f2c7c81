"""Wagtail admin: the care-service list (关爱服务清单) as snippets editors manage without a developer."""

from django import forms
from django.utils.translation import gettext_lazy as _

from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from portal.models import Region, RegionLevel
from services.catalogue.models import ServiceCategory, ServiceItem


class RegionMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.parent.name} {obj.name}" if obj.level == RegionLevel.TOWNSHIP and obj.parent_id else obj.name


class ServiceItemForm(WagtailAdminModelForm):
    """Coverage is chosen among Ningxia's counties and townships only (not its 3,000 villages)."""

    class Meta:
        model = ServiceItem
        fields = "__all__"
        field_classes = {"regions": RegionMultipleChoiceField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["regions"].queryset = Region.objects.filter(
            level__in=[RegionLevel.COUNTY, RegionLevel.TOWNSHIP]
        ).select_related("parent")


class ServiceItemViewSet(SnippetViewSet):
    model = ServiceItem
    icon = "list-ul"
    menu_label = _("Care service items")
    list_display = ["name", "category", "provider", "cost", "published", "updated_at"]
    list_filter = ["category", "published", "professional"]
    list_export = [
        "name",
        "category",
        "description",
        "eligibility",
        "how_to_obtain",
        "provider",
        "contact",
        "cost",
        "published",
    ]
    export_filename = "care-service-list"
    search_fields = ["name", "description", "provider"]
    ordering = ["category__sort_order", "sort_order", "name"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("category"), FieldPanel("published")]),
            FieldPanel("name"),
            FieldPanel("description"),
            MultiFieldPanel(
                [
                    FieldPanel("eligibility"),
                    FieldPanel("how_to_obtain"),
                    FieldPanel("cost"),
                    FieldPanel("professional"),
                ],
                heading=_("Who and how"),
            ),
            FieldRowPanel([FieldPanel("provider"), FieldPanel("contact")]),
            FieldPanel("regions", widget=forms.SelectMultiple(attrs={"size": 12})),
            FieldPanel("sort_order"),
        ],
        base_form_class=ServiceItemForm,
    )


class ServiceCategoryViewSet(SnippetViewSet):
    model = ServiceCategory
    icon = "folder-open-inverse"
    menu_label = _("Service categories")
    list_display = ["name", "slug", "sort_order"]
    list_export = ["name", "slug", "description", "sort_order"]
    search_fields = ["name"]
    ordering = ["sort_order", "name"]
    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("description"), FieldPanel("sort_order")]


class CareServiceGroup(SnippetViewSetGroup):
    items = (ServiceItemViewSet, ServiceCategoryViewSet)
    menu_icon = "list-ul"
    menu_label = _("Care-service list")
    menu_name = "care-service-list"


register_snippet(CareServiceGroup)
