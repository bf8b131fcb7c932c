"""Admins review videos the content check rejected, and release false positives."""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.domain import content
from app.pages.blueprint import blueprint


def admin_required(view):
    """Log in first (a redirect), then admins only (403)."""

    @wraps(view)
    @login_required
    def check(*args, **kwargs):
        if not current_user.is_admin:
            abort(403, "Reviewing rejected videos is for administrators.")
        return view(*args, **kwargs)

    return check


@blueprint.get("/review")
@admin_required
def review():
    return render_template("review.html", pending=content.pending_review(), released=content.recently_released())


@blueprint.post("/review/<video_id>/release")
@admin_required
def release(video_id: str):
    # CSRFProtect has checked the form's token before this runs
    try:
        video = content.release(video_id[:64], current_user)
    except content.NotRejected:
        flash("That video is not rejected any more; nothing was released.", "error")
        return redirect(url_for("pages.review"), 303)
    flash(f"Released “{video.title or video.id}”: it is being converted again and will be published.", "info")
    return redirect(url_for("pages.review"), 303)
