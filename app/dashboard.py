"""rq-dashboard at /rq: for admins only, and closed to requests that other sites start.

rq-dashboard has no login of its own, checks no CSRF token, and `requeue/<queue>` acts on GET.
So here: anonymous visitors are sent to log in and other users get 403; every request that is not
a plain read must come from a page of this site (Sec-Fetch-Site, else Origin or Referer) and carry
the CSRF token (CSRFProtect checks it; the dashboard's own script sends the `_csrf_token` cookie
back as X-CSRFToken); the GET form of requeue is refused. Its pages get a Content-Security-Policy
that allows its own scripts only, by hash.

Job descriptions, arguments and meta carry ids only (see `app.domain.dispatch.enqueue_item`): the
dashboard shows some of them as raw HTML.

It belongs to the site: its pages get a link back to My videos at the start of their navigation bar,
the site's favicon (its template asks for /static/favicon.ico, which this app does not have), a
label on its unlabelled select and a stylesheet of ours (static/dashboard.css: contrast, touch
sizes), all written into the page as it leaves (smaller than copying its templates to override
them); and it lists every Conveyor queue from the start, though RQ lists only queues that have had a job.
"""

from __future__ import annotations

import base64
import hashlib
import re

import rq_dashboard
from flask import Flask, Response, abort, current_app, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from rq import Queue
from rq_dashboard.web import push_rq_connection

from app.pages.security import safe_next, same_origin

PREFIX = "/rq"
CSRF_COOKIE = "_csrf_token"  # the name rq-dashboard's script reads
READS = frozenset({"GET", "HEAD", "OPTIONS"})
ACTS_ON_GET = frozenset({"rq_dashboard.requeue_all"})
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
# rq-dashboard's markup (templates/rq_dashboard/base.html, navbar.html), where ours goes
_NAVBAR = re.compile(rb"<div[^>]*\bid=\"navbar-dashboard\"[^>]*>")
_ICON = re.compile(rb"<link[^>]*\brel=\"shortcut icon\"[^>]*>")
_HEAD_END = re.compile(rb"</head>", re.IGNORECASE)
_INSTANCES = re.compile(rb"<select(?=[^>]*\bid=\"rq-instances\")")


def init_app(app: Flask) -> None:
    app.config["RQ_DASHBOARD_REDIS_URL"] = (app.config["REDIS_URL"],)
    app.config.setdefault("RQ_DASHBOARD_POLL_INTERVAL", 2500)
    # the dashboard reads `app.redis_conn`; it gets the app's own client (timeouts, rediss:// with
    # ssl_cert_reqs=none) instead of one made afresh from the URL on every request
    app.redis_conn = app.extensions["redis"]
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=PREFIX)
    checks = app.before_request_funcs.setdefault(rq_dashboard.blueprint.name, [])
    if push_rq_connection in checks:
        checks.remove(push_rq_connection)
    checks.insert(0, admins_only)
    checks.insert(1, list_every_queue)
    app.after_request_funcs.setdefault(rq_dashboard.blueprint.name, []).append(protect_page)


def admins_only():
    if not current_user.is_authenticated:
        return redirect(url_for("pages.login", next=safe_next(request.full_path.rstrip("?"))))
    if not current_user.is_admin:
        abort(403, "The queue dashboard is for administrators.")
    if (request.view_args or {}).get("instance_number", 0) != 0:
        abort(404, "There is one Redis instance: /rq/0/.")
    if request.endpoint in ACTS_ON_GET and request.method in READS:
        abort(405, "Requeue from the dashboard's button, which sends a POST.")
    if request.method not in READS and not same_origin():
        abort(403, "The dashboard's actions can only be used from the dashboard itself.")
    return None


def list_every_queue() -> None:
    """Put Conveyor's queues in RQ's set of queues, which the dashboard lists (`Queue.all`): RQ adds a
    queue there only when a job is enqueued on it, so a fresh Redis (or one restarted) listed none.
    One SADD per dashboard request, before any of them lists."""
    queues = current_app.extensions["queues"].values()
    current_app.extensions["redis"].sadd(Queue.redis_queues_keys, *(queue.key for queue in queues))


def protect_page(response: Response) -> Response:
    if response.mimetype != "text/html" or response.direct_passthrough or not _is_admin():
        return response
    if response.status_code >= 400:
        return response  # our own error page, with the app's own policy
    response.set_data(_belonging_to_the_site(response.get_data()))
    response.set_cookie(
        CSRF_COOKIE,
        generate_csrf(),
        path=PREFIX,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=False,  # the dashboard's script reads it
        samesite="Strict",
    )
    hashes = " ".join(f"'sha256-{_digest(body)}'" for body in _INLINE_SCRIPT.findall(response.get_data()))
    # 'unsafe-eval': the dashboard compiles its Underscore templates with new Function()
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' 'unsafe-eval' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return response


def _belonging_to_the_site(page: bytes) -> bytes:
    arrow = '<span aria-hidden="true">&larr; </span>'
    back = f'<a class="navbar-brand" href="{url_for("pages.videos")}">{arrow}Conveyor</a>'
    icon = f'<link rel="icon" href="{url_for("static", filename="favicon.svg")}" type="image/svg+xml">'
    styles = f'<link rel="stylesheet" href="{url_for("static", filename="dashboard.css")}">'
    page = _NAVBAR.sub(lambda found: found.group(0) + back.encode(), page, count=1)
    page = _ICON.sub(lambda found: icon.encode(), page, count=1)
    page = _HEAD_END.sub(lambda found: styles.encode() + found.group(0), page, count=1)
    return _INSTANCES.sub(lambda found: found.group(0) + b' aria-label="Redis instance"', page, count=1)


def _is_admin() -> bool:
    return current_user.is_authenticated and current_user.is_admin


def _digest(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()
