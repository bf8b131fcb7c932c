"""The JSON API under /api."""

from flask import Blueprint

blueprint = Blueprint("api", __name__, url_prefix="/api")

from app.api import account, events, openapi, uploads, videos  # noqa: E402,F401  (registers the routes)
