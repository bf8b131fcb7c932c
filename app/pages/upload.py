"""The upload page. With S3 storage the page sends files straight to the bucket.

The page refuses, before sending anything, a file that is too large or of a kind the service can't
read (app/domain/formats.py: from the server's own list, so the two can't drift apart).
"""

from __future__ import annotations

from flask import current_app, make_response, render_template
from flask_login import login_required

from app.domain.formats import ACCEPTED, accepted_files
from app.pages.blueprint import blueprint
from app.pages.origins import connecting_to, upload_origin


@blueprint.get("/upload")
@login_required
def upload():
    """With S3 storage the page sends the files straight to the bucket (no web dyno, no 30 s limit)."""
    bucket = upload_origin()
    extensions, types = accepted_files()
    page = render_template(
        "upload.html",
        max_upload_mb=current_app.config["MAX_UPLOAD_MB"],
        direct=bool(bucket),
        extensions=extensions,
        media_types=types,
        accepted_kinds=ACCEPTED,
    )
    return connecting_to(make_response(page), bucket)
