"""Who is calling: `Authorization: Bearer <token>`, or the session of someone logged in to the pages.

A session rides along with any request the browser makes, even one another site started, so a
session-authenticated call that changes something must also carry the page's CSRF token
(`X-CSRFToken`). A Bearer token is never sent by a browser on its own: those calls need none.
"""

from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_login import current_user as session_user

from app.domain.models import User
from app.errors import ApiError
from app.extensions import csrf

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_user() -> User:
    return g.user


def token_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if "Authorization" not in request.headers and session_user.is_authenticated:
            if request.method not in SAFE_METHODS:
                csrf.protect()  # 400 without a valid X-CSRFToken
            g.user = session_user._get_current_object()
            return view(*args, **kwargs)
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 256:
            raise ApiError(401, "Send your API token as `Authorization: Bearer <token>`, or log in.")
        user = User.by_token(token)
        if user is None:
            raise ApiError(401, "The API token is not valid.")
        g.user = user
        return view(*args, **kwargs)

    return wrapper
