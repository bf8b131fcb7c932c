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

import redis
from flask import Flask
from redis.exceptions import RedisError
from rq import Worker
from rq.exceptions import StopRequested

from app.domain import recovery
from app.extensions import db
from app.platform.queueing import QUEUE_NAMES, check_eviction_policy, connect, rq_name
from app.workers import shutdown

log = logging.getLogger(__name__)

# RQ's idle worker waits on its queues for `worker_ttl - 15` s at a time, and sends a heartbeat between
RQ_IDLE_MARGIN = 15
# while Redis is away, a worker tries again after 0.5 s, 1 s, 2 s... and then every REDIS_RETRY_CAP s
REDIS_RETRY_CAP = 4.0
# what a worker can lose Redis by: refused, reset, timed out (a failover), a replica that is read-only
REDIS_LOST = (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError)


class Outage:
    """Redis away, once: the first failure says so, the retries say nothing, the return says how long."""

    def __init__(self) -> None:
        self.since: float | None = None

    def failed(self, exc: BaseException) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.warning(
                "Redis unavailable (%s: %s); retrying every %g s at most, until it is back",
                type(exc).__name__, exc, REDIS_RETRY_CAP,
            )

    def over(self) -> bool:
        """Whether an outage just ended (logged once)."""
        if self.since is None:
            return False
        log.warning("Redis is back after %.0f s", time.monotonic() - self.since)
        self.since = None
        return True


def backoff(attempt: int) -> float:
    """Seconds before retry `attempt` (0, 1...): doubling from 0.5 s, capped at REDIS_RETRY_CAP."""
    return min(REDIS_RETRY_CAP, 0.5 * 2 ** min(attempt, 16))


def wait_for_redis(connection: redis.Redis, outage: Outage) -> bool:
    """Block until Redis answers (True), or until the platform stops the process (False)."""
    attempt = 0
    while not shutdown.requested():
        try:
            connection.ping()
        except RedisError as exc:
            outage.failed(exc)
        else:
            outage.over()
            return True
        deadline = time.monotonic() + backoff(attempt)
        while time.monotonic() < deadline and not shutdown.requested():
            time.sleep(0.1)
        attempt += 1
    return False


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

    def _install_signal_handlers(self) -> None:
        """RQ's handlers go in only once the worker has registered and started its scheduler: a SIGTERM
        before then reached `_stop_on_signal`'s handler, which only set the flag. Seen here, it stops
        the worker before it takes a job; unseen, the worker would run on as if never signalled."""
        super()._install_signal_handlers()
        if shutdown.requested():
            self.stopping = self._stop_requested = True

    def request_stop(self, signum, frame) -> None:
        self.stopping = True
        if self.horse_pid:  # the platform may signal only us: pass it on to the job
            try:
                os.kill(self.horse_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        super().request_stop(signum, frame)

    heartbeat_seconds = 5
    max_connection_wait_time = REDIS_RETRY_CAP  # RQ's idle worker backs off up to this (RQ's own: 60 s)

    def __init__(self, *args, outage: Outage | None = None, **kwargs) -> None:
        self.outage = outage or Outage()  # shared by the RQ workers one after another in this process
        super().__init__(*args, **kwargs)

    def heartbeat(self, timeout=None, pipeline=None) -> None:
        try:
            recovery.mark_alive(self.connection, self.name, self.heartbeat_seconds)
            if self.outage.over() and not self.connection.exists(self.key):
                self.register_birth()  # Redis came back without us (restarted empty, or a failover)
            super().heartbeat(timeout, pipeline)
        except REDIS_LOST as exc:
            self.outage.failed(exc)
            raise

    def maintain_heartbeats(self, job, execution) -> None:
        """While a job runs, Redis away is no reason to stop watching it: the job carries on, and its
        results go to the database; the heartbeats resume when Redis is back."""
        try:
            super().maintain_heartbeats(job, execution)
        except REDIS_LOST as exc:
            self.outage.failed(exc)

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            recovery.recover(self.connection, self.queues, 2 * self.heartbeat_seconds)
        except StopRequested:  # RQ's SIGTERM handler raised it here, mid-pass: the worker is to stop
            raise
        except Exception:
            log.exception("recovery pass failed")


def worker_name(index: int, environ: Mapping[str, str] = os.environ) -> str:
    """`worker.1.0-3fa2c1`: the dyno (as the platform or honcho names it), the process in it, and a
    suffix that keeps a restarted dyno's workers apart from the registrations of its killed ones."""
    dyno = environ.get("DYNO") or environ.get("HONCHO_PROCESS_NAME") or environ.get("PS") or socket.gethostname()
    return f"{dyno}.{index}-{secrets.token_hex(3)}"


RQ_CHATTER = (
    # RQ's maintenance pass carries recovery, so it runs every 10 s, not every 10 min: keep it out of the log
    "cleaning registries",
    "cleaning group registries",
    # RQ says this on every retry while Redis is away; `Outage` says it once
    "could not connect to Redis instance",
)


def _not_chatter(record: logging.LogRecord) -> bool:
    return not any(words in str(record.msg) for words in RQ_CHATTER)


def _stop_on_signal() -> None:
    """Between two RQ workers (RQ's handlers raise in whatever runs), SIGTERM just asks to stop."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: shutdown.request())


def _name_the_log(name: str) -> None:
    """Several workers may share one dyno's log: each line says which one wrote it."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s [{name}] %(name)s: %(message)s"))


def run_one(app: Flask, index: int = 0) -> None:
    """One worker in this process, with the app context pushed; it outlives Redis outages of any length.

    Redis away while idle: RQ's own loop retries, backing off to REDIS_RETRY_CAP. While busy: the job
    carries on (see `maintain_heartbeats`). Anything that still ends RQ's loop (Redis away when the job
    ends, or at start) ends one RQ worker: this loop waits for Redis and starts another.
    """
    logging.getLogger("rq.worker").addFilter(_not_chatter)
    app.app_context().push()
    import jobs.convert  # noqa: F401  (imported once here, not again in every forked work horse)

    # each job runs in a forked child: it must not reuse the parent's database connections
    os.register_at_fork(after_in_child=lambda: db.engine.dispose(close=False))
    heartbeat = app.config["WORKER_HEARTBEAT_SECONDS"]
    settings = timings(heartbeat)
    connection = connect(
        app.config["REDIS_URL"], tls_verify=app.config["REDIS_TLS_VERIFY"],
        # an idle worker blocks on its queues for `worker_ttl - 15` s: a read that outlasts that is a
        # Redis that vanished without closing the connection (a failover, a network partition)
        socket_timeout=settings["worker_ttl"] + 10, socket_keepalive=True,
    )
    outage = Outage()
    checked = False
    _stop_on_signal()
    while wait_for_redis(connection, outage):
        if not checked:
            checked = check_eviction_policy(connection) is not None
        worker = None
        name = worker_name(index)  # afresh each time: the last one's registration may linger in Redis
        _name_the_log(name)
        try:  # the constructor talks to Redis too
            queues = [rq_name(role) for role in QUEUE_NAMES]
            worker = ConveyorWorker(queues, name=name, connection=connection, outage=outage, **settings)
            worker.heartbeat_seconds = heartbeat
            worker.work(with_scheduler=True)
        except RedisError as exc:
            outage.failed(exc)
        except Exception:
            log.exception("the worker failed; starting another")
        _stop_on_signal()
        if (worker is not None and worker.stopping) or shutdown.requested():
            return
        time.sleep(1)  # a worker that fails at once, again and again, does not spin


def supervise(count: int, child_args: list[str]) -> int:
    """Run `count` worker processes, replace any that die, and stop them all on SIGTERM.

    Each child gets `--index <slot>` after `child_args`, which names it in /rq and the log.
    """
    stopping = False
    children: dict[int, subprocess.Popen] = {}
    signalled: set[int] = set()

    def stop(signum=None, frame=None):
        """Each child once (a second SIGTERM a second later would be RQ's cold shutdown)."""
        nonlocal stopping
        stopping = True
        for child in list(children.values()):
            if child.poll() is None and child.pid not in signalled:
                signalled.add(child.pid)
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        for slot in range(count):
            if stopping:  # no replacement for a child that the platform's SIGTERM just ended
                break
            child = children.get(slot)
            if child is None or child.poll() is not None:
                if child is not None:
                    log.warning("worker %s exited with %s; starting another", child.pid, child.returncode)
                children[slot] = subprocess.Popen([sys.executable, *child_args, "--index", str(slot)])
        time.sleep(1)
    stop()  # a child started while the signal was being handled has not been told yet
    for child in children.values():
        child.wait()
    return 0
