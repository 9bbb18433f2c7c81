"""Resident identity numbers (居民身份证号码, GB 11643-1999): check, mask, encrypt, look up.

An ID number reveals birth date and sex and opens bank and benefit accounts, so:
- it is validated by the ISO 7064 MOD 11-2 check digit and must agree with the stated birth date/sex;
- it is stored encrypted at rest (Fernet; MultiFernet so keys can be rotated), plus a keyed hash
  (HMAC-SHA256) for uniqueness and lookup — a database dump reveals neither;
- it is shown masked (6404*************3) so that neither birth date nor sex can be read.
"""

import base64
import datetime
import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

ID_RE = re.compile(r"^\d{17}[\dX]$")
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK_CHARS = "10X98765432"

INVALID_FORMAT = _("A resident ID number has 18 characters: 17 digits and a last digit or X.")
INVALID_CHECK = _("The ID number's check digit is wrong; please check the number.")
INVALID_DATE = _("The birth date inside the ID number is not a real date.")
BIRTH_MISMATCH = _("The birth date does not agree with the ID number.")
SEX_MISMATCH = _("The sex does not agree with the ID number.")


def normalise_resident_id(raw: str | None) -> str:
    return re.sub(r"\s", "", raw or "").upper()


def check_digit(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def parse_resident_id(raw: str | None) -> tuple[str, datetime.date, str]:
    """Return (normalised number, birth date, sex 'M'/'F'); raise ValidationError with a translated message."""
    value = normalise_resident_id(raw)
    if not ID_RE.match(value):
        raise ValidationError(INVALID_FORMAT, code="id_format")
    if check_digit(value[:17]) != value[17]:
        raise ValidationError(INVALID_CHECK, code="id_check_digit")
    try:
        birth = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise ValidationError(INVALID_DATE, code="id_birth_date") from exc
    if birth.year < 1890 or birth > datetime.date.today():  # noqa: DTZ011 — a calendar date, not an instant
        raise ValidationError(INVALID_DATE, code="id_birth_date")
    sex = "M" if int(value[16]) % 2 else "F"
    return value, birth, sex


def check_agrees(number: str, *, birth_date: datetime.date | None = None, sex: str | None = None) -> None:
    """Raise if the stated birth date or sex (M/F) contradicts the ID number."""
    _value, birth, id_sex = parse_resident_id(number)
    errors = {}
    if birth_date and birth_date != birth:
        errors["birth_date"] = ValidationError(BIRTH_MISMATCH, code="id_birth_mismatch")
    if sex and sex != id_sex:
        errors["sex"] = ValidationError(SEX_MISMATCH, code="id_sex_mismatch")
    if errors:
        raise ValidationError(errors)


def mask_resident_id(value: str | None) -> str:
    """First four (the prefecture) and the last character: no birth date, no sex digit."""
    if not value:
        return ""
    return f"{value[:4]}{'*' * (len(value) - 5)}{value[-1]}"


# --- at rest -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    return MultiFernet([Fernet(k) for k in keys])


def derive_key(secret: str, purpose: str) -> str:
    """A Fernet key derived from a secret, for development and tests (production sets real keys)."""
    digest = hashlib.sha256(f"{purpose}:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def encrypt_many(values: list[str]) -> list[str]:
    """Encrypt many values with one key set (bulk writes: the key setup is paid once, not per value)."""
    fernet = _fernet()
    return [fernet.encrypt(v.encode()).decode() if v else v for v in values]


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: wrong FIELD_ENCRYPTION_KEYS") from exc


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of the normalised value: equal numbers give equal hashes, a dump gives nothing away."""
    key = settings.IDENTITY_HASH_KEY.encode()
    return hmac.new(key, normalise_resident_id(value).encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token. It cannot be filtered on: keep a keyed hash beside it."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


class ResidentIdFormField(forms.CharField):
    """Form field: accepts spaces and a lower-case x, returns the normalised, checked number."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("Resident ID number"))
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        return parse_resident_id(value)[0]
