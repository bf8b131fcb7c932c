"""Worker processes: each named after its dyno and slot, kept running by a supervisor that stops them all
on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from rq.exceptions import StopRequested

from app.workers import runtime
from app.workers.runtime import worker_name
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[3]
SUFFIX = r"-[0-9a-f]{6}"


@pytest.mark.parametrize(
    ("environ", "dyno"),
    [
        ({"DYNO": "worker.2", "HONCHO_PROCESS_NAME": "worker.9"}, "worker.2"),
        ({"HONCHO_PROCESS_NAME": "worker.1"}, "worker.1"),
        ({"DYNO": "", "HONCHO_PROCESS_NAME": "worker.3"}, "worker.3"),
    ],
)
def test_a_worker_is_named_after_its_dyno_and_its_slot(environ, dyno):
    assert re.fullmatch(re.escape(f"{dyno}.3") + SUFFIX, worker_name(3, environ))


def test_without_a_dyno_name_the_worker_is_named_after_the_host(monkeypatch):
    monkeypatch.setattr(runtime.socket, "gethostname", lambda: "box-7")
    assert re.fullmatch(r"box-7\.0" + SUFFIX, worker_name(0, {}))


def test_a_restarted_worker_never_takes_the_name_of_its_killed_predecessor():
    environ = {"DYNO": "worker.1"}
    names = {worker_name(0, environ) for _ in range(20)}
    assert len(names) == 20
    assert worker_name(0, environ) != worker_name(1, environ)


CHILD = """
import os, signal, sys, time
out = sys.argv[1]
index = sys.argv[sys.argv.index("--index") + 1]
parent = os.getppid()
def stopped(signum, frame):
    with open(os.path.join(out, f"stopped-{os.getpid()}"), "w") as f:
        f.write(index)
    sys.exit(0)
signal.signal(signal.SIGTERM, stopped)
with open(os.path.join(out, f".started-{os.getpid()}"), "w") as f:
    f.write(" ".join(sys.argv[1:]))
os.replace(os.path.join(out, f".started-{os.getpid()}"), os.path.join(out, f"started-{os.getpid()}"))
while os.getppid() == parent:  # never outlive the supervisor, even if a test fails
    time.sleep(0.05)
"""

SUPERVISOR = """
import sys
from app.workers.runtime import supervise
sys.exit(supervise(int(sys.argv[1]), sys.argv[2:]))
"""


def started(out: Path) -> dict[int, list[str]]:
    """The children that started: pid -> the arguments they were given."""
    found = {}
    for path in out.glob("started-*"):
        found[int(path.name.split("-")[1])] = path.read_text().split(" ")
    return found


def slots(children: dict[int, list[str]]) -> dict[int, int]:
    """pid -> the slot the child was given with `--index`."""
    return {pid: int(args[args.index("--index") + 1]) for pid, args in children.items()}


def test_the_supervisor_keeps_count_workers_running_and_stops_them_all_on_sigterm(tmp_path):
    child = tmp_path / "child.py"
    child.write_text(textwrap.dedent(CHILD))
    out = tmp_path / "out"
    out.mkdir()
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, "3", str(child), str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        first = wait_until(lambda: len(started(out)) == 3 and started(out), 20, "three children")
        assert sorted(slots(first).values()) == [0, 1, 2]
        assert all(args[:2] == [str(out), "--index"] for args in first.values())  # its arguments, then its slot

        victim = next(pid for pid, slot in slots(first).items() if slot == 1)
        os.kill(victim, signal.SIGKILL)
        everyone = wait_until(lambda: len(started(out)) == 4 and started(out), 20, "a replacement")
        [replacement] = set(everyone) - set(first)
        assert slots(everyone)[replacement] == 1  # the dead one's slot, so its name in /rq and the log

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=15) == 0
        living = set(everyone) - {victim}
        assert {int(p.name.split("-")[1]) for p in out.glob("stopped-*")} == living  # each was told to stop
        assert sorted(slots(everyone)[pid] for pid in living) == [0, 1, 2]
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()


@pytest.mark.parametrize("heartbeat", [1, 2, 5, 30])
def test_a_live_worker_beats_within_its_alive_window_busy_or_idle(heartbeat):
    """WORKER_HEARTBEAT_SECONDS sets RQ's timings: a busy worker beats every heartbeat, an idle one between
    two waits on its queues; both come well before 5 silent heartbeats declare it dead."""
    settings = runtime.timings(heartbeat)
    alive = runtime.recovery.ALIVE_HEARTBEATS * heartbeat
    idle_wait = settings["worker_ttl"] - runtime.RQ_IDLE_MARGIN  # RQ's dequeue timeout
    assert 1 <= idle_wait < alive and settings["job_monitoring_interval"] < alive
    assert settings["maintenance_interval"] == 2 * heartbeat


def test_the_default_heartbeat_keeps_rqs_usual_timings():
    assert runtime.timings(5) == {"worker_ttl": 25, "job_monitoring_interval": 5, "maintenance_interval": 10}


@pytest.fixture
def signal_handlers():
    """RQ's worker installs its own SIGINT and SIGTERM handlers in this process: put pytest's back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_a_worker_told_to_stop_while_it_started_takes_no_job(app, monkeypatch, signal_handlers):
    """SIGTERM before RQ's handlers are in (while the worker registers and starts its scheduler) reaches
    only the flag: the worker sees it once they are, and stops before its first job instead of running on."""
    connection = app.extensions["redis"]
    queue = app.extensions["queues"]["default"]
    job = queue.enqueue("os.getcwd")
    monkeypatch.setattr(runtime.shutdown, "_requested", True)
    worker = runtime.ConveyorWorker([queue], connection=connection)
    assert worker.work(burst=True) is False
    assert worker.stopping
    assert queue.job_ids == [job.id] and job.get_status() == "queued"  # for the next worker


def test_a_worker_not_told_to_stop_takes_the_job(app, signal_handlers):
    queue = app.extensions["queues"]["default"]
    queue.enqueue("os.getcwd")
    worker = runtime.ConveyorWorker([queue], connection=app.extensions["redis"])
    assert worker.work(burst=True) is True
    assert queue.job_ids == []  # taken (and run, in a forked work horse)


def test_a_stop_during_the_recovery_pass_stops_the_worker(app, monkeypatch, signal_handlers):
    """RQ's SIGTERM handler raises StopRequested in whatever runs: in the recovery pass, it is not one
    of the pass's failures (logged and carried on from), and the worker stops before its next job."""
    queue = app.extensions["queues"]["default"]
    job = queue.enqueue("os.getcwd")

    def signalled(*args) -> None:
        raise StopRequested

    monkeypatch.setattr(runtime.recovery, "recover", signalled)
    worker = runtime.ConveyorWorker([queue], connection=app.extensions["redis"])
    assert worker.work(burst=True) is False
    assert queue.job_ids == [job.id]
