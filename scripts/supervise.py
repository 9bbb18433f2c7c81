"""Run several processes as one: `python -m scripts.supervise "CMD 1" "CMD 2" …`.

Behind `make run` (runserver + task worker + scheduler) and `make serve` (gunicorn + worker + scheduler).
Each command is split like a shell would (no shell is involved) and gets a name from its first words.
Ctrl-C (SIGINT) or SIGTERM stops every process; when one of them ends by itself, the others are stopped
too and its exit status is returned, so a crashing worker never leaves a web server running alone.
"""

import contextlib
import shlex
import signal
import subprocess
import sys
import time

GRACE_SECONDS = 10


def stop_all(processes: list[subprocess.Popen], sig: int = signal.SIGTERM) -> None:
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
    deadline = time.monotonic() + GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(commands: list[str]) -> int:
    if not commands:
        print(__doc__, file=sys.stderr)
        return 2
    processes = [subprocess.Popen(shlex.split(command)) for command in commands]
    names = {
        process.pid: " ".join(shlex.split(command)[:3]) for process, command in zip(processes, commands, strict=True)
    }
    stopping = {"signal": None}

    def on_signal(signum, frame):
        stopping["signal"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    status = 0
    while stopping["signal"] is None:
        ended = [process for process in processes if process.poll() is not None]
        if ended:
            status = ended[0].returncode
            print(f"supervise: {names[ended[0].pid]} ended ({status}); stopping the others", file=sys.stderr)
            break
        time.sleep(0.2)
    # Ctrl-C reached every process of the terminal's group already; SIGTERM makes sure (and covers `kill`).
    stop_all(processes)
    return status if stopping["signal"] is None else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
