"""`make bench`: migrate a benchmark database, generate data, time every registered case.

Environment: BENCH_DATABASE_URL (default: bench/out/bench.sqlite3), BENCH_REPEAT (default 30),
BENCH_ELDERS (rows for the ledger cases, default 100000), BENCH_ONLY (substring filter on case names),
BENCH_MODULES (comma-separated topics, e.g. "ledger,care": only bench/cases_<topic>.py and the base cases).
"""

import importlib
import json
import os
import pkgutil
import sys
from dataclasses import asdict
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def main() -> int:
    OUT.mkdir(exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from bench.harness import Suite, print_results

    print("Preparing the benchmark database…", flush=True)
    call_command("migrate", verbosity=0)
    call_command("load_regions", verbosity=0)
    suite = Suite(repeat=int(os.environ.get("BENCH_REPEAT", "30")))
    package = Path(__file__).resolve().parent
    topics = {t.strip() for t in os.environ.get("BENCH_MODULES", "").split(",") if t.strip()}
    for info in sorted(pkgutil.iter_modules([str(package)]), key=lambda m: (m.name != "cases_portal", m.name)):
        wanted = not topics or info.name == "cases_portal" or info.name.removeprefix("cases_") in topics
        if info.name.startswith("cases_") and wanted:
            importlib.import_module(f"bench.{info.name}").register(suite)
    only = os.environ.get("BENCH_ONLY")
    if only:
        suite.cases = [c for c in suite.cases if only in c.name or "floor" in c.name]
    results = suite.run_all()
    print()
    print_results(results)
    (OUT / "results.json").write_text(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=2))
    print(f"\nWritten to {OUT / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
