"""Direct uploads: with S3 storage, clients send the file straight to the bucket.

`POST /api/uploads` hands out a presigned form; the client posts the file to the bucket, then
creates the video with `POST /api/videos` and `{"upload_key": ...}`. Large files never pass
through a web dyno, so the platform's 30 s request limit does not matter.
"""

from __future__ import annotations

import secrets

from flask import current_app, jsonify

from app.api.blueprint import blueprint
from app.auth import current_user, token_required
from app.domain import ingest

UPLOAD_TTL = 3600


@blueprint.post("/uploads")
@token_required
def new_upload():
    storage = ingest.direct_upload_storage()
    key = f"uploads/{current_user().id}/{secrets.token_urlsafe(24)}"
    max_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    form = storage.presigned_upload(key, max_bytes, UPLOAD_TTL)
    return jsonify(upload_key=key, url=form["url"], fields=form["fields"], expires_in=UPLOAD_TTL,
                   max_bytes=max_bytes), 201
