"""Region picker: county → township → village, three small selects instead of one of 2,912 options.

The form field is a ModelChoiceField over Region; the widget posts the chosen village's code under the
field's name. Choosing a county or township refreshes the next select from /portal/regions/<code>/children/
(static/js/region-picker.js). The server fills all three selects from the current value, so a form
shown again after an error keeps the choice.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Region, RegionLevel


class RegionPickerWidget(forms.Widget):
    template_name = "portal/widgets/region_picker.html"
    # the level the posted value must have; the picker stops there
    target_level = RegionLevel.VILLAGE

    class Media:
        js = ["js/region-picker.js"]

    def __init__(self, attrs=None, *, root_code: str = "640000000000", target_level: str = RegionLevel.VILLAGE):
        super().__init__(attrs)
        self.root_code = root_code
        self.target_level = target_level

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        code = str(value.pk if isinstance(value, Region) else value or "")
        chosen = {"county": "", "township": "", "village": ""}
        if len(code) == 12 and code.isdigit():
            chosen["county"] = code[:6] + "000000"
            chosen["township"] = code[:9] + "000" if code[6:9] != "000" else ""
            chosen["village"] = code if code[9:] != "000" else ""
        counties = Region.objects.filter(level=RegionLevel.COUNTY, code__startswith=self.root_code[:2]).select_related(
            "parent"
        )
        townships = Region.objects.filter(parent_id=chosen["county"]) if chosen["county"] else Region.objects.none()
        villages = Region.objects.filter(parent_id=chosen["township"]) if chosen["township"] else Region.objects.none()
        levels = ["county", "township", "village"]
        levels = levels[: levels.index(self.target_level) + 1]
        context["widget"]["picker"] = {
            "levels": levels,
            "chosen": chosen,
            "counties": [(r.code, f"{r.parent.name} · {r.name}") for r in counties],
            "townships": list(townships.values_list("code", "name")),
            "villages": list(villages.values_list("code", "name")),
            "labels": {
                "county": _("County / district"),
                "township": _("Township / town"),
                "village": _("Village / community"),
            },
            "children_url": "/portal/regions/",
        }
        return context

    def value_from_datadict(self, data, files, name):
        # Without JavaScript the lower selects are empty on the first submit: keep the deepest choice
        # made, so the form comes back with that county's townships (and refuses it as not a village).
        return data.get(name) or data.get(f"{name}_township") or data.get(f"{name}_county") or None


class RegionChoiceField(forms.ModelChoiceField):
    """A region of one level (village by default), picked with RegionPickerWidget."""

    default_error_messages = {"invalid_choice": _("Choose a village or community from the list.")}

    def __init__(self, *, level: str = RegionLevel.VILLAGE, queryset=None, **kwargs):
        queryset = queryset if queryset is not None else Region.objects.filter(level=level)
        kwargs.setdefault("widget", RegionPickerWidget(target_level=level))
        super().__init__(queryset=queryset, **kwargs)
