"""`make faults`: a fault drill on the production stack, on this machine only (loopback, own servers).

Starts its own PostgreSQL (initdb into a temporary folder, port FAULTS_PG_PORT, default 55432) and its own
Redis (FAULTS_REDIS_PORT, default 56379), migrates, loads regions and the demo, runs gunicorn and a task
worker with production settings against them, then 20 clients (FAULTS_CLIENTS) for FAULTS_SECONDS
(default 60) mixing public page reads with writes: public concern reports (POST /services/report/) and, signed
in as the demo village liaison, visit records (POST /services/elders/<id>/visit/). During the
run each scenario of SCENARIOS is applied at its moment: Redis killed and started again, PostgreSQL
restarted. Per scenario it prints errors (reads, writes), seconds to recover, writes acknowledged vs
stored, and background jobs finished; it exits non-zero when a Redis outage cost any error on public
pages or when an acknowledged write is not stored.

SCENARIOS is the extension point: a scenario is a name, when it starts (fraction of the run), and a
function `inject(stack) -> None` that breaks something and repairs it (blocking until repaired). The
worker is also killed holding a matching run and holding an import (the job left as a dead worker leaves
it); after the periodic requeue each must finish exactly once.
"""

import contextlib
import datetime
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from scripts.prodenv import ROOT, production_env

PG_PORT = int(os.environ.get("FAULTS_PG_PORT", "55432"))
REDIS_PORT = int(os.environ.get("FAULTS_REDIS_PORT", "56379"))
WEB_PORT = int(os.environ.get("FAULTS_WEB_PORT", "58000"))
SECONDS = float(os.environ.get("FAULTS_SECONDS", "60"))
CLIENTS = int(os.environ.get("FAULTS_CLIENTS", "20"))
BASE = f"http://127.0.0.1:{WEB_PORT}"
VILLAGE = "640422100201"  # 大营村委会: the demo liaison's village (a report texts her)
READ_PATHS = ["/", "/policy/", "/care-services/", "/sitemap.xml", "/robots.txt"]
WRITE_SHARE = 5  # one request in five is a write; writes alternate between a report and a visit record
REQUEST_TIMEOUT = 10
LIAISON = ("13900000001", "Guanai-2026")  # the demo's village liaison of VILLAGE (README)
BEIJING = ZoneInfo("Asia/Shanghai")
ELDER: dict = {}  # the elder the visits are recorded for, found after the demo is loaded


def pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        sys.exit(f"faults: {name} not found under /usr/lib/postgresql/*/bin")
    return str(found[-1])


@dataclass
class Stack:
    tmp: Path
    env: dict
    processes: dict = field(default_factory=dict)

    # --- PostgreSQL -------------------------------------------------------------------------------
    @property
    def pgdir(self) -> Path:
        return self.tmp / "pg"

    @property
    def pgdata(self) -> Path:
        return self.pgdir / "data"

    @staticmethod
    def as_postgres(command: list[str]) -> list[str]:
        """PostgreSQL refuses to run as root: as root, run its programs as the "postgres" account."""
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            self.as_postgres([pg_bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-l", str(self.pgdir / "pg.log"), *args]),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def postgres_start(self) -> None:
        if not self.pgdata.exists():
            self.pgdir.mkdir(parents=True)
            if os.geteuid() == 0:
                self.tmp.chmod(0o755)
                shutil.chown(self.pgdir, "postgres", "postgres")
            subprocess.run(
                self.as_postgres(
                    [pg_bin("initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        options = f"-p {PG_PORT} -c listen_addresses=127.0.0.1 -k {self.pgdir} -c max_connections=100 -c fsync=off"
        self.pg_ctl("start", "-o", options)

    def postgres_restart(self) -> None:
        self.pg_ctl("restart", "-m", "fast")

    # --- Redis ------------------------------------------------------------------------------------
    def redis_start(self) -> None:
        self.processes["redis"] = subprocess.Popen(
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--port",
                str(REDIS_PORT),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(REDIS_PORT)

    def redis_kill(self) -> None:
        process = self.processes.pop("redis")
        process.kill()
        process.wait()

    # --- the application --------------------------------------------------------------------------
    def manage(self, *args: str, settings: str | None = None) -> None:
        env = {**self.env, "DJANGO_SETTINGS_MODULE": settings} if settings else self.env
        subprocess.run([sys.executable, "manage.py", *args], check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)

    @property
    def log(self):
        if not hasattr(self, "_log"):
            self._log = open(self.tmp / "app.log", "a")  # noqa: SIM115 — kept open for the processes' lifetime
        return self._log

    def worker_start(self) -> None:
        self.processes["worker"] = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--queue-name", "*", "--interval", "0.2"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=self.log,
        )

    def worker_kill(self) -> None:
        """SIGKILL: the worker dies mid-task, as on a machine crash (its task stays "running")."""
        process = self.processes.pop("worker")
        process.kill()
        process.wait()

    def app_start(self) -> None:
        log = self.log
        self.processes["web"] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portal.wsgi",
                "-w",
                "3",
                "--threads",
                "4",
                "-b",
                f"127.0.0.1:{WEB_PORT}",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        self.worker_start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, urllib.error.URLError):
                if urllib.request.urlopen(f"{BASE}/healthz", timeout=2).status == 200:  # noqa: S310 — loopback
                    return
            time.sleep(0.5)
        sys.exit(f"faults: the web server did not answer; see {self.tmp / 'app.log'}")

    def stop(self) -> None:
        for name in ("web", "worker", "redis"):
            process = self.processes.pop(name, None)
            if process and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("stop", "-m", "immediate")

    def sql(self, query: str, params: tuple = ()) -> list:
        import psycopg

        with psycopg.connect(self.env["DATABASE_URL"], connect_timeout=5) as connection:
            return connection.execute(query, params).fetchall()


def wait_for_port(port: int, seconds: float = 15) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    sys.exit(f"faults: nothing listens on port {port}")


# --- faults ------------------------------------------------------------------------------------------


def redis_outage(stack: Stack) -> None:
    stack.redis_kill()
    time.sleep(max(SECONDS * 0.1, 3))
    stack.redis_start()


def postgres_restart(stack: Stack) -> None:
    stack.postgres_restart()


# A job whose worker is SIGKILLed while it holds the job: the worker is killed, the job is queued and left as
# a dead worker leaves it (its task RUNNING since long ago, the run or import claimed), a worker is started,
# the periodic requeue runs, and the job must finish exactly once.
PAIRING_JOB = """
import datetime
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from portal.models import Region
from services.pairing.models import MatchRun
from services.pairing.runs import match_start
run = match_start(region=Region.objects.get(code="640422100000"), background=True)
old = timezone.now() - datetime.timedelta(minutes=30)
MatchRun.objects.filter(pk=run.pk).update(status="running", created_at=old)
DBTaskResult.objects.filter(task_path="services.pairing.runs.run_match", status="READY").update(
    status="RUNNING", started_at=old
)
print(run.pk)
"""
IMPORT_JOB = """
import datetime
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from portal.identity import check_digit
from portal.models import User
from services.ledger import imports
liaison = User.objects.get(phone="13900000001")
numbers = [f"64042219460101{8}{n}2" for n in range(1, 6)]
lines = ["姓名,性别,身份证号,出生日期,村"] + [
    f"演练老人{n},女,{x + check_digit(x)},1946-01-01,大营村" for n, x in enumerate(numbers, start=1)
]
job = imports.import_start(actor=liaison, content="\\n".join(lines).encode(), filename="drill.csv")
job = imports.import_validate(job=job)
assert job.status == "ready", job.errors
assert imports.import_claim(job)
imports.run_import.enqueue(job.pk, "apply")
old = timezone.now() - datetime.timedelta(minutes=30)
DBTaskResult.objects.filter(task_path="services.ledger.imports.run_import", status="READY").update(
    status="RUNNING", started_at=old
)
print(job.pk)
"""
JOB_CHECKS: list[tuple[str, bool, str]] = []


def _shell(stack: Stack, code: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        check=True,
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip().splitlines()[-1]


def _job_after_worker_death(stack: Stack, name: str, setup: str, done_sql: str, check_sql: str, expected) -> None:
    stack.worker_kill()
    pk = int(_shell(stack, setup))
    stack.worker_start()
    _shell(stack, "from portal.tasks import requeue_stale_tasks; print(requeue_stale_tasks.call())")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not stack.sql(done_sql, (pk,)):
        time.sleep(0.5)
    got = stack.sql(check_sql, (pk,))[0]
    JOB_CHECKS.append((name, tuple(got) == expected(got), f"{check_sql % (pk,)} → {tuple(got)}"))


def worker_killed_mid_pairing_run(stack: Stack) -> None:
    _job_after_worker_death(
        stack,
        "matching run",
        PAIRING_JOB,
        "SELECT 1 FROM services_matchrun WHERE id = %s AND status = 'done'",
        "SELECT count(*), count(DISTINCT (elder_id, giver_user_id, giver_organisation_id)), "
        "(SELECT status FROM services_matchrun WHERE id = %s) FROM services_pairing WHERE match_run_id = "
        "(SELECT max(id) FROM services_matchrun)",
        lambda got: (got[1], got[1], "done") if got[1] > 0 else ("at least one proposal",),
    )


def worker_killed_mid_import(stack: Stack) -> None:
    _job_after_worker_death(
        stack,
        "spreadsheet import",
        IMPORT_JOB,
        "SELECT 1 FROM services_importjob WHERE id = %s AND status = 'done'",
        "SELECT (SELECT status FROM services_importjob WHERE id = %s), count(*) FROM services_elder "
        "WHERE name LIKE '演练老人%%'",
        lambda got: ("done", 5),
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    at: float  # fraction of the run
    inject: object  # Callable[[Stack], None]
    public_reads_must_not_fail: bool = False


SCENARIOS: list[Scenario] = [
    Scenario("redis killed and restarted", 0.2, redis_outage, public_reads_must_not_fail=True),
    Scenario("postgresql restarted", 0.5, postgres_restart),
    Scenario("worker killed mid pairing run", 0.7, worker_killed_mid_pairing_run),
    Scenario("worker killed mid import", 0.85, worker_killed_mid_import),
]


# --- clients -----------------------------------------------------------------------------------------


@dataclass
class Event:
    at: float  # when the answer (or the failure) came: a request is counted in the fault it ended in
    kind: str  # read or write
    ok: bool
    detail: str = ""
    marker: str = ""  # for writes: the text that identifies the stored row


def client_loop(number: int, deadline: float, events: list) -> None:
    opener = urllib.request.build_opener(NoRedirect())
    browser = Browser(opener, number)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        if n % WRITE_SHARE == 0:
            marker = f"faults-{os.getpid()}-{number}-{n}"
            if n % (2 * WRITE_SHARE) == 0:
                ok, detail = write_visit(browser, number, n, marker)
            else:
                ok, detail = write(opener, number, n, marker)
            events.append(Event(time.monotonic(), "write", ok, detail, marker))
        else:
            path = READ_PATHS[n % len(READ_PATHS)]
            try:
                with opener.open(BASE + path, timeout=REQUEST_TIMEOUT) as response:
                    response.read()
                    events.append(Event(time.monotonic(), "read", response.status == 200, str(response.status)))
            except urllib.error.HTTPError as exc:
                events.append(Event(time.monotonic(), "read", False, f"{path} {exc.code}"))
            except Exception as exc:
                events.append(Event(time.monotonic(), "read", False, f"{path} {type(exc).__name__}: {exc}"))
        time.sleep(0.02)


class Browser:
    """A signed-in user's cookies, carried by hand: production cookies are Secure, which a cookie jar keeps
    off plain HTTP. Signs in once and again whenever the site sends it to the sign-in page."""

    def __init__(self, opener, number: int):
        self.opener, self.number, self.cookies, self.signed_in = opener, number, {}, False

    def _remember(self, headers) -> None:
        for cookie in headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        """(status, Location, page); redirects are answers, not followed."""
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Referer": BASE + path,
            "X-Forwarded-For": f"10.200.{self.number}.1",
        }
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(BASE + path, data=body, headers=headers)  # noqa: S310 — loopback
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                self._remember(response.headers)
                return response.status, "", response.read().decode()
        except urllib.error.HTTPError as exc:
            self._remember(exc.headers)
            return exc.code, exc.headers.get("Location", ""), ""

    def form(self, path: str, fields: dict) -> tuple[int, str]:
        status, location, page = self.request(path)
        if status != 200:
            return status, location
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, location, _page = self.request(path, {"csrfmiddlewaretoken": token, **fields})
        return status, location

    def sign_in(self) -> bool:
        self.cookies.clear()
        status, location = self.form("/accounts/login/", {"login": LIAISON[0], "password": LIAISON[1]})
        self.signed_in = status == 302 and "/accounts/login" not in location
        return self.signed_in


def write_visit(browser: Browser, number: int, n: int, marker: str) -> tuple[bool, str]:
    """A visit record by the signed-in liaison; acknowledged = the redirect to the elder's page."""
    try:
        if not browser.signed_in and not browser.sign_in():
            return False, "sign-in refused"
        path = f"/services/elders/{ELDER['id']}/visit/"
        fields = {
            "method": "phone",
            "contact_made": "1",
            "visited_at": datetime.datetime.now(BEIJING).strftime("%Y-%m-%dT%H:%M"),
            "risk_level": "none",
            "family_duty": "unknown",
            "notes": f"故障演练 {marker}",
        }
        status, location = browser.form(path, fields)
        if status == 302 and "/accounts/login" in location:
            browser.signed_in = False
            return False, "sent to sign in again"
        if status == 302 and f"/elders/{ELDER['id']}" in location:
            return True, "302"
        return False, f"visit {status}"
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def write(opener, number: int, n: int, marker: str) -> tuple[bool, str]:
    """A public concern report; acknowledged = the redirect to the thank-you page. The CSRF cookie is
    Secure in production, which a cookie jar keeps off plain HTTP: it is carried by hand."""
    try:
        with opener.open(f"{BASE}/services/report/", timeout=REQUEST_TIMEOUT) as response:
            page = response.read().decode()
            cookie = next(
                (
                    c.split(";", 1)[0]
                    for c in response.headers.get_all("Set-Cookie") or []
                    if c.startswith("csrftoken=")
                ),
                "",
            )
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token,
                "village": VILLAGE,
                "kind": "other",
                "description": f"故障演练 {marker}",
                "reporter_phone": f"136{number:04d}{n % 10000:04d}",
                "relation": "public",
                "website": "",
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310 — loopback
            f"{BASE}/services/report/",
            data=data,
            headers={
                "X-Forwarded-For": f"10.{number}.{n // 250 % 250}.{n % 250 + 1}",
                "Referer": f"{BASE}/services/report/",
                "Cookie": cookie,
            },
        )
        try:
            opener.open(request, timeout=REQUEST_TIMEOUT)
        except urllib.error.HTTPError as exc:
            if exc.code == 302 and "/report/thanks/" in exc.headers.get("Location", ""):
                return True, "302"
            return False, f"POST {exc.code}"
        return False, "POST answered without the redirect"
    except urllib.error.HTTPError as exc:
        return False, f"GET {exc.code}"
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


# --- the report ------------------------------------------------------------------------------------


def report(stack: Stack, events: list, windows: list, start: float) -> bool:
    ok = True
    markers = {
        row[0].split(" ", 1)[1]
        for row in stack.sql(
            "SELECT description FROM services_alert WHERE description LIKE '故障演练 faults-%%' "
            "UNION ALL SELECT notes FROM services_visit WHERE notes LIKE '故障演练 faults-%%'"
        )
    }
    visits = len(stack.sql("SELECT id FROM services_visit WHERE notes LIKE '故障演练 faults-%%'"))
    jobs = stack.sql("SELECT finished_at, status FROM django_tasks_database_dbtaskresult")
    wall0 = time.time() - (time.monotonic() - start)
    print(f"\n{len(events)} requests by {CLIENTS} clients in {SECONDS:.0f} s")
    for scenario, began, repaired, until in windows:
        inside = [e for e in events if began <= e.at < until]
        errors = [e for e in inside if not e.ok]
        read_errors = [e for e in errors if e.kind == "read"]
        writes = [e for e in inside if e.kind == "write"]
        acknowledged = [e for e in writes if e.ok]
        stored = [e for e in acknowledged if e.marker in markers]
        last_error = max((e.at for e in errors), default=None)
        recover = 0.0 if last_error is None else max(last_error - began, 0.0)
        finished = sum(
            1
            for finished_at, status in jobs
            if finished_at and wall0 + (began - start) <= finished_at.timestamp() < wall0 + (until - start)
        )
        print(f"\n== {scenario.name} (at {began - start:.1f} s, repaired after {repaired - began:.1f} s)")
        print(
            f"   errors: {len(errors)} ({len(read_errors)} on public pages, {len(errors) - len(read_errors)} on writes)"
        )
        for detail in sorted({e.detail for e in errors})[:5]:
            print(f"     e.g. {detail}")
        print(f"   seconds to recover: {recover:.1f}")
        print(f"   writes acknowledged {len(acknowledged)}, stored {len(stored)}")
        print(f"   jobs finished: {finished}")
        if scenario.public_reads_must_not_fail and read_errors:
            print("   !!! a Redis outage must cost no error on public pages")
            ok = False
    acknowledged = [e for e in events if e.kind == "write" and e.ok]
    stored = [e for e in acknowledged if e.marker in markers]
    waiting = sum(1 for _finished, status in jobs if status in ("READY", "RUNNING"))
    print(
        f"\nwhole run: writes acknowledged {len(acknowledged)}, stored {len(stored)}; jobs finished "
        f"{sum(1 for finished_at, _s in jobs if finished_at)}, still waiting {waiting}"
    )
    if len(acknowledged) != len(stored):
        print("!!! acknowledged writes are missing from the database")
        ok = False
    if not acknowledged:
        print("!!! no write was acknowledged: the drill did not exercise writes")
        ok = False
    print(f"signed-in visit records stored: {visits}")
    if not visits:
        print("!!! no signed-in write was stored: the drill did not exercise them")
        ok = False
    for name, finished_once, detail in JOB_CHECKS:
        print(f"{name} after its worker was killed: {'finished once' if finished_once else 'NOT finished once'}")
        print(f"   {detail}")
        ok &= finished_once
    if len(JOB_CHECKS) < 2:
        print("!!! the worker-kill scenarios did not run")
        ok = False
    return ok


def main() -> int:
    if not shutil.which("redis-server"):
        sys.exit("faults: redis-server is not installed (apt-get install redis-server)")
    tmp = Path(tempfile.mkdtemp(prefix="faults-"))
    env = production_env(
        tmp / "state",
        database_url=f"postgres://postgres@127.0.0.1:{PG_PORT}/faults",
        redis_url=f"redis://127.0.0.1:{REDIS_PORT}/0",
        TRUSTED_PROXY_COUNT="1",
        LOG_LEVEL="WARNING",
        WAGTAILADMIN_BASE_URL=BASE,
    )
    stack = Stack(tmp, env)
    try:
        print(f"faults: PostgreSQL on {PG_PORT}, Redis on {REDIS_PORT}, web on {WEB_PORT}; files in {tmp}")
        stack.postgres_start()
        subprocess.run(
            [pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "faults"], check=True
        )
        stack.redis_start()
        for step in (
            ["migrate", "--noinput", "-v0"],
            ["load_regions"],
            ["collectstatic", "--noinput", "-v0"],
        ):
            stack.manage(*step)
        # The demo content (public pages, the liaison a report texts); seed_demo refuses production settings,
        # so it runs with the development settings on the same database and keys.
        stack.manage("seed_demo", settings="portal.settings.dev")
        ELDER["id"] = stack.sql(
            "SELECT id FROM services_elder WHERE village_id = %s AND status = 'active' ORDER BY id LIMIT 1", (VILLAGE,)
        )[0][0]
        stack.app_start()
        events: list[Event] = []
        start = time.monotonic()
        deadline = start + SECONDS
        windows = []
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            futures = [pool.submit(client_loop, number, deadline, events) for number in range(CLIENTS)]
            for index, scenario in enumerate(SCENARIOS):
                time.sleep(max(start + scenario.at * SECONDS - time.monotonic(), 0))
                began = time.monotonic()
                scenario.inject(stack)
                repaired = time.monotonic()
                following = SCENARIOS[index + 1].at if index + 1 < len(SCENARIOS) else 1.0
                windows.append((scenario, began, repaired, start + following * SECONDS))
            for future in futures:
                future.result()
        time.sleep(3)  # let the worker finish what the last requests queued
        ok = report(stack, events, windows, start)
        print("\nFAULT DRILL PASSED" if ok else "\nFAULT DRILL FAILED")
        return 0 if ok else 1
    finally:
        stack.stop()
        if os.environ.get("FAULTS_KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
