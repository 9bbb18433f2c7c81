"""One wording for "nothing chosen yet" in every drop-down: 请选择… instead of Django's "---------".

Django puts "---------" in three places: model fields' blank choice (`BLANK_CHOICE_DASH`, shared by reference
as a default argument), `ModelChoiceField`'s default `empty_label`, and django-filter's default empty choice.
`use_choose_label()` (called once from PortalConfig.ready) swaps the three for the translated label, so forms
and filters that say nothing else read 请选择…; those that name their own empty label ("全部") keep it.
"""

from django.utils.translation import gettext_lazy as _

CHOOSE = _("Choose…")
DASHES = "---------"


def use_choose_label() -> None:
    import django_filters.conf

    from django.conf import settings
    from django.db.models import fields
    from django.forms.models import ModelChoiceField

    fields.BLANK_CHOICE_DASH[:] = [("", CHOOSE)]
    if ModelChoiceField.__init__.__kwdefaults__.get("empty_label") == DASHES:
        ModelChoiceField.__init__.__kwdefaults__["empty_label"] = CHOOSE
    if not hasattr(settings, "FILTERS_EMPTY_CHOICE_LABEL"):
        django_filters.conf.DEFAULTS["EMPTY_CHOICE_LABEL"] = CHOOSE
        django_filters.conf.settings.EMPTY_CHOICE_LABEL = CHOOSE  # the library caches what it read
