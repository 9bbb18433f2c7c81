import datetime

import pytest

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection

from portal.identity import (
    check_agrees,
    check_digit,
    decrypt,
    encrypt,
    keyed_hash,
    mask_resident_id,
    parse_resident_id,
)
from portal.models import Region
from portal.widgets import RegionChoiceField

# The standard's own worked example (GB 11643-1999, Annex): 11010519491231002X.
VALID = "11010519491231002X"


def with_check(first17: str) -> str:
    return first17 + check_digit(first17)


def test_standard_example_parses():
    number, birth, sex = parse_resident_id(" 11010519491231002x ")
    assert number == VALID
    assert birth == datetime.date(1949, 12, 31)
    assert sex == "F"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("110105194912310021", "id_check_digit"),
        ("1101051949123100", "id_format"),
        ("11010519491231002Y", "id_format"),
        (with_check("64042219500230123"), "id_birth_date"),  # 30 February
        (with_check("64042221500101123"), "id_birth_date"),  # born in 2150
        ("<script>alert(1)</script>", "id_format"),
    ],
)
def test_bad_numbers_are_named(raw, code):
    with pytest.raises(ValidationError) as caught:
        parse_resident_id(raw)
    assert caught.value.code == code


def test_birth_date_and_sex_must_agree():
    number = with_check("64042219450315123")  # 1945-03-15, 17th digit 3 → male
    check_agrees(number, birth_date=datetime.date(1945, 3, 15), sex="M")
    with pytest.raises(ValidationError) as caught:
        check_agrees(number, birth_date=datetime.date(1945, 3, 16), sex="F")
    assert set(caught.value.error_dict) == {"birth_date", "sex"}


def test_mask_hides_birth_date_and_sex():
    masked = mask_resident_id(VALID)
    assert masked == "1101*************X"
    assert "1949" not in masked and "002" not in masked


def test_encryption_round_trip_and_keyed_hash():
    token = encrypt(VALID)
    assert VALID not in token
    assert decrypt(token) == VALID
    assert encrypt(VALID) != token  # randomised: equal numbers do not give equal tokens
    assert keyed_hash(VALID) == keyed_hash(VALID.lower())
    assert keyed_hash(VALID) != keyed_hash(with_check("64042219450315123"))
    assert VALID not in keyed_hash(VALID)


@pytest.mark.django_db
def test_region_picker_field_takes_a_village_and_refuses_others():
    class F(forms.Form):
        village = RegionChoiceField()

    assert F({"village": "640422100201"}).is_valid()
    bad = F({"village": "640422100000"})  # a township, not a village
    assert not bad.is_valid()
    assert "从列表中选择" in str(bad.errors)
    html = F(initial={"village": "640422100201"}).as_p()
    assert 'value="640422100201" selected' in html
    assert 'value="640422100000" selected' in html  # its township is pre-selected


@pytest.mark.django_db
def test_region_children_endpoint(client):
    data = client.get("/portal/regions/640422000000/children/").json()
    names = {c["name"] for c in data["children"]}
    assert "吉强镇" in names
    assert len(data["children"]) == Region.objects.filter(parent_id="640422000000").count()
    assert client.get("/portal/regions/abc/children/").status_code == 400


@pytest.mark.django_db
def test_encrypted_field_is_unreadable_in_the_database():
    """A dump shows a token, not the number (checked with raw SQL on a throwaway table)."""
    from portal.identity import EncryptedTextField

    field = EncryptedTextField()
    stored = field.get_prep_value(VALID)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE t_enc (v TEXT)")
        cursor.execute("INSERT INTO t_enc (v) VALUES (%s)", [stored])
        cursor.execute("SELECT v FROM t_enc")
        raw = cursor.fetchone()[0]
    assert VALID not in raw
    assert field.from_db_value(raw, None, connection) == VALID
