"""The content check: blocklisted pictures keep a video from being published; admins review and release."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pytest

from app.config import parse_match_distance
from app.domain.content import REJECTED_MESSAGE
from app.domain.models import BlocklistEntry, ContentMatch, Video
from app.extensions import db
from app.platform.storage import get_storage
from media import fingerprint
from tests.blocked import content_media  # noqa: F401  (a fixture)
from tests.unit.conftest import upload
from tests.unit.test_pages import log_in


def blocklist(app, *args: str):
    return app.test_cli_runner().invoke(args=["blocklist", *args])


@dataclass(frozen=True)
class Listed:
    id: int
    hash: str  # its one hash, as 64 hex digits


@pytest.fixture
def listed(app, content_media) -> Listed:  # noqa: F811
    """The picture on the blocklist (read now: the requests the test makes end the session it came from)."""
    result = blocklist(app, "add", str(content_media.picture), "--note", "known bad picture #1")
    assert result.exit_code == 0, result.output
    entry = db.session.scalars(db.select(BlocklistEntry)).one()
    return Listed(entry.id, entry.hashes[0].hash)


def convert(client, auth, run_jobs, path) -> dict:
    response = upload(client, auth, path)
    assert response.status_code == 202, response.json
    run_jobs()
    return client.get(f"/api/videos/{response.json['id']}", headers=auth).json


def stored_files(video_id: str) -> list[str]:
    folder = get_storage().path(f"videos/{video_id}/source").parent
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_two_seconds_of_a_blocklisted_picture_get_the_video_rejected_with_nothing_published(
    app, client, auth, run_jobs, content_media, listed  # noqa: F811
):
    body = convert(client, auth, run_jobs, content_media.with_picture)
    assert body["state"] == "rejected"
    assert body["error"] == REJECTED_MESSAGE == "This video can't be published."
    assert body["renditions"] == [] and body["poster_url"] is None and "result_uri" not in body
    assert "/media/" not in json.dumps(body)
    assert stored_files(body["id"]) == ["source"]  # no rendition, no poster, ever written to storage
    # the uploader learns nothing about what matched
    text = json.dumps(body)
    assert "known bad" not in text and listed.hash not in text and "distance" not in text
    # admins do: the entry, how close, where in the video
    match = db.session.scalars(db.select(ContentMatch).filter_by(video_id=body["id"])).one()
    assert match.entry_id == listed.id and match.entry_hash == listed.hash
    assert match.distance <= app.config["CONTENT_MATCH_DISTANCE"]
    assert 2.0 <= match.at_seconds < 4.0  # the picture is on screen from 2 s to 4 s
    assert not match.mirrored and match.matched_at is not None


def test_the_same_clip_without_those_two_seconds_becomes_ready(
    client, auth, run_jobs, content_media, listed  # noqa: F811
):
    body = convert(client, auth, run_jobs, content_media.without_picture)
    assert body["state"] == "ready" and body["renditions"] and body["poster_url"]
    assert db.session.scalars(db.select(ContentMatch)).all() == []


@pytest.mark.parametrize("variant", ["trimmed", "mirrored"])
def test_trimmed_and_mirrored_copies_are_rejected_too(client, auth, run_jobs, content_media, listed, variant):  # noqa: F811
    body = convert(client, auth, run_jobs, getattr(content_media, variant))
    assert body["state"] == "rejected" and body["renditions"] == []
    match = db.session.scalars(db.select(ContentMatch).filter_by(video_id=body["id"])).one()
    assert match.mirrored is (variant == "mirrored")


def test_twenty_unrelated_clips_raise_no_match(app, client, auth, run_jobs, content_media, listed):  # noqa: F811
    clips = content_media.unrelated()
    assert len(clips) == 20
    ids = [upload(client, auth, path).json["id"] for path in clips]
    run_jobs()
    states = {path.name: db.session.get(Video, video_id).state for path, video_id in zip(clips, ids, strict=True)}
    assert set(states.values()) == {"ready"}, states
    assert db.session.scalars(db.select(ContentMatch)).all() == []
    # and not narrowly: every frame is far from the listed hash, as unrelated pictures should be
    listed_words = fingerprint.from_hex(listed.hash)[None, :]
    closest = min(fingerprint.closest(fingerprint.hash_media(p), listed_words).distance for p in clips)
    assert closest > 2 * app.config["CONTENT_MATCH_DISTANCE"]


def test_with_the_check_off_or_the_blocklist_empty_nothing_is_rejected(
    app, client, auth, run_jobs, content_media  # noqa: F811
):
    assert convert(client, auth, run_jobs, content_media.with_picture)["state"] == "ready"  # nothing listed
    assert blocklist(app, "add", str(content_media.picture)).exit_code == 0
    app.config["CONTENT_CHECK"] = False
    assert convert(client, auth, run_jobs, content_media.with_picture)["state"] == "ready"


# the review page


@pytest.fixture
def rejected(app, client, auth, run_jobs, content_media, listed) -> str:  # noqa: F811
    body = convert(client, auth, run_jobs, content_media.with_picture)
    assert body["state"] == "rejected"
    return body["id"]


def page_csrf(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def test_review_is_for_admins_only(app, make_user, rejected):
    client = app.test_client()
    response = client.get("/review")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    assert client.post(f"/review/{rejected}/release").status_code in (302, 400)  # no session: login or CSRF
    log_in(client, "alice")  # the uploader, not an admin
    assert client.get("/review").status_code == 403
    token = page_csrf(client, "/videos")
    assert client.post(f"/review/{rejected}/release", data={"csrf_token": token}).status_code == 403
    assert db.session.get(Video, rejected).state == "rejected"


def test_an_admin_sees_what_matched_and_releases_a_false_positive(app, client, auth, make_user, run_jobs, rejected):
    make_user("root", admin=True)
    admin = app.test_client()
    log_in(admin, "root")
    page = admin.get("/review").get_data(as_text=True)
    match = db.session.scalars(db.select(ContentMatch)).one()
    assert rejected in page and "known bad picture #1" in page and f"#{match.entry_id}" in page
    assert f"{match.distance} of 256 bits" in page and "alice" in page
    assert admin.post(f"/review/{rejected}/release").status_code == 400  # no CSRF token

    token = page_csrf(admin, "/review")
    response = admin.post(f"/review/{rejected}/release", data={"csrf_token": token})
    assert response.status_code == 303
    assert db.session.get(Video, rejected).state == "queued"
    run_jobs()
    body = client.get(f"/api/videos/{rejected}", headers=auth).json
    assert body["state"] == "ready" and body["status"] == 1.0 and body["renditions"] and body["poster_url"]
    assert "error" not in body
    match = db.session.get(ContentMatch, match.id)
    assert match.released_at is not None and match.released_by.username == "root"
    page = admin.get("/review").get_data(as_text=True)
    assert "Nothing to review." in page and "Released lately" in page
    # a second release has nothing to do
    response = admin.post(f"/review/{rejected}/release", data={"csrf_token": token}, follow_redirects=True)
    assert "not rejected any more" in response.get_data(as_text=True)


def test_deleting_a_rejected_video_removes_what_was_recorded(client, auth, rejected):
    assert client.delete(f"/api/videos/{rejected}", headers=auth).status_code == 204
    assert db.session.scalars(db.select(ContentMatch)).all() == []
    assert stored_files(rejected) == []


# managing the blocklist


def test_blocklist_add_list_and_remove(app, content_media, rejected):  # noqa: F811
    result = blocklist(app, "add", str(content_media.without_picture), "--note", "a video")
    assert result.exit_code == 0 and "added blocklist entry 2" in result.output
    listing = blocklist(app, "list").output.splitlines()
    assert listing[0].split("\t") == ["id", "added", "hashes", "matches", "source", "note"]
    first, second = (line.split("\t") for line in listing[1:])
    assert (first[0], first[2], first[3], first[4], first[5]) == ("1", "1", "1", "picture.png", "known bad picture #1")
    assert second[0] == "2" and int(second[2]) >= 2 and second[4] == "without-picture.mp4"

    assert blocklist(app, "remove", "1").exit_code == 0
    assert [line.split("\t")[0] for line in blocklist(app, "list").output.splitlines()[1:]] == ["2"]
    match = db.session.scalars(db.select(ContentMatch)).one()  # the record of the match stays
    assert match.entry_id is None and len(match.entry_hash) == 64
    result = blocklist(app, "remove", "1")
    assert result.exit_code != 0 and "no blocklist entry 1" in result.output


def test_blocklist_add_refuses_what_it_cannot_hash(app, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a picture\n")
    result = blocklist(app, "add", str(text))
    assert result.exit_code != 0 and "not an image or a video" in result.output
    plain = tmp_path / "plain.png"
    from tests.blocked import ffmpeg

    ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=320x240", "-frames:v", "1", str(plain))
    result = blocklist(app, "add", str(plain))
    assert result.exit_code != 0 and "enough detail" in result.output
    result = blocklist(app, "add", str(tmp_path / "missing.png"))
    assert result.exit_code != 0 and "does not exist" in result.output
    assert blocklist(app, "list").output.strip() == "the blocklist is empty"


def test_blocklist_import_takes_hex_hashes_one_per_line(app, client, auth, run_jobs, content_media, tmp_path):  # noqa: F811
    picture_hash = fingerprint.hash_media(content_media.picture).hex(0)
    good = tmp_path / "hashes.txt"
    good.write_text(f"# from another service\n{picture_hash.upper()} shared list item\n\n{'0f' * 32}\n")
    result = blocklist(app, "import", str(good), "--note", "imported")
    assert result.exit_code == 0 and "imported 2 hash(es)" in result.output
    assert "listed already" in blocklist(app, "import", str(good)).output
    notes = [line.split("\t")[5] for line in blocklist(app, "list").output.splitlines()[1:]]
    assert notes == ["shared list item", "imported"]
    assert convert(client, auth, run_jobs, content_media.with_picture)["state"] == "rejected"

    bad = tmp_path / "bad.txt"
    bad.write_text(f"{'0f' * 32}\nabc123\n{'g' * 64}\n")
    result = blocklist(app, "import", str(bad))
    assert result.exit_code != 0
    assert "line 2" in result.output and "line 3" in result.output and "nothing imported" in result.output
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert "not a text file" in blocklist(app, "import", str(binary)).output
    assert len(blocklist(app, "list").output.splitlines()) == 3  # header and the two from before


# the hash itself


def test_hashes_are_256_bits_in_hex_and_mirror_exactly():
    rng = np.random.default_rng(7)
    frame = (rng.random((1, 64, 64)) * 255).astype(np.uint8)
    hashes = fingerprint.hash_frames(frame)
    flipped = fingerprint.hash_frames(frame[:, :, ::-1].copy())
    assert fingerprint.distances(hashes.mirror_words, flipped.words)[0, 0] == 0
    text = hashes.hex(0)
    assert len(text) == 64 and np.array_equal(fingerprint.from_hex(text), hashes.words[0])
    assert bin(int(text, 16)).count("1") == 128  # median split: half the bits are set
    with pytest.raises(ValueError, match="64 digits"):
        fingerprint.from_hex("abc")


def test_the_match_distance_setting_is_checked():
    assert parse_match_distance("31") == 31
    for raw in ("", "-1", "97", "thirty"):
        with pytest.raises(RuntimeError, match="CONTENT_MATCH_DISTANCE"):
            parse_match_distance(raw)
