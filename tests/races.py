"""Two (or more) people press the same button at the same moment: the shared harness of the race tests.

On PostgreSQL every participant runs in its own thread with its own connection, released together by a
barrier, so the row locks really are contended. SQLite's in-memory test database refuses a second writer
outright ("table is locked"), so there they come one after the other, each holding the objects as they
saw them before anyone pressed — the outcome a lock must produce is the same either way.
"""

import threading
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.db import connection


def race(action: Callable[..., str], participants: Iterable, *, timeout: float = 20) -> list[str]:
    """Run `action(participant)` for every participant at once; return each outcome, sorted.

    An outcome is what `action` returns, or the code of the ValidationError it raises. A participant may be
    a tuple, spread into the call's arguments.
    """
    calls = [p if isinstance(p, tuple) else (p,) for p in participants]
    concurrent = connection.vendor == "postgresql"
    barrier = threading.Barrier(len(calls) if concurrent else 1, timeout=timeout)
    outcomes: list[str] = []

    def press(args):
        try:
            barrier.wait()
            outcomes.append(action(*args))
        except ValidationError as exc:
            outcomes.append(exc.error_list[0].code)
        finally:
            if concurrent:
                connection.close()

    if concurrent:
        threads = [threading.Thread(target=press, args=(args,)) for args in calls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        for args in calls:
            press(args)
    return sorted(outcomes)
