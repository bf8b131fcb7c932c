"""One shape for every error: a status and `{"error": "<message a person can act on>"}`."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
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


def error_response(status: int, message: str):
    if wants_json():
        response = jsonify(error=message)
    else:
        response = current_app.make_response(render_template("error.html", status=status, message=message))
    response.status_code = status
    return response


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
        return error_response(exc.code or 500, exc.description or exc.name)

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
        return error_response(503, "The database is unavailable right now; try again in a minute.")

    @app.errorhandler(PoolTimeout)
    def database_busy(exc):
        log.error("no database connection free within %s s", app.config["DATABASE_TIMEOUT"])
        return error_response(503, "The service is busy right now; try again in a minute.")
