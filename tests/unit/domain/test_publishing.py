"""Publishing the stream while ffmpeg writes it: only what is finished and checked, in order, once.

ffmpeg's playlists are replayed as they grew (a real ladder's, cut back to fewer segments), and the
content check's progress is set by hand.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace

import pytest

from app.domain import streams
from app.domain.models import Video
from app.domain.publishing import Publisher
from app.extensions import db
from app.platform.queueing import events_channel
from app.platform.storage import get_storage
from media import playlists
from media.hls import HlsLadder
from tests.unit.media.conftest import FAST
from tests.unit.media.test_hls import HLS_RUNGS, hls_run

MEDIA = ("144p", "240p", "audio")


class Checked:
    """The content check, as far as the test says it got."""

    def __init__(self):
        self.seconds = 0.0
        self.final = False

    def advance(self, final: bool = False) -> float:
        self.final = self.final or final
        return math.inf if final else self.seconds


@pytest.fixture
def ffmpeg_output(clips, tmp_path_factory, tmp_path):
    """A copy of a finished ladder (5 s: a 4 s and a 1 s segment per playlist), and its playlists."""
    run = hls_run(clips, tmp_path_factory)
    poster = replace(run.poster, path=tmp_path / "poster.jpg")
    shutil.copy(run.poster.path, poster.path)
    root = tmp_path / "work" / "stream"
    shutil.copytree(run.ladder.root, root)
    ladder = HlsLadder.plan(run.info, list(HLS_RUNGS), root, FAST)
    texts = {media: (root / media / "index.m3u8").read_text() for media in MEDIA}
    for media in MEDIA:  # as ffmpeg leaves them: open
        (root / media / "index.m3u8").write_text(texts[media].replace("#EXT-X-ENDLIST\n", ""))
    (root / "master.m3u8").unlink(missing_ok=True)
    return ladder, texts, poster


def written(ladder: HlsLadder, texts: dict, segments: int) -> None:
    """ffmpeg has finished `segments` segments of every playlist."""
    for media in MEDIA:
        text = playlists.first_segments(texts[media], segments).replace(
            "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-PLAYLIST-TYPE:EVENT"
        )
        (ladder.root / media / "index.m3u8").write_text(text)


def stored(video: Video) -> list[str]:
    folder = get_storage().path(streams.prefix(video.id).rstrip("/"))
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def published_playlist(video: Video, media: str) -> str:
    return get_storage().read_bytes(streams.key(video.id, f"{media}/index.m3u8")).decode()


def test_a_segment_is_published_once_finished_and_checked_then_the_master_and_playable(app, video, ffmpeg_output):
    ladder, texts, poster = ffmpeg_output
    check = Checked()
    events = app.extensions["redis"].pubsub()
    events.subscribe(events_channel(video.id))
    publisher = Publisher(video, ladder, check, poster)
    written(ladder, texts, 1)
    publisher.poll()
    assert stored(video) == [], "finished, but not checked yet"
    check.seconds = 3.5
    publisher.poll()
    assert stored(video) == [], "checked up to 3.5 s of a segment ending at 4 s"
    check.seconds = 4.0
    publisher.poll()
    assert stored(video) == [
        "144p/index.m3u8",
        "144p/init.mp4",
        "144p/seg_00001.m4s",
        "240p/index.m3u8",
        "240p/init.mp4",
        "240p/seg_00001.m4s",
    ], "the audio's first segment ends on an AAC frame a little after 4 s: not checked yet; no master yet"
    db.session.refresh(video)
    assert not video.playable
    check.seconds = 4.5
    publisher.poll()
    assert stored(video)[6:] == [
        "audio/index.m3u8",
        "audio/init.mp4",
        "audio/seg_00001.m4s",
        "master.m3u8",
        "poster.jpg",
    ], "the poster (at 2.5 s, checked) with the master"
    db.session.refresh(video)
    assert video.playable and video.poster_key == streams.key(video.id, "poster.jpg")
    messages = [m for m in iter(lambda: events.get_message(timeout=0.2), None) if m["type"] == "message"]
    assert any(json.loads(m["data"]).get("playable") is True for m in messages), "live listeners are told"
    master = get_storage().read_bytes(streams.key(video.id, "master.m3u8")).decode()
    assert "144p/index.m3u8" in master and "240p/index.m3u8" in master and 'URI="audio/index.m3u8"' in master
    for media in MEDIA:
        text = published_playlist(video, media)
        assert [uri for uri, _ in playlists.segments(text)] == ["seg_00001.m4s"]
        assert "#EXT-X-PLAYLIST-TYPE:EVENT" in text and not playlists.is_final(text)

    written(ladder, texts, 2)
    check.seconds = 4.5  # the last segment ends at 5 s
    publisher.poll()
    assert "144p/seg_00002.m4s" not in stored(video)
    publisher.finish()
    assert check.final and "144p/seg_00002.m4s" in stored(video)
    assert not playlists.is_final(published_playlist(video, "144p")), "final only as the video turns ready"
    publisher.finalize()
    for media in MEDIA:
        text = published_playlist(video, media)
        assert playlists.is_final(text) and len(playlists.segments(text)) == 2
        assert sum(duration for _, duration in playlists.segments(text)) == pytest.approx(5.0, abs=0.05)


def test_a_retry_neither_repeats_nor_shrinks_what_an_earlier_attempt_published(app, video, ffmpeg_output):
    ladder, texts, poster = ffmpeg_output
    written(ladder, texts, 2)
    first = Publisher(video, ladder, None)
    first.poll()  # an attempt published both segments, then its worker died
    db.session.refresh(video)
    assert video.playable
    before = {name: get_storage().path(streams.key(video.id, name)).stat().st_mtime_ns for name in stored(video)}

    written(ladder, texts, 1)  # the retry starts again from the start
    again = Publisher(video, ladder, None)
    again.poll()
    assert published_playlist(video, "240p").count("seg_") == 2, "never shrinks"
    after = {name: get_storage().path(streams.key(video.id, name)).stat().st_mtime_ns for name in stored(video)}
    assert after == before, "nothing stored again"
    written(ladder, texts, 2)
    again.finish()
    again.finalize()
    assert [uri for uri, _ in playlists.segments(published_playlist(video, "240p"))] == [
        "seg_00001.m4s",
        "seg_00002.m4s",
    ]


def test_names_the_web_serves_are_the_engines(app):
    from media import hls, storyboard

    assert streams.MASTER == hls.MASTER_PLAYLIST and streams.PLAYLIST == hls.PLAYLIST
    for name in [
        hls.MASTER_PLAYLIST,
        f"720p/{hls.PLAYLIST}",
        f"720p/{hls.INIT_SEGMENT}",
        f"{hls.AUDIO_FOLDER}/{hls.SEGMENT_NAMES % 1}",
        f"1080p/{hls.SEGMENT_NAMES % 99999}",
        f"storyboard/{storyboard.SHEET_NAMES % 0}",
        streams.STORYBOARD,
    ]:
        assert streams.is_name(name), name
