"""RQ workers that suit a platform: SIGTERM hands the job back at once; dead workers are noticed fast."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

from flask import Flask
from redis.exceptions import RedisError
from rq import Worker

from app import recovery
from app.extensions import db
from app.queueing import QUEUE_NAMES, check_eviction_policy, connect
from jobs import shutdown

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5
WORKER_TTL = 25  # idle workers wake at least every 10 s
RECOVERY_SECONDS = 10


class ConveyorWorker(Worker):
    """A forking RQ worker that gives its job back on SIGTERM instead of finishing or losing it."""

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

    def handle_job_failure(self, job, queue, started_job_registry=None, exc_string=""):
        if self._is_horse and shutdown.requested():
            try:
                recovery.hand_back(self.connection, queue, job, self.execution.id if self.execution else None)
                return
            except Exception:
                log.exception("could not hand job %s back; it fails and is retried instead", job.id)
        super().handle_job_failure(job, queue, started_job_registry=started_job_registry, exc_string=exc_string)

    def heartbeat(self, timeout=None, pipeline=None) -> None:
        super().heartbeat(timeout, pipeline)
        recovery.mark_alive(self.connection, self.name)

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            recovery.recover(self.connection, self.queues)
        except Exception:
            log.exception("recovery pass failed")


def _not_maintenance_chatter(record: logging.LogRecord) -> bool:
    # RQ's maintenance pass carries recovery, so it runs every 10 s, not every 10 min: keep it out of the log
    return "cleaning registries" not in str(record.msg)


def run_one(app: Flask) -> None:
    """One worker in this process, with the app context pushed."""
    logging.getLogger("rq.worker").addFilter(_not_maintenance_chatter)
    app.app_context().push()
    import jobs.convert  # noqa: F401  (imported once here, not again in every forked work horse)

    # each job runs in a forked child: it must not reuse the parent's database connections
    os.register_at_fork(after_in_child=lambda: db.engine.dispose(close=False))
    connection = connect(app.config["REDIS_URL"], socket_timeout=None)
    check_eviction_policy(connection)
    while True:
        worker = ConveyorWorker(
            list(QUEUE_NAMES),
            connection=connection,
            worker_ttl=WORKER_TTL,
            job_monitoring_interval=HEARTBEAT_SECONDS,
            maintenance_interval=RECOVERY_SECONDS,
        )
        try:
            worker.work(with_scheduler=True)
        except RedisError:
            log.warning("lost Redis while starting up")
        if worker.stopping or shutdown.requested():
            return
        log.warning("worker stopped unexpectedly (Redis away?); starting again in 2 s")
        time.sleep(2)


def supervise(count: int, child_args: list[str]) -> int:
    """Run `count` worker processes, replace any that die, and stop them all on SIGTERM."""
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
                children[slot] = subprocess.Popen([sys.executable, *child_args])
        time.sleep(1)
    for child in children.values():
        child.wait()
    return 0
