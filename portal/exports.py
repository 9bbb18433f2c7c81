"""Spreadsheet exports that cannot carry formulas (CSV/formula injection, OWASP).

A name typed as `=HYPERLINK("http://evil","X")` must reach Excel or WPS as text, never as a live formula.
Every text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe,
which spreadsheet programs read as "this is text". Numbers, dates and booleans pass unchanged.

- django-tables2 exports: `SafeTableExport`, installed as the default `export_class` of every
  `ExportMixin` by `portal.apps.PortalConfig.ready` (and used by `portal.tables.AuditedExportMixin`).
- Code that builds a workbook itself (openpyxl `sheet.append(row)`, `tablib.Dataset`) passes each row
  through `safe_row` (or each value through `safe_cell`), or a whole tablib dataset through `safe_dataset`.
"""

from collections.abc import Iterable
from typing import Any

from django_tables2.export import TableExport

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet must store it: text that could start a formula is prefixed with '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


def safe_dataset(dataset):
    """Neutralise a tablib Dataset in place (headers and rows) and return it."""
    if dataset.headers:
        dataset.headers = safe_row(dataset.headers)
    rows = [safe_row(row) for row in dataset]
    headers = dataset.headers
    dataset.wipe()
    dataset.headers = headers
    for row in rows:
        dataset.append(row)
    return dataset


class SafeTableExport(TableExport):
    """django-tables2's export with every cell passed through `safe_cell`."""

    def table_to_dataset(self, table, exclude_columns, dataset_kwargs=None):
        return safe_dataset(super().table_to_dataset(table, exclude_columns, dataset_kwargs))


def safe_workbook(book):
    """Neutralise every cell of an openpyxl workbook built by hand (numbers and dates pass unchanged)."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = safe_cell(cell.value)
    return book
