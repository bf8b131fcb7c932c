"""`/api/openapi.json` stays true: every route documented, nothing documented that isn't a route, real answers fit."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator

from tests.unit.conftest import upload

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def spec(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json


def routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule == "/healthz":
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            found |= {(path, method.lower()) for method in rule.methods - IGNORED_METHODS}
    return found


def documented(spec) -> set[tuple[str, str]]:
    return {(path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"}


def test_every_route_is_documented_and_nothing_else(app, spec):
    assert spec["openapi"].startswith("3.1")
    assert routes(app) == documented(spec)


def test_every_schema_is_valid_json_schema(spec):
    for schema in spec["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def check(spec, path: str, method: str, response) -> None:
    """The answer has a status the document lists for that call, and its JSON fits the schema given."""
    answers = spec["paths"][path][method]["responses"]
    assert str(response.status_code) in answers, (path, method, response.status_code)
    answer = answers[str(response.status_code)]
    if "$ref" in answer:
        answer = spec["components"]["responses"][answer["$ref"].rsplit("/", 1)[-1]]
    content = answer.get("content", {})
    if response.status_code == 204:
        assert not content and not response.data
        return
    assert response.mimetype in content, (path, method, response.mimetype)
    if response.mimetype == "application/json":
        schema = {**content["application/json"]["schema"], "components": spec["components"]}
        Draft202012Validator(schema).validate(response.json)


def test_real_answers_fit_the_document(app, client, auth, run_jobs, clips, spec):
    clip = clips("c320x240", width=320, height=240, seconds=1)
    first = upload(client, {**auth, "Idempotency-Key": "k1"}, clip)
    check(spec, "/api/videos", "post", first)
    check(spec, "/api/videos", "post", upload(client, {**auth, "Idempotency-Key": "k1"}, clip))
    video = f"/api/videos/{first.json['id']}"
    run_jobs()
    check(spec, "/api/videos/{video_id}", "get", client.get(video, headers=auth))
    check(spec, "/api/videos", "get", client.get("/api/videos", headers=auth))
    check(spec, "/api/videos/{video_id}/cancel", "post", client.post(f"{video}/cancel", headers=auth))  # 409: ready
    second = upload(client, auth, clip).json["id"]
    check(spec, "/api/videos/{video_id}/cancel", "post", client.post(f"/api/videos/{second}/cancel", headers=auth))
    check(spec, "/api/videos/{video_id}/events", "get", client.get(f"/api/videos/{second}/events", headers=auth))
    check(spec, "/api/videos/{video_id}", "delete", client.delete(video, headers=auth))
    check(spec, "/api/videos/{video_id}", "get", client.get(video, headers=auth))  # 404
    check(spec, "/api/videos", "get", client.get("/api/videos"))  # 401
    check(spec, "/api/videos", "get", client.get("/api/videos?limit=0", headers=auth))  # 400
    check(spec, "/api/videos", "post", client.post("/api/videos", headers=auth, data=b"x", content_type="text/plain"))
    check(spec, "/api/uploads", "post", client.post("/api/uploads", headers=auth))  # 400: local storage
    check(spec, "/api/account", "get", client.get("/api/account", headers=auth))
    check(spec, "/api/account", "patch", client.patch("/api/account", headers=auth, json={"email": "a@example.com"}))
    check(spec, "/api/account", "patch", client.patch("/api/account", headers=auth, json={"nope": 1}))
    check(spec, "/api/account/webhook-secret", "post", client.post("/api/account/webhook-secret", headers=auth))
    check(spec, "/healthz", "get", client.get("/healthz"))
    app.config["UPLOAD_RATE_LIMIT"] = "1/hour"
    upload(client, auth, clip)
    limited = upload(client, auth, clip)
    assert limited.status_code == 429
    check(spec, "/api/videos", "post", limited)


def test_caption_answers_fit_the_document(app, client, auth, run_jobs, clips, spec):
    import io

    made = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1)).json["id"]
    path = f"/api/videos/{made}/captions"

    def add(data: bytes, filename: str = "c.vtt", language: str = "en"):
        form = {"file": (io.BytesIO(data), filename), "language": language}
        return client.post(path, headers=auth, data=form, content_type="multipart/form-data")

    good = b"WEBVTT\n\n00:00:00.000 --> 00:00:00.500\nHi\n"
    check(spec, "/api/videos/{video_id}/captions", "post", add(good))  # 409: length not known yet
    run_jobs()
    check(spec, "/api/videos/{video_id}/captions", "post", add(good))  # 201
    check(spec, "/api/videos/{video_id}/captions", "post", add(b"WEBVTT\n\nnope\n"))  # 400
    check(spec, "/api/videos/{video_id}/captions", "post", add(good, "c.doc"))  # 415
    app.config["MAX_CAPTION_KB"] = 1
    check(spec, "/api/videos/{video_id}/captions", "post", add(good * 50))  # 413
    check(spec, "/api/videos/{video_id}/captions", "get", client.get(path, headers=auth))
    check(spec, "/api/videos/{video_id}", "get", client.get(f"/api/videos/{made}", headers=auth))
    check(spec, "/api/videos/{video_id}/captions/{language}", "delete", client.delete(f"{path}/en", headers=auth))
    check(spec, "/api/videos/{video_id}/captions/{language}", "delete", client.delete(f"{path}/en", headers=auth))


def test_search_rename_and_retry_answers_fit_the_document(app, client, auth, run_jobs, clips, spec, monkeypatch):
    from app.domain import conversion

    def storage_away(*args, **kwargs):
        raise OSError("storage unreachable")

    app.config["JOB_RETRIES"] = 0
    made = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1)).json["id"]
    video = f"/api/videos/{made}"
    check(spec, "/api/videos/{video_id}", "get", client.get(video, headers=auth))  # codecs null: not probed
    check(spec, "/api/videos/{video_id}/retry", "post", client.post(f"{video}/retry", headers=auth))  # 409
    with monkeypatch.context() as patched:
        patched.setattr(conversion, "convert_whole", storage_away)
        run_jobs()
    check(spec, "/api/videos/{video_id}", "get", client.get(video, headers=auth))  # failed, can_retry
    check(spec, "/api/videos/{video_id}/retry", "post", client.post(f"{video}/retry", headers=auth))  # 202
    run_jobs()
    check(spec, "/api/videos", "get", client.get("/api/videos?q=c320&limit=1", headers=auth))  # codecs known
    check(spec, "/api/videos", "get", client.get("/api/videos?q=" + "x" * 201, headers=auth))  # 400
    check(spec, "/api/videos/{video_id}", "patch", client.patch(video, headers=auth, json={"title": "New"}))
    check(spec, "/api/videos/{video_id}", "patch", client.patch(video, headers=auth, json={"state": "ready"}))  # 400
    check(spec, "/api/videos/{video_id}", "patch", client.patch("/api/videos/nope1234", headers=auth, json={}))  # 404
