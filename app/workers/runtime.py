"""RQ workers that suit a platform: SIGTERM hands the job back at once; dead workers are noticed fast."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping

from flask import Flask
from redis.exceptions import RedisError
from rq import Worker

from app.domain import recovery
from app.extensions import db
from app.platform.queueing import QUEUE_NAMES, check_eviction_policy, connect, rq_name
from app.workers import shutdown

log = logging.getLogger(__name__)

# RQ's idle worker waits on its queues for `worker_ttl - 15` s at a time, and sends a heartbeat between
RQ_IDLE_MARGIN = 15


def timings(heartbeat_seconds: int) -> dict[str, int]:
    """RQ's worker settings for WORKER_HEARTBEAT_SECONDS: a busy worker beats every heartbeat, an idle
    one at least every 2 (never less often than the alive window allows), and recovery runs every 2."""
    alive = recovery.ALIVE_HEARTBEATS * heartbeat_seconds
    return {
        "worker_ttl": RQ_IDLE_MARGIN + max(1, min(2 * heartbeat_seconds, alive - heartbeat_seconds)),
        "job_monitoring_interval": heartbeat_seconds,
        "maintenance_interval": 2 * heartbeat_seconds,
    }


class ConveyorWorker(Worker):
    """A forking RQ worker for a platform: SIGTERM reaches the job, which hands itself back.

    The job (`jobs.convert`) sees the shutdown flag, stops ffmpeg and returns an RQ `Retry` that puts
    it at the front of its queue: RQ's own way to requeue, so no failure path is overridden here.
    """

    def setup_work_horse_signals(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda signum, frame: shutdown.request())

    stopping = False

    def request_stop(self, signum, frame) -> None:
        self.stopping = True
        if self.horse_pid:  # the platform may signal only us: pass it on to the job
            try:
                os.kill(self.horse_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        super().request_stop(signum, frame)

    heartbeat_seconds = 5

    def heartbeat(self, timeout=None, pipeline=None) -> None:
        super().heartbeat(timeout, pipeline)
        recovery.mark_alive(self.connection, self.name, self.heartbeat_seconds)

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            recovery.recover(self.connection, self.queues, 2 * self.heartbeat_seconds)
        except Exception:
            log.exception("recovery pass failed")


def worker_name(index: int, environ: Mapping[str, str] = os.environ) -> str:
    """`worker.1.0-3fa2c1`: the dyno (as the platform or honcho names it), the process in it, and a
    suffix that keeps a restarted dyno's workers apart from the registrations of its killed ones."""
    dyno = environ.get("DYNO") or environ.get("HONCHO_PROCESS_NAME") or environ.get("PS") or socket.gethostname()
    return f"{dyno}.{index}-{secrets.token_hex(3)}"


def _not_maintenance_chatter(record: logging.LogRecord) -> bool:
    # RQ's maintenance pass carries recovery, so it runs every 10 s, not every 10 min: keep it out of the log
    return "cleaning registries" not in str(record.msg) and "cleaning group registries" not in str(record.msg)


def _name_the_log(name: str) -> None:
    """Several workers may share one dyno's log: each line says which one wrote it."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s [{name}] %(name)s: %(message)s"))


def run_one(app: Flask, index: int = 0) -> None:
    """One worker in this process, with the app context pushed; it outlives Redis outages."""
    logging.getLogger("rq.worker").addFilter(_not_maintenance_chatter)
    app.app_context().push()
    import jobs.convert  # noqa: F401  (imported once here, not again in every forked work horse)

    # each job runs in a forked child: it must not reuse the parent's database connections
    os.register_at_fork(after_in_child=lambda: db.engine.dispose(close=False))
    connection = connect(app.config["REDIS_URL"], tls_verify=app.config["REDIS_TLS_VERIFY"], socket_timeout=None)
    check_eviction_policy(connection)
    heartbeat = app.config["WORKER_HEARTBEAT_SECONDS"]
    while True:
        worker = None
        name = worker_name(index)  # afresh each time: the last one's registration may linger in Redis
        _name_the_log(name)
        try:  # the constructor talks to Redis too
            worker = ConveyorWorker(
                [rq_name(role) for role in QUEUE_NAMES],
                name=name,
                connection=connection,
                **timings(heartbeat),
            )
            worker.heartbeat_seconds = heartbeat
            worker.work(with_scheduler=True)
        except RedisError:
            log.warning("lost Redis; trying again in 2 s")
        if (worker is not None and worker.stopping) or shutdown.requested():
            return
        log.warning("worker stopped unexpectedly (Redis away?); starting again in 2 s")
        time.sleep(2)


def supervise(count: int, child_args: list[str]) -> int:
    """Run `count` worker processes, replace any that die, and stop them all on SIGTERM.

    Each child gets `--index <slot>` after `child_args`, which names it in /rq and the log.
    """
    stopping = False
    children: dict[int, subprocess.Popen] = {}

    def stop(signum, frame):
        nonlocal stopping
        stopping = True
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        for slot in range(count):
            child = children.get(slot)
            if child is None or child.poll() is not None:
                if child is not None:
                    log.warning("worker %s exited with %s; starting another", child.pid, child.returncode)
                children[slot] = subprocess.Popen([sys.executable, *child_args, "--index", str(slot)])
        time.sleep(1)
    for child in children.values():
        child.wait()
    return 0
