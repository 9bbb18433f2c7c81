"""Issue 15, item 4: text that looks like a formula is exported as text, in xlsx and in csv."""

import io

import openpyxl
import pytest
import tablib

from django.urls import reverse

from portal.exports import safe_cell, safe_dataset, safe_row
from services.tests.factories_ledger import ElderFactory

EVIL = '=HYPERLINK("http://evil","X")'


@pytest.mark.parametrize("value", [EVIL, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_starts_are_neutralised(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["马秀英", "138****5678", "", 12, -3, 1.5, None])
def test_plain_values_pass_unchanged(value):
    assert safe_cell(value) == value


def test_rows_and_datasets():
    assert safe_row(["a", "=1", 2]) == ["a", "'=1", 2]
    data = tablib.Dataset(["=1", "x"], headers=["@h", "name"], title="t")
    safe_dataset(data)
    assert data.headers == ["'@h", "name"] and list(data[0]) == ["'=1", "x"] and data.title == "t"


@pytest.mark.django_db
def test_ledger_export_writes_a_formula_name_as_text(client, liaison):
    ElderFactory(name=EVIL)
    client.force_login(liaison)
    response = client.get(reverse("services:elder-export"), {"format": "xlsx"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = [c for row in book.active.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert "'" + EVIL in [c.value for c in cells]
    csv_text = client.get(reverse("services:elder-export"), {"format": "csv"}).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text
    assert "\n=HYPERLINK" not in csv_text and ",=HYPERLINK" not in csv_text


def test_every_tables2_export_uses_the_safe_exporter():
    """Views built on django-tables2's ExportMixin (visits, alerts, records, volunteers…) too."""
    from django_tables2.export import ExportMixin

    from portal.exports import SafeTableExport

    assert ExportMixin.export_class is SafeTableExport
