"""The JSON API under /api: importing the route modules registers their routes on the blueprint."""

from app.api import account, captions, events, openapi, uploads, videos  # noqa: F401
from app.api.blueprint import blueprint

__all__ = ["blueprint"]
