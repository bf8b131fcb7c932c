"""`/stream/<token>/<name>`: one signed token opens a video's stream files, and nothing else."""

from __future__ import annotations

import time
from unittest.mock import patch

import pytest

from app.domain import streams
from app.domain.models import Video
from app.extensions import db
from app.platform.links import media_url, signer, stream_url
from app.platform.storage import get_storage

PLAYLIST = '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4.0,\nseg_00001.m4s\n'


@pytest.fixture
def video(app, make_user) -> Video:
    user, _ = make_user()
    made = Video(user_id=user.id, title="clip", filename="clip.mp4", state="processing", playable=True)
    db.session.add(made)
    db.session.commit()
    storage = get_storage()
    for name, data in {
        "master.m3u8": b"#EXTM3U\n",
        "360p/index.m3u8": PLAYLIST.encode(),
        "360p/init.mp4": b"init",
        "360p/seg_00001.m4s": b"segment",
        "storyboard/sprite_000.jpg": b"\xff\xd8\xff",
    }.items():
        path = storage.path(streams.key(made.id, name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (storage.path(made.prefix + "source")).write_bytes(b"the upload")
    return made


def fetch(client, url: str, **options):
    """A response read whole and closed (a served file's handle goes with it)."""
    response = client.get(url, **options)
    response.get_data()
    response.close()
    return response


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_a_token_opens_every_file_of_its_stream_for_any_player(app, client, video):
    with app.test_request_context():
        master = path_of(stream_url(video.id, streams.MASTER))
    response = client.get(master)
    assert response.status_code == 200 and response.mimetype == "application/vnd.apple.mpegurl"
    assert response.headers["Cache-Control"] == "private, no-cache", "it grows while processing"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    folder = master.rsplit("/", 1)[0]
    playlist = client.get(f"{folder}/360p/index.m3u8")
    assert playlist.get_data(as_text=True) == PLAYLIST, "relative names, resolved under the same token"
    segment = fetch(client, f"{folder}/360p/seg_00001.m4s")
    assert segment.status_code == 200 and segment.mimetype == "video/iso.segment" and segment.data == b"segment"
    assert segment.headers["Cache-Control"] == "private, max-age=3600", "never kept by a shared cache"
    assert fetch(client, f"{folder}/360p/init.mp4").mimetype == "video/mp4"
    assert fetch(client, f"{folder}/storyboard/sprite_000.jpg").mimetype == "image/jpeg"
    ranged = fetch(client, f"{folder}/360p/seg_00001.m4s", headers={"Range": "bytes=0-2"})
    assert ranged.status_code == 206 and ranged.data == b"seg"


@pytest.mark.parametrize(
    "name",
    [
        "../source",
        "source",
        "360p/../../source",
        "360p/seg_1.m4s",
        "360p/index.m3u8.tmp",
        "storyboard/index.m3u8",
        "360p/sprite_000.jpg",
        "MASTER.m3u8",
        "360p//index.m3u8",
        "%2e%2e/source",
        "360p/seg_00002.m4s",
    ],
)
def test_only_a_streams_own_names_that_exist_are_served(app, client, video, name):
    with app.test_request_context():
        folder = path_of(stream_url(video.id, streams.MASTER)).rsplit("/", 1)[0]
    response = client.get(f"{folder}/{name}")
    assert response.status_code == 404


def test_forged_expired_and_rotated_tokens_are_clean_refusals(app, client, video):
    with app.test_request_context():
        good = path_of(stream_url(video.id, streams.MASTER))
        token = good.split("/")[2]
        download = path_of(media_url(video.prefix + "source")).split("/")[2]  # a download link's token
        other_purpose = signer().dumps(video.id)
        past = time.time() - app.config["MEDIA_URL_TTL"] - 10
        with patch("itsdangerous.timed.time.time", return_value=past):  # signed a day and a bit ago
            expired = path_of(stream_url(video.id, streams.MASTER)).split("/")[2]
    assert client.get(f"/stream/{token[:-3]}abc/master.m3u8").status_code == 404
    assert client.get(f"/stream/{download}/master.m3u8").status_code == 404
    assert client.get(f"/stream/{other_purpose}/master.m3u8").status_code == 404
    late = client.get(f"/stream/{expired}/master.m3u8")
    assert late.status_code == 410 and "expired" in late.json["error"]
    app.config["SECRET_KEY"] = "rotated"
    assert client.get(good).status_code == 404


def test_the_video_json_hands_out_the_stream_only_while_it_can_be_watched(app, client, make_user):
    user, token = make_user("carol")
    video = Video(user_id=user.id, state="processing")
    db.session.add(video)
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    body = client.get(f"/api/videos/{video.id}", headers=auth).json
    assert body["playable"] is False and body["playback_url"] is None and body["storyboard_url"] is None
    video.playable = True
    db.session.commit()
    body = client.get(f"/api/videos/{video.id}", headers=auth).json
    assert body["playable"] is True and body["playback_url"].endswith("/master.m3u8")
    assert body["storyboard_url"] is None, "the storyboard comes at ready"
    video.state = "failed"
    db.session.commit()
    body = client.get(f"/api/videos/{video.id}", headers=auth).json
    assert body["playable"] is False and body["playback_url"] is None
