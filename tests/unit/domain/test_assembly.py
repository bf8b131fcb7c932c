"""A long video's published playlists put together from the chunks the database records as done: in
order from the first, without a gap, only ever growing, never touched once final, and one advance at
a time (a lock per video).

The chunks are real ffmpeg runs of a 24 s clip in three 8 s chunks (two 4 s segments each), as the
chunk jobs make them; the helpers here are shared with test_publishing_chunks.py.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from app.domain import assembly, plan, streams
from app.domain.models import Video
from app.extensions import db
from app.platform.storage import get_storage
from media import chunks, command, playlists
from media.chunks import Chunk
from media.hls import HlsLadder
from media.ladder import Rung
from media.outputs import Span
from media.probe import Limits, MediaInfo, probe
from media.runner import RunLimits, run
from tests.unit.domain.test_chunk_plan import use_real_redis
from tests.unit.media.conftest import FAST

RUNGS = [Rung(160, 90)]
RUNG = RUNGS[0].name


@dataclass(frozen=True)
class Parts:
    """What the jobs of a chunked video made: each chunk's rungs and the audio, their playlists as
    ffmpeg left them."""

    info: MediaInfo
    chunks: list[Chunk]
    ladders: list[HlsLadder]
    audio: HlsLadder


_PARTS: list[Parts] = []


def encoded_parts(clips, tmp_path_factory) -> Parts:
    """The chunks and the audio of a 24 s clip, encoded once per test session."""
    if not _PARTS:
        source = clips("chunk-parts", width=160, height=90, seconds=24)
        info = probe(source, Limits())
        work = tmp_path_factory.mktemp("chunk-parts")
        planned = chunks.plan(info.duration, 8)
        ladders = [HlsLadder.plan_chunk(info, RUNGS, work / f"chunk{c.number}", c, FAST) for c in planned]
        audio = HlsLadder.plan_audio(info, work / "audio", FAST)
        runs = [(ladder.outputs, c.span) for ladder, c in zip(ladders, planned, strict=True)]
        for outputs, span in [*runs, (audio.outputs, Span())]:
            seconds = span.duration or info.duration
            run(command.build(source, info, outputs, span), seconds, lambda _: None, lambda: None, RunLimits(120))
        _PARTS.append(Parts(info, planned, ladders, audio))
    return _PARTS[0]


@pytest.fixture
def parts(clips, tmp_path_factory) -> Parts:
    return encoded_parts(clips, tmp_path_factory)


@pytest.fixture
def real_redis(app, redis_server):
    yield from use_real_redis(app, redis_server)


@pytest.fixture
def video(app, make_user, parts) -> Video:
    """A long video being converted, planned as the three chunks, its audio and its finish."""
    user, _ = make_user()
    made = Video(user_id=user.id, state="processing", duration=parts.info.duration)
    db.session.add(made)
    plan.plan_chunks(made, [(c.span.start, c.span.duration) for c in parts.chunks], has_audio=True)
    db.session.commit()
    return made


def done(video: Video, parts: Parts, *numbers: int) -> None:
    """The chunks' jobs record what they made, and that they are done, in one commit each."""
    for number in numbers:
        item = plan.item_of(video, plan.CHUNK, number)
        item.result = assembly.chunk_result(parts.ladders[number])
        plan.finish_item(item)
        db.session.commit()


def playlist_key(video: Video) -> str:
    return streams.key(video.id, f"{RUNG}/{streams.PLAYLIST}")


def published(video: Video) -> str | None:
    try:
        return get_storage().read_bytes(playlist_key(video)).decode()
    except FileNotFoundError:
        return None


def named(video: Video) -> list[str]:
    """The segments the published playlist names, in order."""
    return [uri for uri, _ in playlists.segments(published(video) or "")]


def segment_names(count: int) -> list[str]:
    return [f"seg_{n:05d}.m4s" for n in range(1, count + 1)]


def chunk_text(parts: Parts, *numbers: int) -> str:
    return playlists.joined([parts.ladders[n].rungs[0].path.read_text() for n in numbers])


@pytest.mark.parametrize(
    ("order", "counts", "segments"),
    [
        ((0, 1, 2), [1, 2, 3], [0, 4, 6]),
        ((2, 0, 1), [0, 1, 3], [0, 0, 6]),  # chunk 3 waits for chunk 2, which names both
        ((1, 2, 0), [0, 0, 3], [0, 0, 6]),
    ],
)
def test_the_playlist_names_the_chunks_done_from_the_first_without_a_gap(video, parts, real_redis, order, counts,
                                                                         segments):
    for number, count, listed in zip(order, counts, segments, strict=True):
        done(video, parts, number)
        assert assembly.advance(video.id) == count
        assert named(video) == segment_names(listed), f"after chunk {number + 1}"
    text = published(video)
    assert text.count("#EXT-X-MAP") == 1 and 'URI="init.mp4"' in text, "played from the first chunk's init segment"
    assert not playlists.is_final(text), "final only when the finish says"


def test_the_first_chunks_own_playlist_is_grown_over(video, parts, real_redis):
    """Chunk 1 publishes itself as it goes; once chunk 2 is done, the advance names both."""
    done(video, parts, 0)
    get_storage().put_text(playlist_key(video), playlists.first_segments(chunk_text(parts, 0), 1))
    assert assembly.advance(video.id) == 1 and named(video) == segment_names(1), "left to chunk 1's own job"
    done(video, parts, 1)
    assert assembly.advance(video.id) == 2 and named(video) == segment_names(4)


def test_a_longer_published_playlist_is_never_written_over(video, parts, real_redis):
    longer = chunk_text(parts, 0, 1, 2)
    get_storage().put_text(playlist_key(video), longer)  # named by an earlier advance, before a chunk was redone
    done(video, parts, 0, 1)
    assert assembly.advance(video.id) == 2
    assert published(video) == longer


def test_a_final_playlist_is_left_alone(video, parts, real_redis):
    final = playlists.final(chunk_text(parts, 0, 1))
    get_storage().put_text(playlist_key(video), final)
    done(video, parts, 0, 1, 2)
    assert assembly.advance(video.id) == 3
    assert published(video) == final, "whatever the database says, the finish's playlist stays"


def test_two_advances_at_once_leave_every_done_chunk_named(app, video, parts, real_redis, monkeypatch):
    """The first advance read the database just before chunk 3's commit, and is about to write what it
    found; the second, just after, runs meanwhile. The lock makes the second wait, so the first
    cannot write its shorter playlist over the second's."""
    done(video, parts, 0, 1, 2)
    first_writing, second_over = threading.Event(), threading.Event()
    storage = get_storage()
    real_done_chunks, real_put = assembly.done_chunks, storage.put_text

    def done_chunks(video_id):
        results, count = real_done_chunks(video_id)
        return (results[:2], count) if threading.current_thread().name == "first" else (results, count)

    def put_text(key, text):
        if threading.current_thread().name == "first":
            first_writing.set()
            second_over.wait(1.0)  # without the lock, the second advance ends meanwhile
        real_put(key, text)

    monkeypatch.setattr(assembly, "done_chunks", done_chunks)
    monkeypatch.setattr(storage, "put_text", put_text)
    counts = {}

    def advance() -> None:
        with app.app_context():
            counts[threading.current_thread().name] = assembly.advance(video.id)
            db.session.remove()
        if threading.current_thread().name == "second":
            second_over.set()

    first = threading.Thread(target=advance, name="first")
    second = threading.Thread(target=advance, name="second")
    first.start()
    assert first_writing.wait(10)
    second.start()
    first.join(30)
    second.join(30)
    assert counts == {"first": 2, "second": 3}
    assert named(video) == segment_names(6)
