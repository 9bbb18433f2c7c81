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
        assert "---------" not in html and "请选择…" in html
    with translation.override("en"):
        assert str(CHOOSE) == "Choose…"


@pytest.mark.parametrize("name", ["services:elder-create", "services:contact-create", "services:need-create"])
def test_staff_form_pages_have_no_dashes(client, liaison, name):
    elder = make_elder()
    client.force_login(liaison)
    url = reverse(name) if name == "services:elder-create" else reverse(name, args=[elder.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "---------" not in response.content.decode()


def test_the_ledger_area_filter_says_all_once_and_no_stray_dot(client, liaison):
    import re

    make_elder()
    client.force_login(liaison)
    html = client.get(reverse("services:elder-list")).content.decode()
    select = re.search(r'<select name="region"[^>]*>(.*?)</select>', html, re.S).group(1)
    options = re.findall(r"<option[^>]*>([^<]*)</option>", select)
    assert options[0] in ("All", "全部") and options.count(options[0]) == 1
    assert all(not o.startswith("·") for o in options), options
