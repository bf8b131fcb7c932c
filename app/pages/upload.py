"""The upload page. With S3 storage the page sends files straight to the bucket."""

from __future__ import annotations

from flask import current_app, make_response, render_template
from flask_login import login_required

from app.pages.blueprint import blueprint
from app.pages.origins import connecting_to, upload_origin


@blueprint.get("/upload")
@login_required
def upload():
    """With S3 storage the page sends the file straight to the bucket (no web dyno, no 30 s limit)."""
    bucket = upload_origin()
    page = render_template("upload.html", max_upload_mb=current_app.config["MAX_UPLOAD_MB"], direct=bool(bucket))
    return connecting_to(make_response(page), bucket)
