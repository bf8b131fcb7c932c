"""Publishing a long video's parts as their jobs make them: a later chunk stores its checked segments
and nothing a player could follow; the first chunk writes the master, naming the audio another job
makes, and the video is playable once both are stored, whichever job comes second.

The parts are the real ffmpeg runs of test_assembly.py, replayed as their playlists grew.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from app.domain import streams
from app.domain.encoding import Outputs
from app.domain.models import Video
from app.domain.publishing import Publisher
from app.extensions import db
from app.platform.queueing import events_channel
from app.platform.storage import get_storage
from media import playlists
from media.hls import AUDIO_FOLDER, HlsLadder
from tests.unit.domain.test_assembly import RUNG, Parts, encoded_parts
from tests.unit.domain.test_publishing import Checked, stored

AUDIO_PLAYLIST = f"{AUDIO_FOLDER}/{streams.PLAYLIST}"


@pytest.fixture
def parts(clips, tmp_path_factory) -> Parts:
    return encoded_parts(clips, tmp_path_factory)


class Run:
    """A copy of one part's run, whose playlists are replayed as ffmpeg wrote them."""

    def __init__(self, ladder: HlsLadder, into: Path):
        shutil.copytree(ladder.root, into)
        self.ladder = HlsLadder(into, tuple(_moved(r, ladder.root, into) for r in ladder.rungs),
                                _moved(ladder.audio, ladder.root, into) if ladder.audio else None)
        self.texts = {media.path: media.path.read_text() for media in self.ladder.outputs}

    def grown(self, segments: int | None = None) -> None:
        """ffmpeg has finished `segments` segments of each playlist (all of them: None)."""
        for path, text in self.texts.items():
            count = len(playlists.segments(text)) if segments is None else segments
            path.write_text(playlists.first_segments(text, count).replace(
                "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-PLAYLIST-TYPE:EVENT"))


def _moved(media, old_root: Path, new_root: Path):
    return replace(media, folder=new_root / media.folder.relative_to(old_root))


def playable_events(events) -> list[dict]:
    messages = [m for m in iter(lambda: events.get_message(timeout=0.2), None) if m["type"] == "message"]
    return [body for body in (json.loads(m["data"]) for m in messages) if body.get("playable") is True]


@pytest.fixture
def events(app, video):
    listening = app.extensions["redis"].pubsub()
    listening.subscribe(events_channel(video.id))
    yield listening
    listening.close()


def test_a_later_chunk_stores_only_its_checked_segments(app, video, parts, tmp_path, events):
    chunk = Run(parts.ladders[1], tmp_path / "chunk1")  # 8-16 s of the video: segments 3 and 4
    check = Checked()  # seconds of this chunk checked, from its start
    publisher = Publisher(video, chunk.ladder, check, staged=True, writes_master=False)
    chunk.grown(1)
    check.seconds = 3.9
    publisher.poll()
    assert stored(video) == [], "finished, not checked yet"
    check.seconds = 4.0
    publisher.poll()
    assert stored(video) == [f"{RUNG}/seg_00003.m4s"], "no init segment (the first chunk's), no playlist"
    chunk.grown(2)
    check.seconds = 7.5
    publisher.poll()
    assert stored(video) == [f"{RUNG}/seg_00003.m4s"], "the second segment ends at 8 s"
    publisher.finish(close=False)
    assert check.final and stored(video) == [f"{RUNG}/seg_00003.m4s", f"{RUNG}/seg_00004.m4s"]
    db.session.refresh(video)
    assert not video.playable and playable_events(events) == []
    assert not chunk.ladder.master_path.exists()


def chunk_and_audio(video: Video, parts: Parts, tmp_path: Path) -> tuple[Run, Publisher, Run, Publisher]:
    """The first chunk's publisher and the audio's, as chunking.convert_chunk and convert_audio make them."""
    first = Run(parts.ladders[0], tmp_path / "chunk0")
    master = Outputs(first.ladder, None, None, None).master_ladder(has_audio=True)
    chunk = Publisher(video, first.ladder, None, master=master, waits_for=(AUDIO_PLAYLIST,))
    audio = Run(parts.audio, tmp_path / "audio")
    return first, chunk, audio, Publisher(video, audio.ladder, None, waits_for=(streams.MASTER,), writes_master=False)


def test_the_first_chunk_writes_a_master_naming_the_audio_yet_waits_for_it(app, video, parts, tmp_path, events):
    first, chunk, _, _ = chunk_and_audio(video, parts, tmp_path)
    first.grown(1)
    chunk.poll()
    assert stored(video) == [f"{RUNG}/index.m3u8", f"{RUNG}/init.mp4", f"{RUNG}/seg_00001.m4s", "master.m3u8"]
    master = get_storage().read_bytes(streams.key(video.id, streams.MASTER)).decode()
    assert f'URI="{AUDIO_PLAYLIST}"' in master and 'AUDIO="audio"' in master and f"{RUNG}/index.m3u8" in master
    first.grown(2)
    chunk.poll()
    db.session.refresh(video)
    assert not video.playable, "the master names an audio playlist that is not there yet"
    assert playable_events(events) == []


@pytest.mark.parametrize("second", ["audio", "chunk"])
def test_the_video_is_playable_once_the_chunk_and_the_audio_are_stored_whichever_is_second(
    app, video, parts, tmp_path, events, second
):
    first, chunk, audio, audio_publisher = chunk_and_audio(video, parts, tmp_path)
    runs = [(first, chunk), (audio, audio_publisher)]
    if second == "chunk":
        runs.reverse()
    (run_a, publisher_a), (run_b, publisher_b) = runs
    run_a.grown(1)
    publisher_a.poll()
    db.session.refresh(video)
    assert not video.playable
    assert (streams.MASTER in stored(video)) == (second == "audio")
    assert (AUDIO_PLAYLIST in stored(video)) == (second == "chunk")
    run_b.grown(1)
    publisher_b.poll()
    db.session.refresh(video)
    assert video.playable and {streams.MASTER, AUDIO_PLAYLIST} <= set(stored(video))
    for run, publisher in runs:  # both go on publishing to the end
        run.grown()
        publisher.poll()
        publisher.finish(close=False)
    assert [body["id"] for body in playable_events(events)] == [video.id], "told once"
