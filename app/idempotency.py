"""`Idempotency-Key` on uploads: a client's retry gets the video its first attempt made, not a second one."""

from __future__ import annotations

import re

from flask import request

from app.errors import ApiError
from app.extensions import db
from app.models import Video

HEADER = "Idempotency-Key"
MAX_KEY = 128
_KEY = re.compile(rf"^[\x21-\x7e]{{1,{MAX_KEY}}}$")  # visible ASCII: a UUID, a hash, a counter...


def idempotency_key() -> str | None:
    """The request's key, checked; None when it sends none."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    if not _KEY.match(raw):
        raise ApiError(400, f"`{HEADER}` must be 1 to {MAX_KEY} visible ASCII characters, e.g. a UUID.")
    return raw


def earlier_upload(user_id: int, key: str) -> Video | None:
    """The video this user's earlier request with the same key made, if any."""
    return db.session.scalar(db.select(Video).filter_by(user_id=user_id, idempotency_key=key))
