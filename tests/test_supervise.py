"""scripts/supervise.py (behind `make run` and `make serve`): several processes stop together."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLEEPER = "import os,sys,time; open(sys.argv[1],'w').write(str(os.getpid())); time.sleep(60)"


def start(*commands: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "scripts.supervise", *commands], cwd=ROOT, stderr=subprocess.PIPE)


def wait_for_pids(*paths: Path) -> list[int]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not all(p.exists() and p.read_text() for p in paths):
        time.sleep(0.05)
    return [int(p.read_text()) for p in paths]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie awaiting its parent counts as ended
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def test_sigterm_stops_every_process(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    supervisor = start(f'{sys.executable} -c "{SLEEPER}" {a}', f'{sys.executable} -c "{SLEEPER}" {b}')
    pids = wait_for_pids(a, b)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=15) == 0
    assert not any(alive(pid) for pid in pids)


def test_one_process_ending_stops_the_others_with_its_status(tmp_path):
    a = tmp_path / "a"
    supervisor = start(
        f'{sys.executable} -c "{SLEEPER}" {a}', f'{sys.executable} -c "import sys,time; time.sleep(1); sys.exit(3)"'
    )
    (pid,) = wait_for_pids(a)
    assert supervisor.wait(timeout=20) == 3
    assert not alive(pid)
    assert b"ended (3)" in supervisor.stderr.read()
