"""gunicorn settings from the platform's environment: `$PORT` and `$WEB_CONCURRENCY`."""

import os

# a platform's router reaches the dyno on 0.0.0.0; `make run` sets HOST=127.0.0.1 so a laptop's stack stays private
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gthread, but each request is read whole (headers within 10 s, a body with no pause over 30 s) by
# the worker's event loop before a thread serves it: slow clients hold sockets, not threads. See
# app/platform/http_worker.py.
worker_class = "app.platform.http_worker.BufferingWorker"
# An event stream (GET /api/videos/<id>/events) holds a thread for as long as a conversion runs.
# The app serves at most MAX_EVENT_STREAMS of them per process (more get 503 and the page polls
# instead), and there are that many threads plus 8, so pages, uploads and the API always have
# threads left however many tabs are watching. An idle stream costs a thread blocked on a queue.
threads = int(os.environ.get("WEB_THREADS") or int(os.environ.get("MAX_EVENT_STREAMS") or "24") + 8)
worker_connections = 1000  # per process: clients waiting (slow, kept alive) beyond this wait to connect
timeout = 30  # the platform's router cuts requests at 30 s anyway
graceful_timeout = 25
keepalive = 5
accesslog = "-"
logger_class = "app.accesslog.AccessLogger"  # keeps signed download links out of the log
errorlog = "-"
forwarded_allow_ips = "*"


def on_starting(server):
    """Say loudly, at start, when Redis may evict keys (and so lose queued jobs)."""
    from app.config import redis_settings
    from app.platform.queueing import check_eviction_policy, connect

    url, tls_verify = redis_settings()
    policy = check_eviction_policy(connect(url, tls_verify=tls_verify))
    if policy not in (None, "noeviction"):
        server.log.error("REDIS MISCONFIGURED: maxmemory-policy is %r; set it to 'noeviction'", policy)
