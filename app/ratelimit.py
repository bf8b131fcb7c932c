"""Rate limits with Flask-Limiter, counted in Redis so every web process shares them: uploads per
user, and login attempts (password guessing) per browser, username and address."""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse_many

from app.auth import current_user
from app.errors import error_response

log = logging.getLogger(__name__)

# given at a successful page login: OWASP's device cookie (see login_attempt)
DEVICE_COOKIE = "conveyor_device"
DEVICE_COOKIE_DAYS = 365


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


class LoginAttempt:
    """One login attempt, counted before its password is checked (`allowed`), forgiven if it was right.

    From a browser that logged in to this name before (`device`, its device cookie's id) the attempt
    counts against that browser only, so strangers' failures never lock the owner out; from any other
    browser it counts against the name (`LOGIN_RATE_LIMIT`) and the client's address
    (`LOGIN_ADDRESS_RATE_LIMIT`: one password tried over many names). Counting is Redis's atomic
    increment, so simultaneous guesses can't all slip under the limit. Redis away: allowed.
    """

    def __init__(self, username: str, device: str | None):
        if device is not None:
            self.buckets = [(item, ("login-device", device)) for item in _limits("LOGIN_RATE_LIMIT")]
        else:
            self.buckets = [(item, ("login-name", _login_key(username))) for item in _limits("LOGIN_RATE_LIMIT")]
            address = request.remote_addr or ""
            self.buckets += [(item, ("login-address", address)) for item in _limits("LOGIN_ADDRESS_RATE_LIMIT")]

    def allowed(self) -> bool:
        """Count it; False: refuse it (429) without checking the password."""
        try:
            # every bucket is counted, even after one is full: a refused attempt still costs the guesser
            return all([limiter.limiter.hit(item, *keys) for item, keys in self.buckets])
        except Exception:  # noqa: BLE001  (Redis away: logins go on, unthrottled, as uploads do)
            log.warning("could not count a login attempt (Redis away?)")
            return True

    def retry_after(self) -> int:
        """Seconds until every full bucket lets an attempt through again (at least 1)."""
        try:
            resets = [limiter.limiter.get_window_stats(item, *keys) for item, keys in self.buckets]
        except Exception:  # noqa: BLE001  (Redis went away meanwhile: no better word than a minute)
            return 60
        waits = [reset - time.time() for reset, remaining in resets if remaining <= 0]
        return max(1, math.ceil(max(waits, default=1)))

    def succeeded(self) -> None:
        """The password was right: only failures use up the limits."""
        try:
            for item, keys in self.buckets:
                limiter.limiter.hit(item, *keys, cost=-1)
        except Exception:  # noqa: BLE001
            log.warning("could not forgive a good login attempt (Redis away?)")


def trusted_device(username: str) -> str | None:
    """The id of this browser's device cookie when it was given at a login to `username`."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        name, device = _device_signer().loads(raw, max_age=DEVICE_COOKIE_DAYS * 24 * 3600)
    except (BadSignature, TypeError, ValueError):
        return None
    return device if isinstance(device, str) and name == _login_key(username) else None


def remember_device(response: Response, username: str) -> None:
    """After a good password: this browser's attempts at this name count on their own from now on."""
    value = _device_signer().dumps([_login_key(username), secrets.token_urlsafe(16)])
    response.set_cookie(
        DEVICE_COOKIE, value, max_age=DEVICE_COOKIE_DAYS * 24 * 3600, httponly=True, samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="login-device")


def _limits(setting: str) -> list:
    spec = current_app.config[setting]
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
        message = f"Too many uploads: the limit is {exc.limit.limit}. Try again later."
        return error_response(429, message, retry_after=_seconds_to_reset())


def _seconds_to_reset() -> int | None:
    """When the limit that was hit lets the next request through (Flask-Limiter's own Retry-After)."""
    hit = limiter.current_limit
    return max(1, math.ceil(hit.reset_at - time.time())) if hit else None
