"""`GET /api/openapi.json`: the API described in OpenAPI 3.1, written by hand and kept true by the tests."""

from __future__ import annotations

from flask import jsonify

from app.api.blueprint import blueprint


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict | str, description: str, headers: dict | None = None) -> dict:
    body = {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema) if isinstance(schema, str) else schema}},
    }
    if headers:
        body["headers"] = headers
    return body


ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "503": {"$ref": "#/components/responses/Unavailable"},
}
NOT_FOUND = {"404": {"$ref": "#/components/responses/NotFound"}}
VIDEO_ID = {
    "name": "video_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The video's id (22 URL-safe characters); anything else is a 404.",
}
LOCATION = {"Location": {"schema": {"type": "string"}, "description": "`/api/videos/<id>`"}}
NULLABLE_STRING = {"type": ["string", "null"]}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string", "minLength": 1}},
    },
    "Rendition": {
        "type": "object",
        "required": ["name", "width", "height", "size", "url"],
        "properties": {
            "name": {"type": "string", "examples": ["720p"]},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "size": {"type": "integer"},
            "url": {"type": "string", "description": "A signed download link that expires"},
        },
    },
    "DeliveryAttempt": {
        "type": "object",
        "required": ["at", "error"],
        "properties": {
            "at": NULLABLE_STRING,
            "http_status": {"type": ["integer", "null"]},
            "smtp_code": {"type": ["integer", "null"]},
            "error": NULLABLE_STRING,
        },
    },
    "Delivery": {
        "type": "object",
        "required": ["id", "kind", "event", "target", "status", "attempt_count", "attempts", "next_attempt_at"],
        "properties": {
            "id": {"type": "string"},
            "kind": {"enum": ["callback", "email"]},
            "event": {"type": "string", "examples": ["video.ready"]},
            "target": {"type": "string"},
            "status": {"enum": ["pending", "delivered", "failed", "refused"]},
            "attempt_count": {"type": "integer"},
            "attempts": {"type": "array", "items": _ref("DeliveryAttempt")},
            "next_attempt_at": NULLABLE_STRING,
        },
    },
    "Video": {
        "type": "object",
        "required": [
            "id",
            "title",
            "filename",
            "state",
            "status",
            "created_at",
            "duration",
            "width",
            "height",
            "playable",
            "playback_url",
            "renditions",
            "poster_url",
            "storyboard_url",
            "normalize_loudness",
            "notes",
            "captions",
            "size",
            "codecs",
            "can_retry",
        ],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "filename": {"type": "string"},
            "state": {"enum": ["queued", "processing", "ready", "failed", "rejected", "cancelled"]},
            "status": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "Fraction done; only grows; 1.0 exactly when `ready`",
            },
            "created_at": {"type": "string", "examples": ["2026-11-23T19:11:01Z"]},
            "duration": {"type": ["number", "null"]},
            "width": {"type": ["integer", "null"]},
            "height": {"type": ["integer", "null"]},
            "size": {"type": "integer", "minimum": 0, "description": "The upload's size in bytes"},
            "codecs": {
                "oneOf": [{"type": "null"}, _ref("Codecs")],
                "description": "The upload's codecs, once the worker probed it; null before",
            },
            "can_retry": {
                "type": "boolean",
                "description": "Failed, and not because of the file (its attempts ran out: a worker lost, a "
                "timeout, storage away): POST /api/videos/{video_id}/retry converts it again",
            },
            "playable": {
                "type": "boolean",
                "description": "The stream can be watched: true while processing once every rung has segments",
            },
            "playback_url": {
                "type": ["string", "null"],
                "description": "The HLS master playlist, signed and expiring (once playable)",
            },
            "renditions": {"type": "array", "items": _ref("Rendition")},
            "poster_url": NULLABLE_STRING,
            "storyboard_url": {
                "type": ["string", "null"],
                "description": "WebVTT cues of seek-preview thumbnails (`sprite.jpg#xywh=...`), at ready",
            },
            "normalize_loudness": {"type": "boolean", "description": "The sound is brought to -16 LUFS (EBU R128)"},
            "notes": {
                "type": "array",
                "items": {"type": "string"},
                "description": "What of the upload was left out, and why (a bitmap subtitle track, say)",
            },
            "captions": {
                "type": "array",
                "items": _ref("Caption"),
                "description": "Text subtitle tracks of the upload and caption files added to it, as WebVTT",
            },
            "result_uri": {"type": ["string", "null"], "description": "Storage URI of the largest rendition (ready)"},
            "error": {"type": "string", "description": "Why it failed or was rejected"},
            "deliveries": {"type": "array", "items": _ref("Delivery")},
        },
    },
    "Codecs": {
        "type": "object",
        "required": ["video", "audio"],
        "properties": {
            "video": {"type": "string", "description": "As ffprobe names it", "examples": ["h264", "hevc"]},
            "audio": {"type": ["string", "null"], "description": "null: the upload has no sound", "examples": ["aac"]},
        },
    },
    "Caption": {
        "type": "object",
        "required": ["id", "language", "label", "source", "default", "forced", "cues", "url"],
        "properties": {
            "id": {"type": "integer"},
            "language": {
                "type": ["string", "null"],
                "description": "BCP 47 tag (`en`, `pt-BR`); null for a track of the upload that names none",
                "examples": ["pt-BR"],
            },
            "label": {"type": "string", "description": "What players show; the language tag unless one was given"},
            "source": {
                "enum": ["upload", "file"],
                "description": "`upload`: a caption file added through the API or the page; `file`: a text "
                "subtitle track of the uploaded video",
            },
            "default": {"type": "boolean", "description": "Shown unless the viewer turns it off"},
            "forced": {"type": "boolean"},
            "cues": {"type": "integer", "minimum": 1},
            "url": {
                "type": ["string", "null"],
                "description": "The WebVTT, signed and expiring, once the video is playable; it is also in the "
                "master playlist's subtitle group",
            },
        },
    },
    "CaptionList": {
        "type": "object",
        "required": ["captions"],
        "properties": {"captions": {"type": "array", "items": _ref("Caption")}},
    },
    "VideoList": {
        "type": "object",
        "required": ["videos", "total"],
        "properties": {
            "videos": {"type": "array", "items": _ref("Video")},
            "total": {"type": "integer", "minimum": 0, "description": "How many videos match, on every page"},
        },
    },
    "Account": {
        "type": "object",
        "required": ["username", "email", "webhook_secret", "callback_url"],
        "properties": {
            "username": {"type": "string"},
            "email": NULLABLE_STRING,
            "webhook_secret": {"type": "string"},
            "callback_url": NULLABLE_STRING,
        },
    },
    "AccountChanges": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"callback_url": NULLABLE_STRING, "email": NULLABLE_STRING},
    },
    "VideoChanges": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "title": {
                "type": ["string", "null"],
                "maxLength": 200,
                "description": "Control characters are dropped; empty or null: the file's name without its extension",
            },
        },
    },
    "DirectUpload": {
        "type": "object",
        "required": ["upload_key", "url", "fields", "expires_in", "max_bytes"],
        "properties": {
            "upload_key": {"type": "string"},
            "url": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            "expires_in": {"type": "integer"},
            "max_bytes": {"type": "integer"},
        },
    },
    "UploadedVideo": {
        "type": "object",
        "required": ["upload_key"],
        "properties": {
            "upload_key": {"type": "string"},
            "filename": {"type": "string"},
            "title": {"type": "string"},
            "callback_url": {"type": "string"},
            "normalize_loudness": {"type": "boolean"},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "redis", "database"],
        "properties": {
            "status": {"enum": ["ok", "unavailable"]},
            "redis": {"enum": ["ok", "unavailable"]},
            "database": {"enum": ["ok", "unavailable"]},
        },
    },
}

PATHS = {
    "/api/videos": {
        "post": {
            "summary": "Upload a video to convert",
            "description": "The file is checked at once (empty, not a video: 4xx); the media limits are applied "
            "by the worker, which ends the video `failed` with a reason. Rate limited per user "
            "(`UPLOAD_RATE_LIMIT`). With S3 storage, send JSON with the `upload_key` of a direct upload.",
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "pattern": "^[!-~]{1,128}$"},
                    "description": "A retry with the same key returns the first video (200) instead of a second one",
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                                "title": {"type": "string", "maxLength": 200},
                                "callback_url": {"type": "string", "maxLength": 2048},
                                "normalize_loudness": {
                                    "enum": ["true", "false", "1", "0", "on", "off", "yes", "no"],
                                    "description": "Bring the sound to EBU R128 loudness (-16 LUFS); off by default",
                                },
                            },
                        },
                    },
                    "application/json": {"schema": _ref("UploadedVideo")},
                },
            },
            "responses": {
                "202": _json("Video", "Stored and queued", LOCATION),
                "200": _json(
                    "Video", "A retry with the same Idempotency-Key: the video the first attempt made", LOCATION
                ),
                "413": {"$ref": "#/components/responses/TooLarge"},
                "415": {"$ref": "#/components/responses/NotAVideo"},
                "429": {"$ref": "#/components/responses/TooMany"},
                **ERRORS,
            },
        },
        "get": {
            "summary": "Your videos, newest first",
            "description": "With `q`, only those whose title contains it (any case; `%` and `_` are plain "
            "characters). `total` counts every match, whatever `limit` and `offset` say.",
            "parameters": [
                {
                    "name": "q",
                    "in": "query",
                    "schema": {"type": "string", "maxLength": 200},
                    "description": "A part of the title to look for; blank lists every video",
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                },
                {
                    "name": "offset",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "maximum": 1000000, "default": 0},
                },
            ],
            "responses": {"200": _json("VideoList", "Your videos"), **ERRORS},
        },
    },
    "/api/videos/{video_id}": {
        "parameters": [VIDEO_ID],
        "get": {
            "summary": "One of your videos",
            "responses": {"200": _json("Video", "The video"), **NOT_FOUND, **ERRORS},
        },
        "patch": {
            "summary": "Rename a video",
            "description": "Only `title` can be changed; any other field is a 400. Pages watching the video "
            "(GET /api/videos/{video_id}/events) get the new title at once.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("VideoChanges")}}},
            "responses": {"200": _json("Video", "Renamed"), **NOT_FOUND, **ERRORS},
        },
        "delete": {
            "summary": "Delete a video and its files",
            "responses": {"204": {"description": "Deleted"}, **NOT_FOUND, **ERRORS},
        },
    },
    "/api/videos/{video_id}/cancel": {
        "parameters": [VIDEO_ID],
        "post": {
            "summary": "Cancel a queued or running conversion",
            "responses": {
                "202": _json("Video", "Cancelled"),
                "409": _json("Error", "Already final"),
                **NOT_FOUND,
                **ERRORS,
            },
        },
    },
    "/api/videos/{video_id}/retry": {
        "parameters": [VIDEO_ID],
        "post": {
            "summary": "Convert a failed video again",
            "description": "Only when `can_retry`: it failed after its attempts ran out (a worker lost, a "
            "timeout, storage away). A failure of the file itself (damaged, over a limit on work) would fail "
            "the same way: a 409 that says why. Queued afresh, held like an upload while you have "
            "`MAX_ACTIVE_CONVERSIONS` under way.",
            "responses": {
                "202": _json("Video", "Queued again"),
                "409": _json("Error", "Not failed, or failed because of the file: the message says why"),
                **NOT_FOUND,
                **ERRORS,
            },
        },
    },
    "/api/videos/{video_id}/events": {
        "parameters": [VIDEO_ID],
        "get": {
            "summary": "Live changes of a video",
            "description": "Server-sent events: the video JSON on every change; the stream ends after a final state.",
            "responses": {
                "200": {
                    "description": "An event stream",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                **NOT_FOUND,
                **ERRORS,
            },
        },
    },
    "/api/videos/{video_id}/captions": {
        "parameters": [VIDEO_ID],
        "get": {
            "summary": "The video's captions",
            "responses": {"200": _json("CaptionList", "Its captions"), **NOT_FOUND, **ERRORS},
        },
        "post": {
            "summary": "Add a caption file (WebVTT or SRT) to the video",
            "description": "The file is read into cues and checked: UTF-8 (a BOM is fine), every timing valid and "
            "ending by the video's end (+1 s), at most `MAX_CAPTION_CUES` cues and `MAX_CAPTION_KB` KB. SRT is "
            "converted to WebVTT; cue text keeps only WebVTT's own tags, anything else is shown as text. A file "
            "in a language the video has one in already replaces it. The video must be queued with its length "
            "known, processing or ready; on a ready video it is in the master playlist at once.",
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file", "language"],
                            "properties": {
                                "file": {
                                    "type": "string",
                                    "contentMediaType": "text/vtt",
                                    "description": "A `.vtt` or `.srt` file",
                                },
                                "language": {"type": "string", "maxLength": 35, "examples": ["en", "pt-BR"]},
                                "label": {"type": "string", "maxLength": 80, "examples": ["English (SDH)"]},
                            },
                        },
                    },
                },
            },
            "responses": {
                "201": _json("Caption", "Added", LOCATION),
                "409": _json("Error", "The video takes no captions now (failed, or its length not known yet)"),
                "413": _json("Error", "Over `MAX_CAPTION_KB`"),
                "415": _json("Error", "Not a .vtt or .srt file, or not multipart/form-data"),
                **NOT_FOUND,
                **ERRORS,
            },
        },
    },
    "/api/videos/{video_id}/captions/{language}": {
        "parameters": [
            VIDEO_ID,
            {
                "name": "language",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "The caption file's language tag (any case)",
            },
        ],
        "delete": {
            "summary": "Delete the caption file added in that language",
            "responses": {"204": {"description": "Deleted, with its files"}, **NOT_FOUND, **ERRORS},
        },
    },
    "/api/uploads": {
        "post": {
            "summary": "A presigned form to upload a file straight to the bucket (S3 storage only)",
            "responses": {"201": _json("DirectUpload", "Post the file to `url` with `fields`"), **ERRORS},
        },
    },
    "/api/account": {
        "get": {"summary": "Your account", "responses": {"200": _json("Account", "Your account"), **ERRORS}},
        "patch": {
            "summary": "Change where notifications go",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("AccountChanges")}}},
            "responses": {"200": _json("Account", "Changed"), **ERRORS},
        },
    },
    "/api/account/webhook-secret": {
        "post": {
            "summary": "A new secret for signing callbacks",
            "responses": {"200": _json("Account", "The account with its new secret"), **ERRORS},
        },
    },
    "/api/openapi.json": {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}
            },
        },
    },
    "/healthz": {
        "get": {
            "summary": "Whether Redis and the database answer",
            "security": [],
            "responses": {"200": _json("Health", "Both answer"), "503": _json("Health", "One does not")},
        },
    },
}


def _error(description: str, headers: dict | None = None) -> dict:
    return _json("Error", description, headers)


SPEC = {
    "openapi": "3.1.0",
    "info": {
        "title": "Conveyor",
        "version": "1",
        "description": 'Video conversion. Errors are a 4xx (or 503) with `{"error": "<what to do>"}`, never a 500.',
    },
    "security": [{"bearer": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "The API token `flask users create` prints"}
        },
        "schemas": SCHEMAS,
        "responses": {
            "BadRequest": _error("The request is wrong; the message says how"),
            "Unauthorized": _error("No valid `Authorization: Bearer <token>`"),
            "NotFound": _error("No such video of yours"),
            "TooLarge": _error("The upload or a form field is too large"),
            "NotAVideo": _error("Not a kind of file Conveyor accepts, or not multipart/form-data"),
            "TooMany": _error(
                "Over `UPLOAD_RATE_LIMIT`",
                {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
            ),
            "Unavailable": _error("Redis or the database is down; try again in a minute"),
        },
    },
}


@blueprint.get("/openapi.json")
def openapi():
    return jsonify(SPEC)
