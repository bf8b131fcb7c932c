"""`Idempotency-Key` on uploads: a client's retry gets the video its first attempt made, not a second one."""

from __future__ import annotations

import re

from flask import request

from app.errors import ApiError

HEADER = "Idempotency-Key"
MAX_KEY = 128
_KEY = re.compile(rf"^[\x21-\x7e]{{1,{MAX_KEY}}}$")  # visible ASCII: a UUID, a hash, a counter...


def idempotency_key() -> str | None:
    """The request's key, checked; None when it sends none."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    if not _KEY.fullmatch(raw):
        raise ApiError(400, f"`{HEADER}` must be 1 to {MAX_KEY} visible ASCII characters, e.g. a UUID.")
    return raw
