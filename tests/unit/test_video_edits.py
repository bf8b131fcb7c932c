"""What an owner changes of a video through the API: its title (PATCH), a conversion again (retry)."""

from __future__ import annotations

import pytest

from app.domain.models import User, Video
from app.extensions import db
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
