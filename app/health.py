"""`/healthz`: 200 when Redis answers and the database takes writes, else 503, within a few seconds."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as Late

from flask import Blueprint, current_app, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.platform.queueing import get_redis

log = logging.getLogger(__name__)
blueprint = Blueprint("health", __name__)

CHECK_SECONDS = 3.0  # every check together: a platform's health check gives up after a few seconds
# a write that changes nothing, rolled back: a read-only database (a standby, a full disk's remount,
# a read-only file) refuses it
WRITE_PROBE = text("UPDATE users SET id = id WHERE 1 = 0")

# checks run here, so that one that hangs (a database that never answers) can't hold the answer;
# two threads: a hung check holds one until its own timeouts end it, and a queued one is just late
_checks = ThreadPoolExecutor(max_workers=2, thread_name_prefix="conveyor-health")


def _redis(redis) -> None:
    redis.ping()


def _database(app) -> None:
    with app.app_context(), db.engine.connect() as connection:  # its own connection, not the request's
        transaction = connection.begin()
        try:
            connection.execute(WRITE_PROBE)
        finally:
            transaction.rollback()


@blueprint.get("/healthz")
def healthz():
    app = current_app._get_current_object()
    running = {"redis": _checks.submit(_redis, get_redis()), "database": _checks.submit(_database, app)}
    deadline = time.monotonic() + CHECK_SECONDS
    checks = {}
    for name, future in running.items():
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
            checks[name] = "ok"
        except Late:
            log.warning("health: %s did not answer within %g s", name, CHECK_SECONDS)
            checks[name] = "unavailable"
        except (RedisError, SQLAlchemyError) as exc:
            log.warning("health: %s unavailable: %s", name, type(exc).__name__)
            checks[name] = "unavailable"
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", **checks), 200 if healthy else 503
