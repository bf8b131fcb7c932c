"""Fixtures the domain's tests share."""

from __future__ import annotations

import pytest

from app.domain.models import Video
from app.extensions import db


@pytest.fixture
def video(app, make_user) -> Video:
    """A video of a fresh user, being converted (a test module may define its own)."""
    user, _ = make_user()
    made = Video(user_id=user.id, state="processing")
    db.session.add(made)
    db.session.commit()
    return made
