"""Wagtail admin: organisation kinds are editable snippets; organisations are listed read-only for editors
(approval itself happens on the county officer's own page, inside their scope)."""

from django.utils.translation import gettext_lazy as _

from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from volunteers.models import OrganisationKind


class OrganisationKindViewSet(SnippetViewSet):
    model = OrganisationKind
    icon = "group"
    menu_label = _("Organisation kinds")
    list_display = ["name", "slug", "sort_order"]
    search_fields = ["name"]
    add_to_admin_menu = False


register_snippet(OrganisationKindViewSet)
