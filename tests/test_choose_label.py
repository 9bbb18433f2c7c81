"""Issue 16, item 7: no drop-down says "---------"; an empty choice reads 请选择… (Choose…)."""

import pytest

from django import forms
from django.urls import reverse
from django.utils import translation

from portal.choose import CHOOSE
from portal.models import Region
from services.models import Elder
from services.tests.factories_care import make_elder

pytestmark = pytest.mark.django_db


def test_model_and_filter_empty_choices_say_choose():
    class ElderPick(forms.Form):
        elder = forms.ModelChoiceField(queryset=Elder.objects.none())

    class VillageForm(forms.ModelForm):
        class Meta:
            model = Elder
            fields = ["gender"]

    import django_filters

    class ByVillage(django_filters.FilterSet):
        village = django_filters.ModelChoiceFilter(queryset=Region.objects.filter(code="640422100201"))

        class Meta:
            model = Elder
            fields = []

    with translation.override("zh-hans"):
        rendered = [str(ElderPick()), str(VillageForm()), str(ByVillage().form)]
    for html in rendered:
        assert "---------" not in html
    assert str(CHOOSE) == "Choose…"


@pytest.mark.parametrize("name", ["services:elder-create", "services:contact-create", "services:need-create"])
def test_staff_form_pages_have_no_dashes(client, liaison, name):
    elder = make_elder()
    client.force_login(liaison)
    url = reverse(name) if name == "services:elder-create" else reverse(name, args=[elder.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "---------" not in response.content.decode()
