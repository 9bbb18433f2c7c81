"""generate_load and the demo ledger: valid, spread, idempotent."""

import io

import pytest

from django.core.management import call_command

from portal.identity import keyed_hash, parse_resident_id
from services.ledger import demo as demo_ledger
from services.ledger.models import Elder, ElderChange, FamilyContact

pytestmark = pytest.mark.django_db


def test_generate_load_makes_valid_spread_elders(monkeypatch):
    seen = {}
    monkeypatch.setattr("services.care.load.generate", lambda *, elder_ids, seed: seen.update(ids=elder_ids) or {})
    out = io.StringIO()
    call_command("generate_load", elders=300, stdout=out)
    call_command("generate_load", elders=50, seed=2, stdout=out)
    assert Elder.objects.count() == 350
    assert len(seen["ids"]) == 50 and set(seen["ids"]) <= set(Elder.objects.values_list("pk", flat=True))
    villages = set(Elder.objects.values_list("village_id", flat=True))
    assert len(villages) > 50 and all(code.startswith("64") for code in villages)
    for elder in Elder.objects.order_by("?")[:40]:
        number, birth, sex = parse_resident_id(elder.id_number)
        assert birth == elder.birth_date and sex == elder.gender and keyed_hash(number) == elder.id_hash
        assert elder.age >= 60
    assert FamilyContact.objects.exists()


def test_demo_ledger_is_idempotent(liaison):
    demo_ledger.seed()
    counts = (Elder.objects.count(), FamilyContact.objects.count(), ElderChange.objects.count())
    demo_ledger.seed()
    assert (Elder.objects.count(), FamilyContact.objects.count(), ElderChange.objects.count()) == counts
    assert Elder.objects.filter(village_id=demo_ledger.VILLAGE).count() == 36
    assert Elder.objects.exclude(village_id=demo_ledger.VILLAGE).filter(village__parent_id="640422100000").count() == 9
    assert Elder.objects.with_priority().filter(priority_level="key").exists()
