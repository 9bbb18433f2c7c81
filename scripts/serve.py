"""`make serve`: the production stack on this machine — production settings, collectstatic, gunicorn,
a task worker and the scheduler, stopped together by Ctrl-C (scripts/supervise.py).

SERVE_DATABASE_URL (default: SQLite in .serve/), REDIS_URL (default: none, in-process cache), HOST
(default 127.0.0.1:8000), WEB_WORKERS (default 2). Plain HTTP on loopback; keys are kept in .serve/.
"""

import os
import subprocess
import sys

from scripts.prodenv import ROOT, production_env
from scripts.supervise import main as supervise

STATE = ROOT / ".serve"


def main() -> int:
    py = sys.executable
    host = os.environ.get("HOST", "127.0.0.1:8000")
    database = os.environ.get("SERVE_DATABASE_URL", f"sqlite:///{STATE / 'serve.sqlite3'}")
    env = production_env(
        STATE, database_url=database, redis_url=os.environ.get("REDIS_URL"), WAGTAILADMIN_BASE_URL=f"http://{host}"
    )
    os.environ.clear()
    os.environ.update(env)
    for step in (["migrate", "--noinput"], ["load_regions"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([py, "manage.py", *step], check=True, cwd=ROOT)
    # Demo accounts and pages: seed_demo refuses production settings, so the development settings run it
    # on the same database with the same keys.
    dev = {**env, "DJANGO_SETTINGS_MODULE": "portal.settings.dev"}
    subprocess.run([py, "manage.py", "seed_demo"], check=True, cwd=ROOT, env=dev)
    gunicorn = f"{py} -m gunicorn portal.wsgi -w {os.environ.get('WEB_WORKERS', '2')} -b {host} --access-logfile -"
    print(f"Serving http://{host}/ with production settings; Ctrl-C stops the web server, worker and scheduler.")
    return supervise([gunicorn, f"{py} manage.py run_worker --queue-name *", f"{py} manage.py run_scheduler"])


if __name__ == "__main__":
    sys.exit(main())
