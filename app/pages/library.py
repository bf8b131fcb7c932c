"""My videos: the user's own videos, newest first."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from app.domain.models import Video
from app.domain.presenters import video_json
from app.extensions import db
from app.pages.blueprint import blueprint

LIST_LIMIT = 100


@blueprint.get("/videos")
@login_required
def videos():
    found = db.session.scalars(
        db.select(Video)
        .where(Video.user_id == current_user.id)
        .order_by(Video.created_at.desc(), Video.id)
        .limit(LIST_LIMIT)
    ).all()
    return render_template("videos.html", videos=[video_json(v) for v in found])
