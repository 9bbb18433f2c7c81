"""A small page benchmark: median and p95 per case, query count, and the ratio to a floor.

Cases are registered by bench/cases_*.py modules, each with `register(suite)`. Two kinds of floor:
- the minimal Django view (`__bench__/floor/`), the cost of the request/response cycle itself;
- a raw-SQL floor: one hand-written query fetching the same rows a list page shows, no ORM, no template.
A page's ratio says how far above its floor it is; it is compared with its own floor, not with others.
"""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection
from django.test import Client, override_settings


@dataclass
class Result:
    name: str
    median_ms: float
    p95_ms: float
    queries: int
    floor: str | None = None
    ratio: float | None = None
    per_second: float | None = None  # items per second, for cases that process `items` things per run


@dataclass
class Case:
    name: str
    run: Callable[[], object]
    floor: str | None = "view floor"
    repeat: int | None = None
    prepare: Callable[[], object] | None = None  # before each run, not timed
    items: int | None = None  # things one run processes (throughput cases)


@dataclass
class Suite:
    repeat: int = 30
    cases: list[Case] = field(default_factory=list)
    setups: list[Callable[[], None]] = field(default_factory=list)
    clients: dict[str, Client] = field(default_factory=dict)

    def setup(self, func: Callable[[], None]) -> None:
        """Data a case needs (generated at scale); runs once before any case."""
        self.setups.append(func)

    def client_for(self, phone: str | None) -> Client:
        """A client signed in as the user with this phone (None: anonymous). MFA is marked done."""
        key = phone or "anonymous"
        if key not in self.clients:
            client = Client()
            if phone:
                from allauth.mfa.models import Authenticator

                from portal.models import User

                user = User.objects.get(phone=phone)
                Authenticator.objects.get_or_create(user=user, type=Authenticator.Type.TOTP, defaults={"data": {}})
                client.force_login(user)
            self.clients[key] = client
        return self.clients[key]

    def page(self, name: str, url: str, *, user: str | None = None, floor: str | None = "view floor", repeat=None):
        def run():
            response = self.client_for(user).get(url)
            assert response.status_code == 200, f"{name}: {url} answered {response.status_code}"
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            return response

        self.cases.append(Case(name, run, floor, repeat))

    def public_page(self, name: str, url: str, *, floor: str | None = "view floor"):
        """A page anonymous visitors get from the page cache (portal.cache): two rows, never one that says
        less than it measures — `NAME (rendered)` with the cache off, `NAME (cached)` as served from it."""
        self.call(f"{name} (rendered)", anonymous_get(url, cached=False), floor=floor)
        self.call(f"{name} (cached)", anonymous_get(url, cached=True), floor=floor)

    def sql_floor(self, name: str, sql: str, params: list | tuple = ()):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()

        self.cases.append(Case(name, run, None))

    def call(self, name: str, func: Callable[[], object], *, floor: str | None = None, repeat=None):
        self.cases.append(Case(name, func, floor, repeat))

    def throughput(
        self, name: str, func: Callable[[], object], *, prepare: Callable[[], object], items: int, repeat=None
    ):
        """`prepare` (untimed) sets up `items` things, `func` processes them; reported in items per second."""
        self.cases.append(Case(name, func, None, repeat, prepare=prepare, items=items))

    def measure(self, case: Case) -> Result:
        prepare = case.prepare or (lambda: None)
        prepare()
        case.run()  # warm up caches and lazy imports
        times = []
        queries = []

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        # execute_wrapper, not CaptureQueriesContext: the test client's request_started signal resets
        # connection.queries in the middle of a capture.
        prepare()
        with connection.execute_wrapper(count):
            case.run()
        for _ in range(case.repeat or self.repeat):
            prepare()
            start = time.perf_counter()
            case.run()
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        median = statistics.median(times)
        per_second = case.items / (median / 1000) if case.items and median > 0 else None
        return Result(case.name, median, p95, len(queries), case.floor, per_second=per_second)

    def run_all(self) -> list[Result]:
        for setup in self.setups:
            setup()
        results = {c.name: self.measure(c) for c in self.cases}
        for result in results.values():
            if result.floor and result.floor in results and results[result.floor].median_ms > 0:
                result.ratio = result.median_ms / results[result.floor].median_ms
        return list(results.values())


def print_results(results: list[Result]) -> None:
    print(f"{'case':44} {'median ms':>10} {'p95 ms':>9} {'queries':>8}  ratio to floor")
    for r in results:
        ratio = f"{r.ratio:6.1f}× {r.floor}" if r.ratio is not None else ""
        if r.per_second is not None:
            ratio = f"{r.per_second:8.1f} per second ({1000 / r.per_second:.2f} ms each)"
        print(f"{r.name:44} {r.median_ms:10.2f} {r.p95_ms:9.2f} {r.queries:8d}  {ratio}")


def anonymous_get(url: str, *, cached: bool) -> Callable[[], object]:
    """A GET by an anonymous visitor of its own; `cached=False` renders the page every time (the cache
    off), `cached=True` is what a visitor gets once someone has seen that page (portal.cache)."""
    client = Client()

    def run():
        if cached:
            response = client.get(url)
        else:
            with override_settings(PUBLIC_PAGE_CACHE_SECONDS=0):
                response = client.get(url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        return response

    return run
