"""Every catalogue is fully translated into Chinese and its compiled .mo matches the .po."""

from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted(p for p in ROOT.glob("**/locale/*/LC_MESSAGES/django.po") if ".venv" not in p.parts)


def test_catalogues_exist():
    assert any("zh_Hans" in str(p) for p in CATALOGUES)


@pytest.mark.parametrize(
    "po_path", [p for p in CATALOGUES if "zh_Hans" in p.parts], ids=lambda p: str(p.relative_to(ROOT))
)
def test_zh_hans_is_complete_and_compiled(po_path):
    po = polib.pofile(str(po_path))
    assert po.untranslated_entries() == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    mo = polib.mofile(str(po_path.with_suffix(".mo")))
    compiled = {e.msgid: e.msgstr for e in mo if not e.msgid_plural}
    for entry in po.translated_entries():
        if not entry.msgid_plural:
            assert compiled.get(entry.msgid) == entry.msgstr, f"recompile {po_path.name}: {entry.msgid!r}"
