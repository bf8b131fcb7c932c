"""What an owner changes of a video through the API: its title (PATCH), a conversion again (retry)."""

from __future__ import annotations

import pytest

from app.domain import conversion, quotas
from app.domain.models import User, Video
from app.domain.plan import job_id
from app.extensions import db
from tests.unit.conftest import upload
from tests.unit.test_events import change, open_stream


@pytest.fixture
def video_id(token) -> str:
    video = Video(user_id=User.by_token(token).id, title="Clip", filename="holiday.final.mp4", state="processing")
    db.session.add(video)
    db.session.commit()
    return video.id


def rename(client, auth, video_id, body):
    return client.patch(f"/api/videos/{video_id}", headers=auth, json=body)


def stored_title(video_id: str) -> str:
    db.session.expire_all()
    return db.session.get(Video, video_id).title


def test_a_rename_answers_the_video_and_is_kept(client, auth, video_id):
    response = rename(client, auth, video_id, {"title": "  Rome, day 2  "})
    assert response.status_code == 200
    assert response.json["id"] == video_id and response.json["title"] == "Rome, day 2"
    assert response.json["state"] == "processing"  # a rename is no move
    assert client.get(f"/api/videos/{video_id}", headers=auth).json["title"] == "Rome, day 2"


def test_a_hostile_title_stays_text(client, auth, video_id):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = rename(client, auth, video_id, {"title": hostile})
    assert response.json["title"] == hostile
    assert response.mimetype == "application/json"  # never markup: pages show it with textContent
    assert stored_title(video_id) == hostile


def test_control_characters_and_text_direction_marks_are_dropped(client, auth, video_id):
    response = rename(client, auth, video_id, {"title": "a\x1b[31mred\u202e\tcat\u0007"})
    assert response.status_code == 200 and response.json["title"] == "a[31mredcat"


@pytest.mark.parametrize("empty", ["", "   ", "\x1b\x07", None])
def test_an_empty_title_is_the_files_name_without_its_extension(client, auth, video_id, empty):
    response = rename(client, auth, video_id, {"title": empty})
    assert response.status_code == 200 and response.json["title"] == "holiday.final"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"title": "x" * 201}, "`title` is longer than 200 characters"),
        ({"title": "a\x00b"}, "`title` contains a NUL byte"),
        ({"title": 5}, "`title` must be a string"),
        ({"title": "ok", "state": "ready", "filename": "x"}, "Only title can be changed here, not filename, state"),
        (["title"], "Send a JSON object"),
    ],
)
def test_a_bad_rename_is_a_400_that_says_why_and_changes_nothing(client, auth, video_id, body, words):
    response = rename(client, auth, video_id, body)
    assert response.status_code == 400 and words in response.json["error"]
    assert stored_title(video_id) == "Clip"


def test_a_title_of_200_characters_is_kept_whole(client, auth, video_id):
    assert rename(client, auth, video_id, {"title": "é" * 200}).json["title"] == "é" * 200


def test_another_users_video_is_a_404_and_keeps_its_title(client, make_user, video_id):
    _, other = make_user("mallory")
    response = rename(client, {"Authorization": f"Bearer {other}"}, video_id, {"title": "mine now"})
    assert response.status_code == 404 and response.json["error"] == "No such video."
    assert stored_title(video_id) == "Clip"


def test_a_page_watching_the_video_sees_the_new_title(app, client, auth, video_id):
    stream = open_stream(client, auth, video_id)
    assert stream.next_video()["title"] == "Clip"
    change(app, video_id, "processing", 0.25)  # heard: the stream listens, past its first read of the database
    assert stream.next_video()["status"] == 0.25
    assert rename(client, auth, video_id, {"title": "Renamed"}).status_code == 200
    seen = stream.next_video()
    assert seen["title"] == "Renamed" and seen["state"] == "processing"


def retry(client, auth, video_id):
    return client.post(f"/api/videos/{video_id}/retry", headers=auth)


def storage_away(*args, **kwargs):
    raise OSError("storage unreachable")


@pytest.fixture
def clip(clips):
    return clips("c320x240", width=320, height=240, seconds=1)


def failed_for_its_moment(app, client, auth, run_jobs, clip, monkeypatch) -> str:
    """An upload whose every attempt met storage away: failed, and not for the file's sake."""
    app.config["JOB_RETRIES"] = 0
    video_id = upload(client, auth, clip).json["id"]
    with monkeypatch.context() as patched:
        patched.setattr(conversion, "convert_whole", storage_away)
        run_jobs()
    return video_id


def test_a_failure_of_the_moment_can_be_converted_again_to_ready(app, client, auth, run_jobs, clip, monkeypatch):
    video_id = failed_for_its_moment(app, client, auth, run_jobs, clip, monkeypatch)
    failed = client.get(f"/api/videos/{video_id}", headers=auth).json
    assert failed["state"] == "failed" and "storage unreachable" in failed["error"] and failed["can_retry"] is True
    assert app.extensions["queues"]["default"].failed_job_registry.get_job_ids() == [job_id(video_id)]

    response = retry(client, auth, video_id)
    assert response.status_code == 202
    body = response.json
    assert (body["state"], body["status"], body["can_retry"]) == ("queued", 0.0, False) and "error" not in body
    assert app.extensions["queues"]["default"].failed_job_registry.get_job_ids() == []  # /rq lists no old failure
    run_jobs()
    ready = client.get(f"/api/videos/{video_id}", headers=auth).json
    assert ready["state"] == "ready" and ready["status"] == 1.0 and ready["renditions"]
    assert db.session.get(Video, video_id).attempts == 1  # this conversion's attempts, counted afresh


def test_a_retried_video_waits_its_turn_behind_the_owners_conversions(app, client, auth, run_jobs, clip, monkeypatch):
    video_id = failed_for_its_moment(app, client, auth, run_jobs, clip, monkeypatch)
    app.config["MAX_ACTIVE_CONVERSIONS"] = 1
    other = upload(client, auth, clip).json["id"]  # uploaded meanwhile: in RQ's queue
    assert retry(client, auth, video_id).json["state"] == "queued"
    assert quotas.held_count(db.session.get(Video, video_id).user_id, 1) == 1
    assert app.extensions["queues"]["default"].get_job_ids() == [job_id(other)]  # its turn is after the other's
    run_jobs()  # the other one ends; this one is admitted, then converted
    assert client.get(f"/api/videos/{video_id}", headers=auth).json["state"] == "ready"


def test_a_file_that_failed_itself_is_a_409_that_says_why(app, client, auth, run_jobs, clip, tmp_path):
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    video_id = upload(client, auth, truncated).json["id"]
    run_jobs()
    failed = client.get(f"/api/videos/{video_id}", headers=auth).json
    assert failed["state"] == "failed" and failed["can_retry"] is False
    response = retry(client, auth, video_id)
    assert response.status_code == 409
    assert "would fail the same way" in response.json["error"] and failed["error"] in response.json["error"]
    assert client.get(f"/api/videos/{video_id}", headers=auth).json["state"] == "failed"


def test_a_video_over_a_limit_on_work_is_not_converted_again(app, client, auth, run_jobs, clip):
    app.config["MAX_VIDEO_WORK_HOURS"] = 0.000001  # this clip is about 0.00003 hours of 1080p30
    video_id = upload(client, auth, clip).json["id"]
    run_jobs()
    failed = client.get(f"/api/videos/{video_id}", headers=auth).json
    assert failed["state"] == "failed" and "the limit for one video" in failed["error"]
    assert failed["can_retry"] is False and retry(client, auth, video_id).status_code == 409


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("queued", "already waiting"),
        ("processing", "being converted"),
        ("ready", "nothing to convert again"),
        ("cancelled", "upload it again"),
        ("rejected", "an admin reviews it"),
    ],
)
def test_only_a_failed_video_can_be_converted_again(client, auth, token, state, words):
    video = Video(user_id=User.by_token(token).id, title="Clip", filename="clip.mp4", state=state, retryable=True)
    db.session.add(video)
    db.session.commit()
    response = retry(client, auth, video.id)
    assert response.status_code == 409 and words in response.json["error"]
    assert client.get(f"/api/videos/{video.id}", headers=auth).json["can_retry"] is False


def test_another_users_failed_video_is_a_404(client, make_user, token):
    video = Video(user_id=User.by_token(token).id, title="Clip", filename="clip.mp4", state="failed", retryable=True)
    db.session.add(video)
    db.session.commit()
    _, other = make_user("mallory")
    assert retry(client, {"Authorization": f"Bearer {other}"}, video.id).status_code == 404
    db.session.expire_all()
    assert db.session.get(Video, video.id).state == "failed"


def test_size_at_once_and_codecs_once_probed(client, auth, run_jobs, clips):
    with_sound = clips("c320x240", width=320, height=240, seconds=1)
    silent = clips("silent", width=320, height=240, seconds=1, audio=False)
    first = upload(client, auth, with_sound).json
    assert first["size"] == with_sound.stat().st_size and first["codecs"] is None  # not probed yet
    second = upload(client, auth, silent).json["id"]
    run_jobs()
    assert client.get(f"/api/videos/{first['id']}", headers=auth).json["codecs"] == {"video": "h264", "audio": "aac"}
    assert client.get(f"/api/videos/{second}", headers=auth).json["codecs"] == {"video": "h264", "audio": None}
