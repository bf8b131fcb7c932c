"""Hostile requests: each answered with a 4xx and a JSON error, nothing written outside storage.

Also the two things that make retries and floods harmless: `Idempotency-Key` and per-user rate limits.
"""

from __future__ import annotations

import io

import pytest

from app.domain.models import Video
from app.extensions import db
from app.platform.queueing import get_queue
from app.platform.storage import get_storage
from tests.unit.conftest import upload


def post(client, auth, data, **kw):
    return client.post("/api/videos", headers=auth, data=data, content_type="multipart/form-data", **kw)


def files_outside_storage(root):
    return {p for p in root.rglob("*") if p.is_file() and "storage" not in p.relative_to(root).parts}


@pytest.fixture
def clip(clips):
    return clips("c320x240", width=320, height=240, seconds=1).read_bytes()


@pytest.fixture
def nothing_escapes(app, tmp_path):
    """After the test: no new file outside storage, no upload left half-staged."""
    before = files_outside_storage(tmp_path)
    yield
    assert {p for p in files_outside_storage(tmp_path) - before if not p.name.endswith("-journal")} == set()
    assert list(get_storage().staging.iterdir()) == []


def assert_json_error(response, status):
    assert response.status_code == status, response.data[:300]
    assert response.is_json and response.json["error"], response.data[:300]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("a\x00b.mp4", "NUL"),
        ("x" * 10_000 + ".mp4", "longer than 255"),
        ("/etc/passwd", "without folders"),
        ("../../../../tmp/evil.mp4", "without folders"),
        ("..", "not `.` or `..`"),
        ("clip\x1b[2J\x07.mp4", "control characters"),
        ("clip\u202e4pm.exe", "control characters"),
    ],
)
def test_filenames_that_are_not_a_bare_name_are_refused(client, auth, clip, nothing_escapes, name, words):
    response = post(client, auth, {"file": (io.BytesIO(clip), name)})
    assert_json_error(response, 400)
    assert words in response.json["error"]
    assert db.session.scalar(db.select(db.func.count(Video.id))) == 0


def test_a_filename_is_display_text_never_a_path(client, auth, clip, nothing_escapes):
    name = "<img src=x onerror=alert(1)> & co's clip.mp4"
    response = post(client, auth, {"file": (io.BytesIO(clip), name)})
    assert response.status_code == 202
    assert response.json["filename"] == name
    assert get_storage().path(f"videos/{response.json['id']}/source").read_bytes() == clip


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"file": "AAAA"}'),
        ("text/plain", b"hello"),
        ("application/x-www-form-urlencoded", b"file=AAAA&title=x"),
        ("application/octet-stream", b"\x1a\x45\xdf\xa3" + b"\0" * 100),
        ("multipart/form-data", b"--x\r\n\r\n--x--\r\n"),  # no boundary
        ("multipart/form-data; boundary=x", b"garbage without any boundary"),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"),
    ],
)
def test_wrong_or_broken_bodies_are_a_4xx(client, auth, nothing_escapes, content_type, body):
    response = client.post("/api/videos", headers=auth, data=body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert response.is_json and response.json["error"]
    assert db.session.scalar(db.select(db.func.count(Video.id))) == 0


@pytest.mark.parametrize(
    ("fields", "with_file", "status", "words"),
    [
        ({"title": "no file here"}, False, 400, "`file` field is missing"),
        ({"file": "a plain text field, not a file"}, False, 400, "`file` field is missing"),
        ({"callback_url": ["http://a.example/", "http://b.example/"]}, True, 400, "Send `callback_url` once"),
        ({"title": "t" * 201}, True, 400, "longer than 200"),
        ({f"field{i}": "x" for i in range(30)}, True, 413, "too many parts"),
        ({"callback_url": "http://" + "a" * 3000 + ".example/"}, True, 400, "longer than 2048"),
    ],
)
def test_missing_duplicated_and_huge_fields_are_a_4xx(client, auth, clip, nothing_escapes, fields, with_file, status,
                                                      words):
    data = {"file": (io.BytesIO(clip), "a.mp4"), **fields} if with_file else fields
    response = post(client, auth, data)
    assert_json_error(response, status)
    assert words in response.json["error"]
    assert db.session.scalar(db.select(db.func.count(Video.id))) == 0


def test_a_huge_form_field_is_a_413(client, auth, clip, nothing_escapes):
    # built by hand: the test client would spool a body this big to a file it never closes
    body = (
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\n' + b"t" * (600 * 1024)
        + b'\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n' + clip + b"\r\n--b--\r\n"
    )
    response = client.post("/api/videos", headers=auth, data=body, content_type="multipart/form-data; boundary=b")
    assert_json_error(response, 413)
    assert "too large" in response.json["error"]
    assert db.session.scalar(db.select(db.func.count(Video.id))) == 0


@pytest.mark.parametrize("bad_id", ["%2e%2e%2fusers", "a" * 33, "ünïcödé-id-123", "x y z 1234", "-" * 8 + "%00", "."])
@pytest.mark.parametrize(("method", "suffix"), [("GET", ""), ("POST", "/cancel"), ("DELETE", "")])
def test_malformed_ids_are_a_404_on_every_route(client, auth, bad_id, method, suffix):
    response = client.open(f"/api/videos/{bad_id}{suffix}", method=method, headers=auth)
    assert_json_error(response, 404)


@pytest.mark.parametrize(
    "header",
    ["Bearer a b c", "Bearer\ttoken", "Token abc", "Bearer " + "é" * 20, "Bearer %00", "bearer  ",
     "Bearer " + "A" * 257],
)
def test_malformed_tokens_are_a_401(client, header):
    for method, path in [("GET", "/api/videos"), ("POST", "/api/videos"), ("GET", "/api/videos/abcdefghijkl")]:
        response = client.open(path, method=method, headers={"Authorization": header})
        assert_json_error(response, 401)


def test_a_valid_token_with_junk_after_it_is_refused(client, token):
    response = client.get("/api/videos", headers={"Authorization": f"Bearer {token}x"})
    assert_json_error(response, 401)


# Idempotency-Key


def test_a_retry_with_the_same_key_returns_the_same_video_and_stores_nothing_twice(app, client, auth, clips):
    path = clips("c320x240", width=320, height=240, seconds=1)
    first = upload(client, {**auth, "Idempotency-Key": "7f1c0e1e-upload-1"}, path, title="Once")
    again = upload(client, {**auth, "Idempotency-Key": "7f1c0e1e-upload-1"}, path, title="Once")
    assert first.status_code == 202 and again.status_code == 200
    assert again.json["id"] == first.json["id"] and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(db.select(db.func.count(Video.id))) == 1
    assert [p.name for p in get_storage().path("videos").iterdir()] == [first.json["id"]]
    assert get_queue().count == 1
    other = upload(client, {**auth, "Idempotency-Key": "7f1c0e1e-upload-2"}, path)
    assert other.status_code == 202 and other.json["id"] != first.json["id"]


def test_keys_belong_to_one_user(client, auth, make_user, clips):
    path = clips("c320x240", width=320, height=240, seconds=1)
    _, other_token = make_user("mallory")
    mine = upload(client, {**auth, "Idempotency-Key": "same-key"}, path)
    theirs = upload(client, {"Authorization": f"Bearer {other_token}", "Idempotency-Key": "same-key"}, path)
    assert mine.status_code == theirs.status_code == 202
    assert mine.json["id"] != theirs.json["id"]


def test_a_refused_upload_leaves_its_key_free(client, auth, clip):
    headers = {**auth, "Idempotency-Key": "retry-after-fixing"}
    assert post(client, headers, {"file": (io.BytesIO(b"not a video" * 10), "a.mp4")}).status_code == 415
    assert post(client, headers, {"file": (io.BytesIO(clip), "a.mp4")}).status_code == 202


@pytest.mark.parametrize("key", ["", " ", "k" * 129, "two words", "ключ", "tab\there"])
def test_bad_idempotency_keys_are_a_400(client, auth, clip, key):
    response = post(client, {**auth, "Idempotency-Key": key}, {"file": (io.BytesIO(clip), "a.mp4")})
    assert_json_error(response, 400)
    assert "Idempotency-Key" in response.json["error"]


# Rate limits


def test_uploads_are_limited_per_user_not_per_address(app, client, auth, make_user, clips):
    app.config["UPLOAD_RATE_LIMIT"] = "2/hour"
    path = clips("c320x240", width=320, height=240, seconds=1)
    assert upload(client, auth, path).status_code == 202
    assert upload(client, auth, path).status_code == 202
    with open(path, "rb") as handle:  # the same user from another address
        third = client.post("/api/videos", headers=auth, data={"file": (handle, "c.mp4")},
                            content_type="multipart/form-data", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert_json_error(third, 429)
    assert "2 per 1 hour" in third.json["error"]
    assert int(third.headers["Retry-After"]) > 0
    assert db.session.scalar(db.select(db.func.count(Video.id))) == 2
    _, other_token = make_user("bob")
    assert upload(client, {"Authorization": f"Bearer {other_token}"}, path).status_code == 202
    assert client.get("/api/videos", headers=auth).status_code == 200  # reading is not limited


def test_no_limit_when_the_setting_is_empty(app, client, auth, clips):
    app.config["UPLOAD_RATE_LIMIT"] = ""
    path = clips("c320x240", width=320, height=240, seconds=1)
    assert all(upload(client, auth, path).status_code == 202 for _ in range(4))
