"""Redis, the RQ queues and the few keys Conveyor keeps beside them, made once per app."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

import redis
from flask import Flask, current_app
from rq import Callback, Queue, Retry
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus

from app.states import State

log = logging.getLogger(__name__)

# Roles, most urgent first; workers take from them in this order. Each is an RQ queue named
# `conveyor-<role>`, so that Conveyor's workers never take another RQ app's jobs from a shared Redis.
QUEUE_NAMES = ("high", "default", "low")
CANCEL_TTL = 24 * 3600


def rq_name(role: str) -> str:
    return f"conveyor-{role}"


def job_id(video_id: str) -> str:
    return f"convert-{video_id}"


def cancel_key(video_id: str) -> str:
    return f"conveyor:cancel:{video_id}"


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


def get_queue(name: str = "default") -> Queue:
    return current_app.extensions["queues"][name]


def job_timeout() -> int:
    """RQ's hard ceiling for one conversion; the job itself stops ffmpeg sooner, by duration."""
    cfg = current_app.config
    return cfg["CONVERT_TIMEOUT_BASE"] + cfg["MAX_DURATION_SECONDS"] * cfg["CONVERT_TIMEOUT_FACTOR"] + 300


def retry_policy() -> Retry | None:
    retries = current_app.config["JOB_RETRIES"]
    return Retry(max=retries, interval=current_app.config["JOB_RETRY_INTERVALS"]) if retries > 0 else None


def enqueue_conversion(video_id: str, queue: str = "default") -> Job:
    """Queue the conversion of a stored video. Only ids go into the job: no user text."""
    from jobs.convert import conversion_failed, convert_video

    return get_queue(queue).enqueue(
        convert_video,
        video_id,
        job_id=job_id(video_id),
        job_timeout=job_timeout(),
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        retry=retry_policy(),
        on_failure=Callback(conversion_failed),
        description=f"convert video {video_id}",
    )


def fetch_job(video_id: str) -> Job | None:
    try:
        return Job.fetch(job_id(video_id), connection=get_redis())
    except NoSuchJobError:
        return None


def request_cancel(video_id: str) -> None:
    """Stop a conversion: a queued job never starts; a running one sees the flag and stops."""
    connection = get_redis()
    connection.set(cancel_key(video_id), 1, ex=CANCEL_TTL)
    job = fetch_job(video_id)
    if job is None:
        return
    status = job.get_status(refresh=False)
    if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
        try:
            job.cancel()
        except InvalidJobOperation:
            pass  # it started meanwhile: the flag stops it


def live_progress(video_id: str) -> float | None:
    """The fraction a running job last wrote into its meta, if any."""
    job = fetch_job(video_id)
    if job is None:
        return None
    value = job.get_meta(refresh=False).get("progress")
    return float(value) if isinstance(value, int | float) else None


def running_progress(video) -> float | None:
    """A `processing` video's live progress from its job; None otherwise, or while Redis is away
    (the database's mirror of it is a second or so behind, and good enough)."""
    if video.state != State.PROCESSING.value:
        return None
    try:
        return live_progress(video.id)
    except redis.RedisError:
        return None


def publish_change(connection: redis.Redis, video_id: str, state: str, status: float) -> None:
    """Tell live listeners; best effort, as the database holds the truth."""
    try:
        connection.publish(events_channel(video_id), json.dumps({"id": video_id, "state": state, "status": status}))
    except redis.RedisError:
        log.warning("could not publish a change of video %s: redis unavailable", video_id)
