"""Fill zh_Hans catalogues: `python -m scripts.po_fill [PO ...] [--json FILE] [--missing]`.

- Reuses a translation already present in any other zh_Hans catalogue of the project.
- `--json FILE` adds translations from a {msgid: msgstr} object (plural entries: msgid of the singular).
- `--missing` lists what is still untranslated (exit 1 if anything is).
Without PO arguments, every zh_Hans catalogue of the project is processed. Run `make messages` after.
"""

import argparse
import json
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def catalogues() -> list[Path]:
    return sorted(p for p in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po") if ".venv" not in p.parts)


def untranslated(entry: polib.POEntry) -> bool:
    if entry.obsolete:
        return False
    if entry.msgid_plural:
        return not any(entry.msgstr_plural.values()) or "fuzzy" in entry.flags
    return not entry.msgstr or "fuzzy" in entry.flags


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("po", nargs="*", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--missing", action="store_true")
    args = parser.parse_args()
    known: dict[str, str] = {}
    for path in catalogues():
        for e in polib.pofile(str(path)):
            if not untranslated(e):
                known.setdefault(e.msgid, e.msgstr_plural.get(0, "") if e.msgid_plural else e.msgstr)
    # Translation memories kept beside catalogues (locale/zh_Hans/*.json) let parallel work re-apply its
    # translations after another run of makemessages; --json adds one more.
    for memory in sorted(ROOT.glob("**/locale/zh_Hans/*.json")):
        if ".venv" not in memory.parts:
            known.update(json.loads(memory.read_text(encoding="utf-8")))
    if args.json:
        known.update(json.loads(args.json.read_text(encoding="utf-8")))
    missing = 0
    for path in args.po or catalogues():
        po = polib.pofile(str(path))
        for e in po:
            if untranslated(e) and e.msgid in known:
                if e.msgid_plural:
                    e.msgstr_plural = {0: known[e.msgid]}
                else:
                    e.msgstr = known[e.msgid]
                if "fuzzy" in e.flags:
                    e.flags.remove("fuzzy")
                    e.previous_msgid = None
                    e.previous_msgid_plural = None
            if untranslated(e):
                missing += 1
                if args.missing:
                    print(f"{path.relative_to(ROOT)}: {e.msgid!r}")
        po.save(str(path))
    return 1 if (args.missing and missing) else 0


if __name__ == "__main__":
    sys.exit(main())
