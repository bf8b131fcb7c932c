"""The service as users run it, for benchmarks: its own redis-server, gunicorn and worker.py processes.

Reuses tests/stack.py and tests/conftest.RedisServer; never the Redis on port 6379.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import redis
import requests
from rq import Worker

from bench.common import scratch
from tests.conftest import RedisServer, free_port
from tests.stack import Stack

# What production runs with (app/config.py defaults and gunicorn.conf.py), not the tests' fast settings.
PRODUCTION = {
    "X264_PRESET": "veryfast",
    "RENDITIONS": "360,720,1080",
    "WEB_CONCURRENCY": "2",
    "JOB_RETRIES": "0",  # a failure shows at once instead of after a retry's back-off
    "LOG_LEVEL": "WARNING",
}


class Running:
    """`with Running(workers=1) as run:` a migrated stack with a user, torn down on exit."""

    def __init__(self, workers: int = 1, web: bool = True, root: Path | None = None, **settings: str):
        self.root = root  # another tree's code (a baseline), or this one
        self.workers = workers
        self.web = web
        self.settings = {**PRODUCTION, **settings}
        self.folder = scratch() / f"stack-{time.monotonic_ns()}"
        self.redis: RedisServer | None = None
        self.stack: Stack | None = None
        self.session: requests.Session | None = None

    def __enter__(self) -> Running:
        self.folder.mkdir(parents=True)
        (self.folder / "tmp").mkdir()
        self.redis = RedisServer(self.folder)
        self.redis.start()
        # the job's temporary folder goes where the benchmark can watch it
        self.stack = Stack(
            self.folder, self.redis.url, free_port(), **({"root": self.root} if self.root else {}),
            TMPDIR=str(self.folder / "tmp"), **self.settings,
        )
        self.stack.migrate()
        self.session = self.stack.create_user("bench")
        if self.web:
            self.stack.start_web()
        self.scale(self.workers)
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.stack:
                self.stack.stop()
        finally:
            if self.redis:
                self.redis.stop()
            shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def url(self) -> str:
        return self.stack.url

    @property
    def token(self) -> str:
        return self.session.token

    def client(self) -> redis.Redis:
        """A client without a read timeout: benchmarks block on results for longer than redis-py's default."""
        return redis.Redis.from_url(self.redis.url, socket_timeout=None)

    def scale(self, count: int) -> None:
        """Run exactly `count` worker processes, and wait until each is registered and idle."""
        while len(self.live_workers()) > count:
            self.stack.stop_worker(self.live_workers()[-1])
        while len(self.live_workers()) < count:
            self.stack.start_worker()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(Worker.all(connection=self.client())) == count:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{count} workers did not register in 60 s")

    def live_workers(self) -> list:
        return [p for p in self.stack.workers if p.poll() is None]

    def web_pids(self) -> list[int]:
        """gunicorn's worker processes (the master only supervises)."""
        return children(self.stack.web.pid) if self.stack.web else []

    def upload(self, path: Path, **fields: str) -> dict:
        response = self.stack.upload(self.session, path, **fields)
        response.raise_for_status()
        return response.json()

    def video(self, video_id: str) -> dict:
        return self.stack.video(self.session, video_id)

    def times(self, video_id: str) -> dict[str, float | None]:
        """created/started/finished from the database, as epoch seconds."""
        with closing(sqlite3.connect(self.stack.instance / "conveyor.db")) as db:
            row = db.execute(
                "SELECT created_at, started_at, finished_at FROM videos WHERE id = ?", (video_id,)
            ).fetchone()
        return dict(zip(("created", "started", "finished"), (_epoch(v) for v in row), strict=True))

    def states(self, video_ids: list[str]) -> dict[str, str]:
        wanted = set(video_ids)
        with closing(sqlite3.connect(self.stack.instance / "conveyor.db")) as db:
            return {i: s for i, s in db.execute("SELECT id, state FROM videos") if i in wanted}

    def set_state(self, video_id: str, state: str) -> None:
        """Put a video in a state directly, e.g. `processing` without spending CPU on a conversion."""
        with closing(sqlite3.connect(self.stack.instance / "conveyor.db")) as db, db:
            db.execute("UPDATE videos SET state = ? WHERE id = ?", (state, video_id))


def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()


# -- processes ----------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def descendants(pid: int) -> list[int]:
    found, todo = [], children(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children(child))
    return found


def status_kib(pid: int, field_name: str) -> int:
    """A `VmRSS`/`VmHWM`-style line of /proc/<pid>/status, in KiB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


@dataclass
class Span:
    pid: int
    parent: int
    name: str
    depth: int
    first: float
    last: float
    cpu: float = 0.0  # user + system seconds, as last seen


class Sampler:
    """Calls `sample()` every `interval` seconds, in a thread, while the `with` block runs."""

    interval: float = 0.01

    def sample(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)


@dataclass
class ProcessTimeline(Sampler):
    """Samples a process tree every few milliseconds: when each descendant (work horse, ffprobe,
    ffmpeg) was first and last seen, and its CPU time. A profile of the job from outside."""

    roots: list[int]
    interval: float = 0.01
    spans: dict[int, Span] = field(default_factory=dict)

    def sample(self) -> None:
        now = time.time()
        for root in self.roots:
            todo = [(c, root, 1) for c in children(root)]
            while todo:
                pid, parent, depth = todo.pop()
                span = self.spans.get(pid)
                if span is None:
                    span = self.spans[pid] = Span(pid, parent, comm(pid), depth, now, now)
                else:
                    span.last = now
                span.cpu = cpu_seconds(pid) or span.cpu
                if depth > 1:  # a fork is named after its parent until it execs
                    span.name = comm(pid) or span.name
                todo.extend((c, pid, depth + 1) for c in children(pid))

    def named(self, name: str) -> list[Span]:
        return sorted((s for s in self.spans.values() if s.name == name), key=lambda s: s.first)

    def parent_of(self, span: Span) -> Span | None:
        return self.spans.get(span.parent)


class MemoryWatch(Sampler):
    """Peak VmRSS of some processes, sampled every few milliseconds while the block runs."""

    def __init__(self, pids: list[int], interval: float = 0.01):
        self.pids = pids
        self.interval = interval
        self.peak_kib: dict[int, int] = {pid: 0 for pid in pids}

    def sample(self) -> None:
        for pid in self.pids:
            self.peak_kib[pid] = max(self.peak_kib[pid], status_kib(pid, "VmRSS"))
