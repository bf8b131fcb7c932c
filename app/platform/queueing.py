"""Redis and the RQ queues, made once per app; a job is enqueued by the dotted path of its function.

Naming the function rather than importing it keeps the web from loading job code (and numpy and
the engine with it): the worker imports it when it runs the job.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

import redis
from flask import Flask, current_app
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

log = logging.getLogger(__name__)

# Roles, most urgent first; workers take from them in this order. Each is an RQ queue named
# `conveyor-<role>`, so that Conveyor's workers never take another RQ app's jobs from a shared Redis.
QUEUE_NAMES = ("high", "default", "low")


def rq_name(role: str) -> str:
    return f"conveyor-{role}"


def events_channel(video_id: str) -> str:
    return f"conveyor:videos:{video_id}"


def connect(url: str, *, tls_verify: bool = True, **options) -> redis.Redis:
    """A client with short timeouts: a Redis that is down is an error in seconds, not a hang.

    `tls_verify=False` (REDIS_TLS_VERIFY) accepts a self-signed certificate on `rediss://` URLs, as
    hosted Redis add-ons hand them out: the platform owns REDIS_URL, so no query string can be added.
    """
    if not tls_verify and urlsplit(url).scheme == "rediss":
        options.setdefault("ssl_cert_reqs", "none")
        options.setdefault("ssl_check_hostname", False)
    options.setdefault("socket_connect_timeout", 3)
    options.setdefault("socket_timeout", 5)
    options.setdefault("health_check_interval", 30)
    return redis.Redis.from_url(url, **options)


def init_app(app: Flask) -> None:
    connection = app.config.get("REDIS_CONNECTION") or connect(
        app.config["REDIS_URL"], tls_verify=app.config["REDIS_TLS_VERIFY"]
    )
    app.extensions["redis"] = connection
    app.extensions["queues"] = {role: Queue(rq_name(role), connection=connection) for role in QUEUE_NAMES}


def check_eviction_policy(connection: redis.Redis) -> str | None:
    """Redis must never evict keys: an evicted job is a lost conversion. Says so loudly at start."""
    try:
        policy = connection.info("memory").get("maxmemory_policy")
    except redis.RedisError:
        return None  # not reachable yet; requests will say so
    if policy != "noeviction":
        log.error(
            "REDIS MISCONFIGURED: maxmemory-policy is %r; set it to 'noeviction' or queued jobs may be lost", policy
        )
    return policy


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]


def get_queue(role: str = "default") -> Queue:
    return current_app.extensions["queues"][role]


def fetch_job(job_id: str, connection: redis.Redis | None = None) -> Job | None:
    try:
        return Job.fetch(job_id, connection=connection or get_redis())
    except NoSuchJobError:
        return None


def publish_change(connection: redis.Redis, video_id: str, state: str, status: float, **more) -> None:
    """Tell live listeners (`more`: what else changed, `playable=True`); best effort, as the database
    holds the truth."""
    message = {"id": video_id, "state": state, "status": status, **more}
    try:
        connection.publish(events_channel(video_id), json.dumps(message))
    except redis.RedisError:
        log.warning("could not publish a change of video %s: redis unavailable", video_id)
