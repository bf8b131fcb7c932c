"""Dispatch: from enqueue to job start with an idle worker, p50 and p99; the cost of an empty job.

Jobs are enqueued one at a time onto the stack's own Redis, each after the previous one has
finished, so the one `python worker.py` is always idle and waiting when a job arrives. The job
writes its start time into Redis; the end is when its result appears (RQ's result stream).
"""

from __future__ import annotations

import time

from rq import Queue

from app.platform.queueing import rq_name
from bench.common import Figure, log, main, percentile
from bench.harness import Running
from bench.jobs import empty, mark_start

PAUSE = 0.02  # let the worker go back to waiting before the next job


def settings(quick: bool) -> dict:
    return {"jobs": 60 if quick else 300, "burst": 100 if quick else 500}


def one_by_one(queue: Queue, count: int) -> tuple[list[float], list[float]]:
    """Seconds from enqueue to start, and from enqueue to the result, of `mark_start` jobs."""
    connection = queue.connection
    starts, ends = [], []
    for i in range(count):
        key = f"bench:started:{i}"
        enqueued = time.time()
        job = queue.enqueue(mark_start, key, result_ttl=60)
        _, raw = connection.blpop([key], timeout=30)
        starts.append(float(raw) - enqueued)
        if job.latest_result(timeout=30) is None:
            raise RuntimeError("a trivial job did not finish in 30 s")
        ends.append(time.time() - enqueued)
        time.sleep(PAUSE)
    return starts, ends


def empties(queue: Queue, count: int) -> list[float]:
    """Seconds from enqueue to result of a job that does nothing."""
    found = []
    for _ in range(count):
        enqueued = time.time()
        job = queue.enqueue(empty, result_ttl=60)
        if job.latest_result(timeout=30) is None:
            raise RuntimeError("an empty job did not finish in 30 s")
        found.append(time.time() - enqueued)
        time.sleep(PAUSE)
    return found


def burst(queue: Queue, count: int) -> float:
    """Empty jobs per second one worker gets through when they are all queued at once."""
    started = time.time()
    jobs = [queue.enqueue(empty, result_ttl=60) for _ in range(count)]
    if jobs[-1].latest_result(timeout=300) is None:
        raise RuntimeError("a burst of empty jobs did not finish in 300 s")
    return count / (time.time() - started)


def run(quick: bool) -> list[Figure]:
    cfg = settings(quick)
    with Running(workers=1, web=False) as stack:
        queue = Queue(rq_name("default"), connection=stack.client())
        one_by_one(queue, 5)  # warm up: the worker's first job imports the job module
        starts, ends = one_by_one(queue, cfg["jobs"])
        nothing = empties(queue, cfg["jobs"])
        rate = burst(queue, cfg["burst"])
    log(f"{cfg['jobs']} jobs one at a time; then a burst of {cfg['burst']}")
    ms = [1000 * s for s in starts]
    empty_ms = [1000 * s for s in nothing]
    return [
        Figure("dispatch", "enqueue to job start, p50", percentile(ms, 50), "ms", samples=ms),
        Figure("dispatch", "enqueue to job start, p99", percentile(ms, 99), "ms"),
        Figure("dispatch", "empty job, enqueue to result, p50", percentile(empty_ms, 50), "ms", samples=empty_ms),
        Figure("dispatch", "empty job, enqueue to result, p99", percentile(empty_ms, 99), "ms"),
        Figure("dispatch", "empty jobs per second, one worker, queued at once", rate, "jobs/s"),
    ]


if __name__ == "__main__":
    main(run)
