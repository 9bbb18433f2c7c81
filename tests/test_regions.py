import csv
import subprocess
import sys
from pathlib import Path

import pytest

from django.core.management import CommandError, call_command

from portal.management.commands.load_regions import DEFAULT_CSV
from portal.models import Region, RegionLevel

pytestmark = pytest.mark.django_db


def csv_rows():
    with DEFAULT_CSV.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_counts_per_level_equal_the_csv():
    expected = {}
    for row in csv_rows():
        expected[row["level"]] = expected.get(row["level"], 0) + 1
    for level, count in expected.items():
        assert Region.objects.filter(level=level).count() == count
    assert Region.objects.count() == len(csv_rows()) == 3199


def test_known_codes_and_parents():
    xingqing = Region.objects.get(code="640104000000")
    assert xingqing.name == "兴庆区"
    assert xingqing.level == RegionLevel.COUNTY
    assert xingqing.parent.code == "640100000000"
    assert xingqing.parent.name == "银川市"


def test_load_is_idempotent():
    before = Region.objects.count()
    call_command("load_regions", verbosity=0)
    assert Region.objects.count() == before


def test_subtree_is_the_code_prefix():
    township = Region.objects.get(code="640422100000")  # 吉强镇
    villages = set(township.subtree().filter(level=RegionLevel.VILLAGE).values_list("code", flat=True))
    by_parent = set(Region.objects.filter(parent=township).values_list("code", flat=True))
    assert villages == by_parent
    assert all(code.startswith("640422100") for code in villages)
    assert township.contains("640422100201")
    assert not township.contains("640422101201")


def write(tmp_path: Path, text: str, encoding="utf-8") -> Path:
    path = tmp_path / "regions.csv"
    path.write_bytes(text.encode(encoding))
    return path


GOOD_HEAD = "code,name,level,parent_code\n640000000000,宁夏回族自治区,province,\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,name\n1,x\n", "第1行"),
        (GOOD_HEAD + "6401,银川市,city,640000000000\n", "第3行"),
        (GOOD_HEAD + "640100000000,银川市,metropolis,640000000000\n", "第3行"),
        (GOOD_HEAD + "640100000000,银川市,city,640000000000\n640100000000,银川,city,640000000000\n", "第4行"),
        (GOOD_HEAD + "640104000000,兴庆区,county,640100000000\n", "第3行"),
        (GOOD_HEAD + "650100000000,乌鲁木齐市,city,640000000000\n", "第3行"),
        (GOOD_HEAD + "640100000000,银川市,city\n", "第3行"),
        (GOOD_HEAD + "640100000000,,city,640000000000\n", "第3行"),
    ],
    ids=[
        "bad-header",
        "short-code",
        "bad-level",
        "duplicate",
        "missing-parent",
        "wrong-prefix",
        "3-columns",
        "no-name",
    ],
)
def test_malformed_csv_names_the_line_and_changes_nothing(tmp_path, text, message):
    Region.objects.filter(code="640000000000").update(name="unchanged-marker")
    before = Region.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("load_regions", file=write(tmp_path, text), verbosity=0)
    assert Region.objects.count() == before
    assert Region.objects.get(code="640000000000").name == "unchanged-marker"


def test_missing_and_non_utf8_files_are_refused(tmp_path):
    with pytest.raises(CommandError, match="找不到"):
        call_command("load_regions", file=tmp_path / "nope.csv", verbosity=0)
    with pytest.raises(CommandError, match="UTF-8"):
        call_command("load_regions", file=write(tmp_path, GOOD_HEAD, encoding="gb18030"), verbosity=0)


def test_a_failure_late_in_the_file_rolls_back_everything(tmp_path):
    """A valid new region early in the file must not be saved when a later line is bad."""
    text = GOOD_HEAD + "640100000000,银川市-改,city,640000000000\n640199000000,坏,county,649900000000\n"
    with pytest.raises(CommandError, match="第4行"):
        call_command("load_regions", file=write(tmp_path, text), verbosity=0)
    assert Region.objects.get(code="640100000000").name == "银川市"


def test_command_line_exits_non_zero_on_bad_file(tmp_path):
    path = write(tmp_path, "nonsense\n")
    result = subprocess.run(
        [sys.executable, "manage.py", "load_regions", "--file", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={"DJANGO_SETTINGS_MODULE": "portal.settings.test", "DATABASE_URL": "sqlite:///:memory:", "PATH": ""},
    )
    assert result.returncode != 0
    assert "1" in result.stderr
