"""`/healthz`: 200 when Redis and the database answer, else 503."""

from __future__ import annotations

from flask import Blueprint, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.platform.queueing import get_redis

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    checks = {"redis": "ok", "database": "ok"}
    try:
        get_redis().ping()
    except RedisError:
        checks["redis"] = "unavailable"
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        checks["database"] = "unavailable"
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", **checks), 200 if healthy else 503
