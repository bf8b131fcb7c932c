"""One long video spread over every free worker: planned as chunks cut on segment boundaries
(media/chunks.py), each an RQ job that seeks to its part of the source, decodes only that, and makes
every rung of it; the audio once, for the whole video, by a job of its own; then one finish
(app/domain/finishing.py), which RQ queues when all of those have ended well.

Each chunk is checked by the content check before any of it is stored. The first chunk streams as
a whole video does (the video is playable after its first segments, however long the video); a
later chunk's segments are stored as they are checked and named by the published playlists once
every chunk before it is done (app/domain/assembly.py). What a chunk leaves for the finish (its
storyboard thumbnails; the first chunk's poster) is stored under the video's work folder.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import current_app

from app.domain import assembly, captions, content, dispatch, encoding, plan, streams
from app.domain.encoding import EngineSettings, Outputs
from app.domain.models import Video, WorkItem
from app.domain.publishing import Publisher
from app.extensions import db
from app.platform.storage import get_storage
from app.platform.storage.cache import source_copy
from media import chunks, command, probe, runner
from media.chunks import Chunk
from media.hls import AUDIO_FOLDER, PLAYLIST, SEGMENT_SECONDS, HlsLadder
from media.outputs import Span

log = logging.getLogger(__name__)

PROBED, ENCODED = 0.02, 0.97  # of an item's own progress
MIN_CHUNK_SECONDS = 3 * SEGMENT_SECONDS  # a chunk holds at least one storyboard thumbnail (one per <= 10 s)
THUMBNAILS = "storyboard-{:05d}.yuv"
POSTER = "poster.jpg"


def wanted(info: probe.MediaInfo) -> bool:
    """Spread this video over workers? When it is longer than the threshold and makes two chunks or more."""
    threshold = current_app.config["CHUNK_THRESHOLD_SECONDS"]
    return threshold > 0 and info.duration > threshold and len(chunks.plan(info.duration, chunk_seconds())) > 1


def chunk_seconds() -> float:
    return max(MIN_CHUNK_SECONDS, current_app.config["CHUNK_SECONDS"])


def plan_long(video: Video, info: probe.MediaInfo) -> None:
    """Plan a long video as chunks, its audio and its finish, and queue them: the whole-video job that
    probed it is done."""
    planned = chunks.plan(info.duration, chunk_seconds())
    plan.plan_chunks(video, [(c.span.start, c.span.duration) for c in planned], info.has_audio)
    db.session.commit()
    log.info("video %s (%.0f s) planned as %d chunks", video.id, info.duration, len(planned))
    dispatch.enqueue(video)


def work_key(video_id: str, name: str) -> str:
    return streams.work_prefix(video_id) + name


def chunk_of(item: WorkItem) -> Chunk:
    count = sum(1 for other in item.video.work_items if other.kind == plan.CHUNK)
    start = item.start or 0.0
    return Chunk(item.number, count, Span(start, item.duration or 0.0), round(start / SEGMENT_SECONDS) + 1)


def convert_chunk(video: Video, item: WorkItem, progress, check: Callable[[], None]) -> None:
    """Make every rung of one chunk, its storyboard thumbnails, and (the first) the poster, checking as
    it goes; store them, record the chunk done, and publish what is now in order."""
    settings = EngineSettings.of(current_app.config, video)
    chunk = chunk_of(item)
    with tempfile.TemporaryDirectory(prefix="conveyor-") as workdir:
        work = Path(workdir)
        with source_copy(video.source_key, work) as source:
            info = probe.probe(source, settings.limits)
            progress.update(PROBED, force=True)
            made = Outputs.plan_chunk(info, work, settings, content.wanted(video), chunk)
            screening = content.Screening(video, made.samples.path, chunk.span.start) if made.samples else None
            if chunk.number == 0:  # it starts the stream, and writes the master, naming the audio's playlist
                waits = (f"{AUDIO_FOLDER}/{PLAYLIST}",) if info.has_audio else ()
                publisher = Publisher(
                    video, made.hls, screening, made.poster, master=made.master_ladder(info.has_audio), waits_for=waits
                )
            else:
                publisher = Publisher(video, made.hls, screening, writes_master=False, staged=True)
            if not _encode(video, source, info, made.all, chunk.span, publisher, progress, check, settings):
                return
            if chunk.number == 0 and not info.has_audio:  # no audio job: the first chunk's takes the subtitles
                captions.take_out(video, source, info, work, settings.run_limits(info.duration), check)
        storage = get_storage()
        storage.put_file(work_key(video.id, THUMBNAILS.format(chunk.number)), made.storyboard.path)
        if made.poster is not None and made.poster.path.is_file():
            storage.put_file(work_key(video.id, POSTER), made.poster.path)
        check()
        progress.update(1.0, force=True)
        item.result = assembly.chunk_result(made.hls)
        plan.finish_item(item)
        db.session.commit()
    assembly.advance(video.id)


def convert_audio(video: Video, item: WorkItem, progress, check: Callable[[], None]) -> None:
    """Encode a long video's audio once, the whole of it, publishing it as it comes: no picture decoded;
    then take out its subtitle tracks (a silent video's first chunk does that)."""
    settings = EngineSettings.of(current_app.config, video)
    with tempfile.TemporaryDirectory(prefix="conveyor-") as workdir:
        work = Path(workdir)
        with source_copy(video.source_key, work) as source:
            info = probe.probe(source, settings.limits)
            progress.update(PROBED, force=True)
            hls = HlsLadder.plan_audio(info, work / "stream", settings.encode)
            publisher = Publisher(video, hls, None, writes_master=False, waits_for=(streams.MASTER,))
            if not _encode(video, source, info, hls.outputs, Span(), publisher, progress, check, settings):
                return
            captions.take_out(video, source, info, work, settings.run_limits(info.duration), check)
        check()
        progress.update(1.0, force=True)
        item.result = json.dumps({"playlist": hls.audio.path.read_text(encoding="utf-8")})
        plan.finish_item(item)
        db.session.commit()


def _encode(video, source, info, outputs, span: Span, publisher: Publisher, progress, check, settings) -> bool:
    """Run ffmpeg on the span, publishing as the check passes it; False when a frame matched."""
    def between() -> None:  # a few times a second while ffmpeg runs
        check()
        publisher.poll()

    seconds = span.duration or info.duration
    try:
        runner.run(
            command.build(source, info, outputs, span), seconds, progress.stage(PROBED, ENCODED), between,
            settings.run_limits(seconds),
        )
        publisher.finish(close=False)  # a chunk's playlists go on in the next chunk's
    except content.Matched as found:
        encoding.reject(video, found.match)
        return False
    return True
