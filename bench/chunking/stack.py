"""The clip through the service on single-core "dynos": every worker.py pinned to a core of its own.

A worker is `taskset -c <core> python worker.py`, started with the stack's environment (tests/stack.py's
`Stack.env`) and kept in `Stack.workers`, so the stack stops it as it stops its own. The work horses
it forks and their ffmpeg inherit the core; nothing in media/ or app/ sets ffmpeg's threads, and
ffmpeg and x264 size their thread pools from the CPUs they may run on (sched_getaffinity): on one
core, 8 threads for the 720p ladder where an unpinned run has 25.

One conversion: the upload (its end is when the POST returns), then the database read every 50 ms
for `playable` (the column the API's field is made of) and the final state; `ready` is the commit
that makes the API say so (videos.finished_at). Nothing polls the API meanwhile, so the stack's
Redis sees the workers alone. CPU: user + system of each worker's process tree, from /proc: the
worker and its live descendants (the RQ scheduler), with the children they have reaped (cutime and
cstime: every work horse and, through it, every ffmpeg and ffprobe), before the upload and after
the last job; the web's CPU is not in it. What the rest of the machine used meanwhile (the web, Redis,
this benchmark, and whatever else runs on it) is taken from /proc/stat, in cores on average.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from rq.job import Job

from app.domain.plan import WHOLE, job_id
from bench.harness import Running, descendants
from bench.pipeline import redis_calls
from tests.stack import FINAL

OURS = {"info"}  # the benchmark's own commands (INFO commandstats), left out of every count


def start_pinned(run: Running, core: int, **env: str) -> subprocess.Popen:
    """`python worker.py` on one core, as Stack.start_worker starts it otherwise."""
    stack = run.stack
    log = open(stack.workdir / f"worker-{len(stack.workers)}.log", "ab")  # noqa: SIM115  (closed with the process)
    process = subprocess.Popen(
        ["taskset", "-c", str(core), sys.executable, "worker.py"],
        cwd=stack.root, env={**stack.env, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    log.close()
    stack.workers.append(process)
    return process


def use_workers(run: Running, count: int, **env: str) -> list[int]:
    """Exactly `count` pinned workers (cores 0, 1, ...), with `env` over the stack's; registered and idle."""
    run.scale(0)
    for core in range(count):
        start_pinned(run, core % (os.cpu_count() or 1), **env)
    run.scale(count)  # they are running: this waits until each has registered
    return [p.pid for p in run.live_workers()]


def _stat(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def tree_cpu(pid: int) -> float:
    """User + system seconds of a process, its live descendants and every child they have reaped."""
    ticks = 0
    for member in [pid, *descendants(pid)]:
        fields = _stat(member)
        if len(fields) > 14:
            ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def calls(run: Running) -> dict[str, int]:
    return {k: v for k, v in redis_calls(run).items() if k not in OURS}


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (every core: user, nice, system, irq, softirq)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    return sum(int(fields[i]) for i in (0, 1, 2, 5, 6)) / os.sysconf("SC_CLK_TCK")


def commands(run: Running) -> int:
    return sum(calls(run).values())


def idle_rate(run: Running, seconds: float) -> float:
    """Redis commands a second while the workers wait for work: RQ's scheduler (a pass a second, busy
    or not), the dequeue, heartbeats, the maintenance pass."""
    before = commands(run)
    time.sleep(seconds)
    return (commands(run) - before) / seconds


def _epoch(moment: datetime | None) -> float | None:
    return moment.replace(tzinfo=UTC).timestamp() if moment else None


def _video_row(run: Running, video_id: str) -> tuple[str, bool] | None:
    try:
        with closing(sqlite3.connect(run.stack.instance / "conveyor.db", timeout=1)) as db:
            row = db.execute("SELECT state, playable FROM videos WHERE id = ?", (video_id,)).fetchone()
    except sqlite3.Error:
        return None
    return (row[0], bool(row[1])) if row else None


def items(run: Running, video_id: str) -> list[tuple[str, int, float | None, float | None]]:
    """The video's work items: kind, number, start and duration (a chunk's span)."""
    with closing(sqlite3.connect(run.stack.instance / "conveyor.db")) as db:
        return list(db.execute(
            "SELECT kind, number, start, duration FROM work_items WHERE video_id = ? ORDER BY kind, number",
            (video_id,),
        ))


def renditions(run: Running, video_id: str) -> dict[int, Path]:
    """The MP4 downloads, by height, as stored."""
    with closing(sqlite3.connect(run.stack.instance / "conveyor.db")) as db:
        rows = db.execute("SELECT height, key FROM renditions WHERE video_id = ?", (video_id,))
        return {height: run.stack.storage / key for height, key in rows}


def job_spans(run: Running, video_id: str) -> dict[str, list[float]]:
    """Wall seconds of each of the video's RQ jobs (started_at to ended_at), by kind: whole (the
    job that probed the upload, and planned it when long), chunk, audio, finish."""
    spans: dict[str, list[float]] = {}
    wanted = [(WHOLE, 0)] + [(kind, number) for kind, number, _, _ in items(run, video_id) if kind != WHOLE]
    client = run.client()
    for kind, number in wanted:
        job = Job.fetch(job_id(video_id, kind, number), connection=client)
        if job.started_at and job.ended_at:
            spans.setdefault(kind, []).append(_epoch(job.ended_at) - _epoch(job.started_at))
    return spans


def last_job_end(run: Running, video_id: str) -> float:
    client = run.client()
    ends = [_epoch(Job.fetch(job_id(video_id, kind, number), connection=client).ended_at) or 0.0
            for kind, number in [(WHOLE, 0)] + [(k, n) for k, n, _, _ in items(run, video_id) if k != WHOLE]]
    return max(ends)


def convert(run: Running, source: Path, idle: float, settle: float = 1.5) -> dict:
    """One upload through the running workers: times, CPU, Redis commands (less `idle` a second)."""
    workers = [p.pid for p in run.live_workers()]
    cpu_before = sum(tree_cpu(pid) for pid in workers)
    calls_before = calls(run)
    busy_before = busy_seconds()
    started = time.time()
    video_id = run.upload(source, title="chunking bench")["id"]
    accepted = time.time()
    playable = None
    deadline = time.monotonic() + 1800
    while True:
        row = _video_row(run, video_id)
        now = time.time()
        if row and row[1] and playable is None:
            playable = now
        if row and row[0] in FINAL:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"video {video_id} did not finish in 1800 s")
        time.sleep(0.05)
    if row[0] != "ready":
        raise RuntimeError(f"the video ended {row[0]}: {run.video(video_id).get('error')}")
    time.sleep(settle)  # the last job's tail after the `ready` commit (clean-up, RQ's result)
    ended = time.time()
    cpu = sum(tree_cpu(pid) for pid in workers) - cpu_before
    others = (busy_seconds() - busy_before - cpu) / (ended - started)
    by_name = {k: v - calls_before.get(k, 0) for k, v in calls(run).items() if v > calls_before.get(k, 0)}
    raw = sum(by_name.values())
    if last_job_end(run, video_id) > ended:
        raise RuntimeError("a job was still running when its CPU and Redis commands were counted")
    body = run.video(video_id)
    chunks = [i for i in items(run, video_id) if i[0] == "chunk"]
    return {
        "video": video_id,
        "upload": accepted - started,
        "ready": run.times(video_id)["finished"] - accepted,
        "playable": playable - accepted if playable else None,
        "api_playable": body.get("playable"),
        "cpu": cpu,
        "others": others,
        "commands_raw": raw,
        "commands": raw - idle * (ended - started),
        "top": sorted(by_name.items(), key=lambda kv: -kv[1])[:6],
        "chunks": len(chunks),
        "chunk_seconds": [duration for _, _, _, duration in chunks],
        "jobs": job_spans(run, video_id),
    }
