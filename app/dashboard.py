"""rq-dashboard at /rq: for admins only, and closed to requests that other sites start.

rq-dashboard has no login of its own, checks no CSRF token, and `requeue/<queue>` acts on GET.
So here: anonymous visitors are sent to log in and other users get 403; every request that is not
a plain read must come from a page of this site (Sec-Fetch-Site, else Origin or Referer) and carry
the CSRF token (CSRFProtect checks it; the dashboard's own script sends the `_csrf_token` cookie
back as X-CSRFToken); the GET form of requeue is refused. Its pages get a Content-Security-Policy
that allows its own scripts only, by hash.

Job descriptions, arguments and meta carry ids only (see `app.domain.dispatch.enqueue_item`): the
dashboard shows some of them as raw HTML.
"""

from __future__ import annotations

import base64
import hashlib
import re

import rq_dashboard
from flask import Flask, Response, abort, current_app, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from rq_dashboard.web import push_rq_connection

from app.pages.security import safe_next, same_origin

PREFIX = "/rq"
CSRF_COOKIE = "_csrf_token"  # the name rq-dashboard's script reads
READS = frozenset({"GET", "HEAD", "OPTIONS"})
ACTS_ON_GET = frozenset({"rq_dashboard.requeue_all"})
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


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


def protect_page(response: Response) -> Response:
    if response.mimetype != "text/html" or response.direct_passthrough or not _is_admin():
        return response  # error pages keep the app's own policy
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


def _is_admin() -> bool:
    return current_user.is_authenticated and current_user.is_admin


def _digest(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()
