"""The HTTP contract, through Flask's test client on fakeredis."""

from __future__ import annotations

import io
import ipaddress

import pytest

from app.domain.models import Video
from app.extensions import db
from app.platform.storage import get_storage
from tests.unit.conftest import upload


def post(client, auth, data, **kw):
    return client.post("/api/videos", headers=auth, data=data, content_type="multipart/form-data", **kw)


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer nope", "Basic abc", "Bearer " + "x" * 300, "bearer \x00"]
)
def test_api_needs_a_valid_token(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/videos", headers=headers)
    assert response.status_code == 401
    assert "token" in response.json["error"]


def test_upload_answers_202_with_location_and_queued_video(client, auth, clips):
    response = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1), title="Holiday")
    assert response.status_code == 202
    body = response.json
    assert response.headers["Location"] == f"/api/videos/{body['id']}"
    assert body["state"] == "queued" and body["status"] == 0.0 and body["title"] == "Holiday"
    assert len(body["id"]) >= 20  # random, not sequential


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        ({}, 400, "`file` field is missing"),
        ({"file": (io.BytesIO(b""), "empty.mp4")}, 400, "empty"),
        ({"file": (io.BytesIO(b"just some text\n" * 50), "notes.mp4")}, 415, "not a video"),
        ({"file": (io.BytesIO(b"<html><script>alert(1)</script>"), "x.html")}, 415, "not a video"),
    ],
)
def test_bad_uploads_get_a_clear_4xx(client, auth, data, status, words):
    response = post(client, auth, data)
    assert response.status_code == status
    assert words in response.json["error"]
    assert db.session.scalar(db.select(db.func.count(Video.id))) == 0


def test_upload_must_be_multipart(client, auth):
    response = client.post("/api/videos", headers=auth, data="file=x", content_type="text/plain")
    assert response.status_code == 415
    direct = client.post("/api/videos", headers=auth, json={"upload_key": "x"})
    assert direct.status_code == 400 and "S3" in direct.json["error"]


def test_duplicated_fields_are_refused(client, auth, clips):
    clip = clips("c320x240", width=320, height=240, seconds=1).read_bytes()
    two_files = {"file": [(io.BytesIO(clip), "a.mp4"), (io.BytesIO(clip), "b.mp4")]}
    assert post(client, auth, two_files).status_code == 400
    two_titles = {"file": (io.BytesIO(clip), "a.mp4"), "title": ["a", "b"]}
    assert post(client, auth, two_titles).status_code == 400


def test_hostile_filename_and_title_are_kept_as_plain_text(client, auth, clips):
    clip = clips("c320x240", width=320, height=240, seconds=1).read_bytes()
    name = "passwd<img src=x onerror=alert(1)>.mp4"  # with folders or control characters: 400 (test_hostile_requests)
    response = post(client, auth, {"file": (io.BytesIO(clip), name), "title": "a\x1b[31mred"})
    assert response.status_code == 202
    assert response.json["filename"] == name
    assert response.json["title"] == "a[31mred"
    stored = get_storage().path(f"videos/{response.json['id']}/source")
    assert stored.read_bytes() == clip


def test_oversize_upload_is_413(app, client, auth):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    body = (
        b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mkv\"\r\n\r\n"
        + b"\x1a\x45\xdf\xa3"
        + b"0" * 2 * 1024 * 1024
        + b"\r\n--b--\r\n"
    )
    response = client.post("/api/videos", headers=auth, data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 413
    assert "larger than the limit" in response.json["error"]


def with_callback(client, auth, clips, url: str):
    """An upload of a small clip naming `url` as its callback."""
    clip = clips("c320x240", width=320, height=240, seconds=1).read_bytes()
    return post(client, auth, {"file": (io.BytesIO(clip), "a.mp4"), "callback_url": url})


def test_callback_url_must_be_http(client, auth, clips):
    response = with_callback(client, auth, clips, "file:///etc/passwd")
    assert response.status_code == 400 and "callback_url" in response.json["error"]


@pytest.mark.parametrize("url", ["http://10.0.0.5/hook", "https://[::1]/hook", "http://localhost:8000/x", "http://0x7f.1/"])
def test_an_uploads_callback_url_at_a_plainly_private_host_is_refused_at_once(client, auth, clips, url):
    """Never called (deliveries go to public addresses only): said now, not as a `refused` delivery later."""
    response = with_callback(client, auth, clips, url)
    assert response.status_code == 400 and "which is not a public address" in response.json["error"]
    assert client.get("/api/videos", headers=auth).json["videos"] == []


def test_an_uploads_callback_url_in_the_operators_allowed_networks_is_taken(app, client, auth, clips):
    app.config["CALLBACK_ALLOWED_NETWORKS"] = [ipaddress.ip_network("127.0.0.0/8")]  # trying callbacks locally
    response = with_callback(client, auth, clips, "http://127.0.0.1:9/in")
    assert response.status_code == 202


@pytest.mark.parametrize("url", ["https://example.com/a b", "https://example.com/a\r\nX-Evil: 1"])
def test_a_callback_url_with_a_space_or_line_break_is_refused_at_upload(client, auth, clips, url):
    response = with_callback(client, auth, clips, url)
    assert response.status_code == 400 and "line breaks or control characters" in response.json["error"]
    assert client.get("/api/videos", headers=auth).json["videos"] == []


def test_list_shows_own_videos_newest_first(client, auth, make_user, clips):
    clip = clips("c320x240", width=320, height=240, seconds=1)
    first = upload(client, auth, clip, title="first").json["id"]
    second = upload(client, auth, clip, title="second").json["id"]
    _, other_token = make_user("mallory")
    upload(client, {"Authorization": f"Bearer {other_token}"}, clip, title="theirs")
    listed = client.get("/api/videos", headers=auth).json["videos"]
    assert [v["id"] for v in listed] == [second, first]
    assert client.get("/api/videos?limit=0", headers=auth).status_code == 400


def test_list_finds_by_a_part_of_the_title_and_counts_every_match(client, auth, make_user, clips):
    clip = clips("c320x240", width=320, height=240, seconds=1)
    rome = upload(client, auth, clip, title="Holiday in ROME").json["id"]
    percent = upload(client, auth, clip, title="100% rome").json["id"]
    upload(client, auth, clip, title="Lisbon")
    _, other_token = make_user("mallory")
    upload(client, {"Authorization": f"Bearer {other_token}"}, clip, title="rome, theirs")

    found = client.get("/api/videos?q=Rome", headers=auth).json
    assert [v["id"] for v in found["videos"]] == [percent, rome] and found["total"] == 2
    assert [v["id"] for v in client.get("/api/videos?q=%25", headers=auth).json["videos"]] == [percent]
    assert client.get("/api/videos?q=_", headers=auth).json == {"videos": [], "total": 0}
    paged = client.get("/api/videos?limit=1&offset=1", headers=auth).json
    assert len(paged["videos"]) == 1 and paged["total"] == 3
    too_long = client.get("/api/videos?q=" + "x" * 201, headers=auth)
    assert too_long.status_code == 400 and "`q` is longer than 200 characters" in too_long.json["error"]


def test_another_users_video_is_a_404_everywhere(client, auth, make_user, clips):
    video_id = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1)).json["id"]
    _, other_token = make_user("mallory")
    other = {"Authorization": f"Bearer {other_token}"}
    assert client.get(f"/api/videos/{video_id}", headers=other).status_code == 404
    assert client.post(f"/api/videos/{video_id}/cancel", headers=other).status_code == 404
    assert client.delete(f"/api/videos/{video_id}", headers=other).status_code == 404
    assert client.get(f"/api/videos/{video_id}", headers=auth).json["state"] == "queued"


@pytest.mark.parametrize("bad_id", ["nope", "../../etc", "x" * 500, "%00abc", "1"])
def test_malformed_ids_are_404(client, auth, bad_id):
    response = client.get(f"/api/videos/{bad_id}", headers=auth)
    assert response.status_code == 404 and response.json["error"]


def test_cancel_then_cancel_again(client, auth, clips):
    video_id = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1)).json["id"]
    response = client.post(f"/api/videos/{video_id}/cancel", headers=auth)
    assert response.status_code == 202 and response.json["state"] == "cancelled"
    again = client.post(f"/api/videos/{video_id}/cancel", headers=auth)
    assert again.status_code == 409


def test_ready_video_json_and_download_links(client, auth, run_jobs, clips):
    video_id = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1)).json["id"]
    run_jobs()
    body = client.get(f"/api/videos/{video_id}", headers=auth).json
    assert body["state"] == "ready" and body["status"] == 1.0
    assert body["result_uri"].startswith("file://") and body["result_uri"].endswith("/240p.mp4")
    assert (body["width"], body["height"], body["duration"]) == (320, 240, pytest.approx(1.0, abs=0.1))
    largest = body["renditions"][-1]
    with client.get(largest["url"]) as whole:
        assert whole.status_code == 200 and whole.mimetype == "video/mp4" and len(whole.data) == largest["size"]
        assert whole.headers["Cache-Control"] == "private, max-age=3600", "someone's own video: no shared cache"
    with client.get(largest["url"], headers={"Range": "bytes=0-99"}) as part:
        assert part.status_code == 206 and len(part.data) == 100
    with client.get(body["poster_url"]) as poster:
        assert poster.data[:3] == b"\xff\xd8\xff"
        assert "public" not in poster.headers["Cache-Control"] and "private" in poster.headers["Cache-Control"]
    assert client.get(largest["url"][:-3] + "abc").status_code == 404


def test_delete_removes_files_and_record(client, auth, run_jobs, clips):
    video_id = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1)).json["id"]
    run_jobs()
    folder = get_storage().path(f"videos/{video_id}")
    assert folder.is_dir()
    assert client.delete(f"/api/videos/{video_id}", headers=auth).status_code == 204
    assert not folder.exists()
    assert client.get(f"/api/videos/{video_id}", headers=auth).status_code == 404


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "redis": "ok", "database": "ok"}


def test_direct_uploads_need_s3_storage(client, auth):
    response = client.post("/api/uploads", headers=auth)
    assert response.status_code == 400 and "S3" in response.json["error"]
