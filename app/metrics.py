"""`/metrics` in Prometheus text: queues, workers and videos, read fresh at each scrape."""

from __future__ import annotations

import hmac
import ipaddress
import time

from flask import Blueprint, Response, current_app, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from redis import Redis
from rq import Worker
from rq.job import Job

from app.domain.models import Video
from app.domain.states import State
from app.domain.videos import COUNTERS_KEY
from app.errors import ApiError
from app.extensions import db
from app.platform.queueing import QUEUE_NAMES, get_queue, get_redis

blueprint = Blueprint("metrics", __name__)


class ConveyorCollector:
    def collect(self):
        connection = get_redis()
        depth = GaugeMetricFamily("conveyor_queue_depth", "Jobs waiting in the queue", labels=["queue"])
        age = GaugeMetricFamily("conveyor_queue_oldest_age_seconds", "Age of the oldest waiting job", labels=["queue"])
        for name in QUEUE_NAMES:
            queue = get_queue(name)
            depth.add_metric([name], queue.count)
            age.add_metric([name], _oldest_age(queue, connection))
        yield depth
        yield age

        workers = GaugeMetricFamily("conveyor_workers", "RQ workers by state", labels=["state"])
        states = [worker.get_state() for worker in Worker.all(connection=connection)]
        workers.add_metric(["busy"], sum(1 for s in states if s == "busy"))
        workers.add_metric(["idle"], sum(1 for s in states if s != "busy"))
        yield workers

        videos = GaugeMetricFamily("conveyor_videos", "Videos by state", labels=["state"])
        counts = dict(db.session.execute(db.select(Video.state, db.func.count()).group_by(Video.state)).all())
        for state in State:
            videos.add_metric([state.value], counts.get(state.value, 0))
        yield videos

        stats = {k.decode(): float(v) for k, v in connection.hgetall(COUNTERS_KEY).items()}
        done = CounterMetricFamily("conveyor_conversions", "Conversions that ended", labels=["result"])
        done.add_metric(["ready"], stats.get(State.READY.value, 0))
        done.add_metric(["failed"], stats.get(State.FAILED.value, 0))
        yield done
        yield CounterMetricFamily("conveyor_conversion_seconds", "Time spent converting", value=stats.get("seconds", 0))


def from_inside(address: str | None) -> bool:
    """Loopback or a private network (a scraper beside the app); the address as the proxy reported it."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or (ip.is_private and not ip.is_unspecified and not ip.is_link_local)


def _oldest_age(queue, connection: Redis) -> float:
    first = queue.get_job_ids(0, 1)
    if not first:
        return 0.0
    job = Job.fetch(first[0], connection=connection)
    return max(0.0, time.time() - job.enqueued_at.timestamp()) if job.enqueued_at else 0.0


@blueprint.get("/metrics")
def metrics():
    token = current_app.config["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise ApiError(401, "Send METRICS_TOKEN as `Authorization: Bearer <token>`.")
    elif not from_inside(request.remote_addr):
        # a public deployment tells the world nothing (queue sizes, how busy it is) unless asked to
        raise ApiError(403, "/metrics answers only this machine and private networks; set METRICS_TOKEN to scrape "
                            "it from elsewhere with `Authorization: Bearer <token>`.")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ConveyorCollector())
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")
