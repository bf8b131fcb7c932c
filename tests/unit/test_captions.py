"""Captions through the API, with the in-process worker: the upload's text tracks kept as WebVTT and
named by the master playlist, a bitmap track noted, caption files added, refused, replaced and
deleted; another user's video a 404."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.domain.models import Caption, Video
from app.extensions import db
from tests import subtitled
from tests.unit.conftest import upload

GOOD_VTT = b"WEBVTT\n\n00:00:00.100 --> 00:00:00.800\nHi <b>there</b> <script>alert(1)</script>\n"
GOOD_SRT = "1\n00:00:00,100 --> 00:00:01,000\nOl\u00e1 <font color=\"red\">mundo</font>\n".encode()


@pytest.fixture(scope="module")
def subtitled_clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("subtitled")
    return {
        "mp4": subtitled.mp4_with_mov_text(folder / "movtext.mp4", seconds=1),
        "ts": subtitled.ts_with_dvb(folder / "dvb.ts", seconds=1),
    }


@pytest.fixture
def ready_video(client, auth, run_jobs, clips) -> dict:
    """A ready 1 s video without subtitle tracks."""
    made = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1))
    run_jobs()
    video = client.get(f"/api/videos/{made.json['id']}", headers=auth).json
    assert video["state"] == "ready"
    return video


def add(client, auth, video_id: str, data: bytes, filename: str = "captions.vtt", **fields):
    form = {"file": (io.BytesIO(data), filename), **fields}
    return client.post(f"/api/videos/{video_id}/captions", headers=auth, data=form, content_type="multipart/form-data")


def path_of(url: str) -> str:
    return urlsplit(url).path


def master(client, video: dict) -> str:
    response = client.get(path_of(video["playback_url"]))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_text_tracks_of_the_upload_are_kept_as_webvtt_and_named_by_the_master(
    client, auth, run_jobs, subtitled_clips
):
    made = upload(client, auth, subtitled_clips["mp4"])
    run_jobs()
    video = client.get(f"/api/videos/{made.json['id']}", headers=auth).json
    assert video["state"] == "ready", video
    assert [(c["language"], c["source"], c["default"]) for c in video["captions"]] == [
        ("en", "file", False), ("fr", "file", False)
    ]
    text = master(client, video)
    assert 'TYPE=SUBTITLES,GROUP-ID="subs",NAME="en",LANGUAGE="en"' in text
    assert 'LANGUAGE="fr"' in text
    assert all('SUBTITLES="subs"' in line for line in text.splitlines() if line.startswith("#EXT-X-STREAM-INF"))
    english = video["captions"][0]
    cues = client.get(path_of(english["url"]))
    assert cues.status_code == 200 and cues.mimetype == "text/vtt"
    body = cues.get_data(as_text=True)
    assert body.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n")
    assert "00:00:00.200 --> 00:00:00.900\nHello <i>there</i>" in body
    playlist = client.get(path_of(english["url"]).replace(".vtt", ".m3u8")).get_data(as_text=True)
    assert f"#EXTINF:{video['duration']:.3f}," in playlist and "#EXT-X-ENDLIST" in playlist
    assert video["notes"] == []


def test_a_bitmap_track_is_left_out_with_a_note_not_a_failure(client, auth, run_jobs, subtitled_clips):
    made = upload(client, auth, subtitled_clips["ts"])
    run_jobs()
    video = client.get(f"/api/videos/{made.json['id']}", headers=auth).json
    assert video["state"] == "ready", video
    assert video["captions"] == []
    (note,) = video["notes"]
    assert "DVB subtitle track #2 (language sv)" in note and "pictures, not text" in note
    assert "SUBTITLES" not in master(client, video)


def test_a_caption_file_added_to_a_ready_video_is_in_its_master_at_once(client, auth, ready_video):
    assert "SUBTITLES" not in master(client, ready_video)
    added = add(client, auth, ready_video["id"], GOOD_VTT, language="pt-br", label='Portugu\u00eas "BR"\n')
    assert added.status_code == 201, added.json
    assert added.json["language"] == "pt-BR" and added.json["label"] == "Portugu\u00eas BR"
    assert added.json["source"] == "upload" and added.json["cues"] == 1
    text = master(client, ready_video)
    assert 'NAME="Portugu\u00eas BR",LANGUAGE="pt-BR"' in text
    body = client.get(path_of(added.json["url"])).get_data(as_text=True)
    assert "Hi <b>there</b> &lt;script&gt;alert(1)&lt;/script&gt;" in body
    listed = client.get(f"/api/videos/{ready_video['id']}", headers=auth).json["captions"]
    assert [c["language"] for c in listed] == ["pt-BR"]


def test_srt_is_converted_and_a_second_file_in_a_language_replaces_the_first(app, client, auth, ready_video):
    first = add(client, auth, ready_video["id"], GOOD_VTT, language="pt")
    second = add(client, auth, ready_video["id"], GOOD_SRT, filename="legendas.SRT", language="pt")
    assert second.status_code == 201, second.json
    body = client.get(path_of(second.json["url"])).get_data(as_text=True)
    assert "00:00:00.100 --> 00:00:01.000\nOl\u00e1 mundo" in body
    assert client.get(path_of(first.json["url"])).status_code == 404  # the replaced file is gone
    assert db.session.scalars(db.select(Caption)).all()[0].id == second.json["id"]
    assert master(client, ready_video).count("TYPE=SUBTITLES") == 1


@pytest.mark.parametrize(
    ("data", "filename", "fields", "status", "says"),
    [
        (b"WEBVTT\n\n00:00:00.100 --> 00:00:00.800\nok\n\n\xff\xfe\n", "c.vtt", {}, 400, "line 6: the file is not"),
        (b"WEBVTT\n\n00:00:00.100 --> 00:00:0x.800\nok\n", "c.vtt", {}, 400, "line 3: '00:00:0x.800' is not a time"),
        (b"WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nok\n", "c.vtt", {}, 400, "line 3: the cue ends"),
        (b"WEBVTT\n\n00:00:00.000 --> 00:01:00.000\nlong\n", "c.vtt", {}, 400, "after the video's end"),
        (b"WEBVTT\n\nNOTE nothing here\n", "c.vtt", {}, 400, "holds no cues"),
        (b"1\n00:00:00,100 --> 00:00:00,800\nok\n", "c.vtt", {}, 400, "line 1: a WebVTT file starts with"),
        (b"1\n00:00:00.1 --> 00:00:00,800\nok\n", "c.srt", {}, 400, "line 2: '00:00:00.1' is not a time"),
        (b"WEBVTT\n\n" + b"x" * 2048, "c.vtt", {}, 413, "the limit is 1 KB"),
        (GOOD_VTT, "c.txt", {}, 415, ".vtt) or SubRip (.srt)"),
        (GOOD_VTT, "c.vtt", {"language": ""}, 400, "Say which language"),
        (GOOD_VTT, "c.vtt", {"language": "english please"}, 400, "language tag such as"),
        (GOOD_VTT, "c.vtt", {"language": "xx-QQ"}, 400, "language tag such as"),
        (GOOD_VTT, "c.vtt", {"language": "<script>"}, 400, "language tag such as"),
    ],
)
def test_a_bad_caption_file_is_refused_saying_what_is_wrong(
    app, client, auth, ready_video, data, filename, fields, status, says
):
    app.config["MAX_CAPTION_KB"] = 1
    response = add(client, auth, ready_video["id"], data, filename, **{"language": "en", **fields})
    assert response.status_code == status, response.json
    assert says in response.json["error"]
    assert db.session.scalars(db.select(Caption)).all() == []


def test_too_many_cues_are_refused(app, client, auth, ready_video):
    app.config["MAX_CAPTION_CUES"] = 2
    many = b"WEBVTT\n\n" + b"".join(b"00:00:00.%03d --> 00:00:00.%03d\nx\n\n" % (i, i + 1) for i in range(3))
    response = add(client, auth, ready_video["id"], many, language="en")
    assert response.status_code == 400 and "3 cues; the limit is 2" in response.json["error"]


def test_deleting_a_caption_removes_it_from_the_master_and_storage(app, client, auth, ready_video):
    added = add(client, auth, ready_video["id"], GOOD_VTT, language="en").json
    storage = Path(app.config["STORAGE_URL"].removeprefix("file://"))
    assert list(storage.glob(f"videos/{ready_video['id']}/**/c{added['id']}.*"))
    gone = client.delete(f"/api/videos/{ready_video['id']}/captions/EN", headers=auth)
    assert gone.status_code == 204
    assert "SUBTITLES" not in master(client, ready_video)
    assert not list(storage.glob(f"videos/{ready_video['id']}/**/c{added['id']}.*"))
    again = client.delete(f"/api/videos/{ready_video['id']}/captions/en", headers=auth)
    assert again.status_code == 404 and again.json["error"]


def test_captions_go_with_their_video(app, client, auth, ready_video):
    add(client, auth, ready_video["id"], GOOD_VTT, language="en")
    assert client.delete(f"/api/videos/{ready_video['id']}", headers=auth).status_code == 204
    assert db.session.scalars(db.select(Caption)).all() == []
    storage = Path(app.config["STORAGE_URL"].removeprefix("file://"))
    assert not (storage / "videos" / ready_video["id"]).exists()


def test_another_users_video_is_a_404(client, make_user, ready_video):
    _, other = make_user("mallory")
    headers = {"Authorization": f"Bearer {other}"}
    assert add(client, headers, ready_video["id"], GOOD_VTT, language="en").status_code == 404
    assert client.delete(f"/api/videos/{ready_video['id']}/captions/en", headers=headers).status_code == 404
    assert client.get(f"/api/videos/{ready_video['id']}/captions", headers=headers).status_code == 404


def test_a_video_whose_length_is_unknown_takes_no_captions_yet(client, auth, clips):
    made = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1)).json  # queued, not run
    response = add(client, auth, made["id"], GOOD_VTT, language="en")
    assert response.status_code == 409 and "once it is processing" in response.json["error"]


def test_captions_added_while_processing_are_listed_without_urls_until_watchable(app, client, auth, make_user):
    user = db.session.scalars(db.select(Video.user_id)).first()
    assert user is None  # no video yet: make one by hand, processing, its length known
    owner = db.session.execute(db.text("select id from users")).scalar()
    video = Video(user_id=owner, state="processing", duration=1.0)
    db.session.add(video)
    db.session.commit()
    added = add(client, auth, video.id, GOOD_VTT, language="en")
    assert added.status_code == 201 and added.json["url"] is None
    listed = client.get(f"/api/videos/{video.id}/captions", headers=auth).json["captions"]
    assert [(c["language"], c["url"]) for c in listed] == [("en", None)]


def test_the_page_adds_and_deletes_captions_with_its_csrf_token_and_shows_what_is_wrong(
    client, auth, ready_video
):
    from tests.unit.test_pages import csrf_token, log_in

    log_in(client)
    page = f"/videos/{ready_video['id']}"
    token = csrf_token(client, page)
    form = {"file": (io.BytesIO(GOOD_VTT), "en.vtt"), "language": "en", "label": "<img src=x onerror=alert(1)>"}
    assert client.post(f"{page}/captions", data=form, content_type="multipart/form-data").status_code == 400  # no CSRF
    added = client.post(
        f"{page}/captions", data={**form, "file": (io.BytesIO(GOOD_VTT), "en.vtt"), "csrf_token": token},
        content_type="multipart/form-data", follow_redirects=True,
    )
    html = added.get_data(as_text=True)
    assert added.status_code == 200 and "Captions added" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    bad = {"file": (io.BytesIO(b"WEBVTT\n\n00:00:01.000 --> 00:00:00.500\nx\n"), "x.vtt"), "language": "fr"}
    refused = client.post(
        f"{page}/captions", data={**bad, "csrf_token": token}, content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "line 3: the cue ends (00:00:00.500) before it starts (00:00:01.000)" in refused.get_data(as_text=True)
    gone = client.post(f"{page}/captions/en/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "Captions deleted" in gone.get_data(as_text=True)
    assert client.get(f"/api/videos/{ready_video['id']}", headers=auth).json["captions"] == []
