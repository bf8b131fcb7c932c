"""One shape for every error: a status and `{"error": "<message a person can act on>"}` for the API
and the machine endpoints, and for the pages our own page (error.html) saying what happened and what
to do next. Werkzeug's stock sentences ("The requested URL was not found on the server...") are
never shown on a page; the API's JSON keeps them, as it always had.

An exception no handler takes is turned by Flask into an InternalServerError and given to the
handler of HTTPException below (Flask looks up handlers along the error's class hierarchy), so it is
our 500 too: a page, or the JSON error on /api/ paths. The traceback is logged by Flask first.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from flask import Flask, current_app, g, jsonify, request, session
from redis.exceptions import RedisError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.domain.errors import Refused
from app.platform.storage import StorageError

log = logging.getLogger(__name__)


class ApiError(Refused):
    """A request the web refuses before the domain is asked (no token, no such video...)."""


JSON_PREFIXES = ("/api/", "/healthz", "/media/", "/metrics", "/stream/")


def wants_json() -> bool:
    """The API and the machine endpoints answer JSON; the pages a page."""
    return request.path.startswith(JSON_PREFIXES)


class Explained(NamedTuple):
    """What the error page says for a status: what happened (its heading), and what to do next."""

    heading: str
    next_step: str
    again: bool = False  # offer "Try again" (the same address, when it was a GET)


EXPLAINED = {
    400: Explained(
        "The request could not be used",
        "Go back, reload the page and try again. A form left open for a long time needs a reload before it is sent.",
    ),
    401: Explained("Log in first", "Log in, then open the page again."),
    403: Explained(
        "This page is not open to you",
        "Your account may not use it: reviewing and the queue dashboard are for administrators. Go to My videos, "
        "or log in with an account that may.",
    ),
    404: Explained(
        "Page not found",
        "The link may be old, or the video was deleted. Your videos are all listed in My videos.",
    ),
    405: Explained(
        "That does not work from here",
        "This address cannot be used that way (a bookmarked or typed form action, for instance). Go back and use "
        "the page's own buttons.",
    ),
    410: Explained("This link has expired", "Open the video's page again for a fresh link."),
    413: Explained(
        "Too large",
        "Send less: an upload of at most {limit_mb} MB (trim the video, or export it "
        "at a lower bitrate), then try again.",
    ),
    429: Explained("Too many requests", "Wait a while, then try again.", again=True),
    500: Explained(
        "Something went wrong on our side",
        "It is not your fault, and it has been logged. Try again in a minute; if it keeps happening, tell the "
        "operator what you were doing.",
        again=True,
    ),
    503: Explained(
        "Busy, or a part is down",
        "The service is busy, or one of its parts (the database, the queue, file storage) is down for now. Try "
        "again in a minute.",
        again=True,
    ),
}
CLIENT_ERROR = Explained("The request could not be used", "Go back and try again, or go to My videos.")
SERVER_ERROR = Explained("Something is not working", "Try again in a minute.", again=True)


def explained(status: int) -> Explained:
    found = EXPLAINED.get(status) or (SERVER_ERROR if status >= 500 else CLIENT_ERROR)
    return found._replace(next_step=found.next_step.format(limit_mb=current_app.config["MAX_UPLOAD_MB"]))


def error_response(status: int, message: str | None, *, retry_after: int | None = None, headers=None):
    """The error as JSON or as our page. `message` None: nothing more to say than the page's own text
    (the JSON then says the page's heading). `retry_after`: seconds, sent as Retry-After, and the page
    says how long to wait instead of its next step."""
    if wants_json():
        response = jsonify(error=message or explained(status).heading)
    else:
        response = current_app.make_response(_page(status, message, retry_after))
    response.status_code = status
    for name, value in headers or ():
        if name.lower() != "content-type":
            response.headers[name] = value
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _page(status: int, message: str | None, retry_after: int | None) -> str:
    """error.html, rendered by the template environment directly, not with render_template: that runs
    the app's context processors, and Flask-Login's looks the user up in the database, which may be
    the very thing that is down. So the page knows nobody by name: its navigation is the site's main
    pages, with Log in only when the session's cookie holds no login."""
    page = explained(status)
    return current_app.jinja_env.get_template("error.html").render(
        status=status,
        heading=page.heading,
        message=message,
        next_step=page.next_step,
        wait=in_words(retry_after) if retry_after else None,
        again=_same_address() if page.again and request.method == "GET" else None,
        path=request.path if status == 404 else None,
        signed_in=session_holds_login(),
    )  # url_for, request, get_flashed_messages: globals of the environment


def session_holds_login() -> bool:
    """Whether the session's cookie says someone logged in (Flask-Login's key), without asking the
    database who, and without starting a session."""
    return bool(session.get("_user_id"))


def _same_address() -> str:
    """This request's path and query, for "Try again"; never `//host` or `/\\host`, which browsers
    read as another site."""
    return "/" + request.full_path.rstrip("?").lstrip("/\\")


def in_words(seconds: int) -> str:
    """A wait as a person says it: `40 seconds`, `5 minutes`, `2 hours`."""
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(minutes / 60)
    return "an hour" if hours == 1 else f"{hours} hours"


def _stock(exc: HTTPException) -> bool:
    """Raised without a message of ours: Werkzeug's class-level description is all it has."""
    return not exc.description or exc.description == type(exc).description


def _nobody_logged_in() -> None:
    """With the database away, who is logged in cannot be known (looking it up may be what failed):
    the rest of this request takes it as nobody, so that the page headers' check of the user (an
    after_request) does not ask the database again and turn this 503 into a 500 without its headers.
    `g._login_user` is where Flask-Login keeps the request's user once it is loaded."""
    if "_login_user" not in g:
        g._login_user = current_app.login_manager.anonymous_user()


def init_app(app: Flask) -> None:
    @app.errorhandler(Refused)
    def refused(exc: Refused):
        return error_response(exc.status, exc.message)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc):
        if (request.content_length or 0) <= app.config["MAX_CONTENT_LENGTH"]:
            return error_response(413, "A form field is too large, or the form has too many parts.")
        limit = app.config["MAX_UPLOAD_MB"]
        return error_response(413, f"The upload is larger than the limit of {limit} MB.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        headers = exc.get_headers()  # Allow on a 405, WWW-Authenticate on a 401
        if wants_json():  # the API's answers stay as they were, stock sentences included
            return error_response(status, exc.description or exc.name, headers=headers)
        return error_response(status, None if _stock(exc) else exc.description, headers=headers)

    @app.errorhandler(RedisError)
    def redis_down(exc):
        log.error("redis unavailable: %s", type(exc).__name__)
        return error_response(503, "The queue is unavailable right now; try again in a minute.")

    @app.errorhandler(StorageError)
    def storage_down(exc):
        log.error("storage unavailable: %s", exc)
        return error_response(503, "File storage is unavailable right now; try again in a minute.")

    @app.errorhandler(OperationalError)  # refused, timed out, read-only, a statement cancelled
    @app.errorhandler(InterfaceError)  # a connection that broke under us
    def database_down(exc):
        log.error("database unavailable: %s", type(exc).__name__)
        _nobody_logged_in()
        return error_response(503, "The database is unavailable right now; try again in a minute.")

    @app.errorhandler(PoolTimeout)
    def database_busy(exc):
        log.error("no database connection free within %s s", app.config["DATABASE_TIMEOUT"])
        _nobody_logged_in()
        return error_response(503, "The service is busy right now; try again in a minute.")
