"""`make test`: project checks (Django's, the import contracts of `make lint`, missing migrations), then the
suite on SQLite, then on PostgreSQL.

PostgreSQL is used when TEST_DATABASE_URL is set or a server answers on 127.0.0.1:5432. Under CI
(CI=true) a missing PostgreSQL run is a failure, not a skip: the suite must hold on both databases.
Then the suite runs once more on SQLite with the clock moved (`shifted_clock`: the last day of a month more than
a year ahead, 23:30 in Beijing), so a test that depends on today's date fails the day it is written.
The browser tests (marker `browser`, headless Chromium) run last, on SQLite, when /usr/bin/chromium
exists; under CI they are mandatory too (.ci/run installs Chromium).
"""

import calendar
import datetime
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/portal"


def run(title: str, cmd: list[str], env: dict | None = None) -> bool:
    print(f"\n=== {title} ===", flush=True)
    result = subprocess.run(cmd, env={**os.environ, **(env or {})}, check=False)
    if result.returncode != 0:
        print(f"!!! {title} failed (exit {result.returncode})", flush=True)
    return result.returncode == 0


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


def shifted_clock(today: datetime.date | None = None) -> str:
    """23:30 Beijing time (15:30 UTC) on the last day of the month 13 months from today, as ISO 8601."""
    today = today or datetime.datetime.now(datetime.UTC).date()
    months = today.year * 12 + today.month - 1 + 13
    year, month = divmod(months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return f"{year:04d}-{month + 1:02d}-{last:02d}T23:30:00+08:00"


def collectstatic_production() -> bool:
    """collectstatic with portal.settings.production (whitenoise's manifest storage: every file a CSS or JS
    file names must exist), into a throwaway folder."""
    from scripts.prodenv import production_env

    with tempfile.TemporaryDirectory(prefix="collectstatic-") as state:
        env = production_env(Path(state), database_url=f"sqlite:///{state}/unused.sqlite3")
        return run(
            "collectstatic with production settings",
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            env,
        )


def main() -> int:
    py = sys.executable
    if sys.argv[1:] == ["--collectstatic-only"]:
        return 0 if collectstatic_production() else 1
    test_env = {"DJANGO_SETTINGS_MODULE": "portal.settings.test"}
    ok = True
    ok &= run("manage.py check", [py, "manage.py", "check", "--fail-level", "WARNING"], test_env)
    bindir = os.path.dirname(py)
    ok &= run("import contracts (lint-imports)", [os.path.join(bindir, "lint-imports")], test_env)
    ok &= run("missing migrations", [py, "manage.py", "makemigrations", "--check", "--dry-run"], test_env)
    ok &= collectstatic_production()
    pytest = [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not browser", *sys.argv[1:]]
    ok &= run("pytest on SQLite", pytest, {**test_env, "DATABASE_URL": "sqlite:///test.sqlite3"})

    clock = os.environ.get("PORTAL_TEST_CLOCK") or shifted_clock()
    ok &= run(
        f"pytest on SQLite with the clock at {clock}",
        pytest,
        {**test_env, "DATABASE_URL": "sqlite:///test.sqlite3", "PORTAL_TEST_CLOCK": clock},
    )

    pg_url = os.environ.get("TEST_DATABASE_URL")
    if not pg_url and postgres_reachable():
        pg_url = PG_DEFAULT
    if pg_url:
        ok &= run("pytest on PostgreSQL", pytest, {**test_env, "DATABASE_URL": pg_url})
    elif os.environ.get("CI"):
        print("!!! PostgreSQL is not reachable: CI requires the PostgreSQL run.", flush=True)
        ok = False
    else:
        print("\n(PostgreSQL not reachable: skipped the PostgreSQL run; CI will not skip it.)")
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if os.path.exists(chromium):
        browser = [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "browser", *sys.argv[1:]]
        ok &= run("browser tests (headless Chromium)", browser, {**test_env, "DATABASE_URL": "sqlite:///test.sqlite3"})
    elif os.environ.get("CI"):
        print(f"!!! {chromium} is missing: CI requires the browser tests.", flush=True)
        ok = False
    else:
        print(f"\n({chromium} not found: browser tests not run; install Debian's chromium and fonts-noto-cjk.)")
    print("\nALL CHECKS PASSED" if ok else "\nSOME CHECKS FAILED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
