"""Rate limits with Flask-Limiter, counted in Redis so every web process shares them: uploads per
user, and failed logins per username (password guessing)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app
from flask_limiter import Limiter, RateLimitExceeded
from limits import parse_many

from app.auth import current_user
from app.errors import error_response

log = logging.getLogger(__name__)


def user_key() -> str:
    """Limits follow the account, not the address: many users may share one, one user may roam."""
    return f"user:{current_user().id}"


# Errors of the limit's storage are swallowed: with Redis down an upload is still taken (and
# converted once it is back) rather than refused because it could not be counted.
limiter = Limiter(key_func=user_key, key_prefix="conveyor:ratelimit", headers_enabled=True, swallow_errors=True)


def upload_limit(view: Callable) -> Callable:
    """`UPLOAD_RATE_LIMIT` on a view; goes under `token_required`, which finds the user."""
    return limiter.limit(
        lambda: current_app.config["UPLOAD_RATE_LIMIT"],
        exempt_when=lambda: not current_app.config["UPLOAD_RATE_LIMIT"],
    )(view)


def login_blocked(username: str) -> bool:
    """Whether this username had `LOGIN_RATE_LIMIT` failed logins already (False if it can't be counted)."""
    try:
        return not all(limiter.limiter.test(item, "login", _login_key(username)) for item in _login_limits())
    except Exception:  # noqa: BLE001  (Redis away: logins go on, unthrottled, as uploads do)
        return False


def count_failed_login(username: str) -> None:
    try:
        for item in _login_limits():
            limiter.limiter.hit(item, "login", _login_key(username))
    except Exception:  # noqa: BLE001
        log.warning("could not count a failed login (Redis away?)")


def _login_limits() -> list:
    spec = current_app.config["LOGIN_RATE_LIMIT"]
    return parse_many(spec) if spec else []


def _login_key(username: str) -> str:
    return username.strip().lower()


def init_app(app: Flask) -> None:
    if app.testing:
        app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    else:
        app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
        # the app's own client: its short timeouts, its TLS settings
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"connection_pool": app.extensions["redis"].connection_pool})
    limiter.init_app(app)

    @app.errorhandler(RateLimitExceeded)
    def too_many(exc: RateLimitExceeded):
        return error_response(429, f"Too many uploads: the limit is {exc.limit.limit}. Try again later.")
