"""Converting a work item that is the whole video: the engine run with the app's settings, the
stream published as the content check passes it (app/domain/publishing.py), then the upload's
subtitle tracks (app/domain/captions.py), the downloads, the storyboard and the poster, and the
video `ready`; or, on a match, nothing kept. A long video
is planned again instead, as chunks that every free worker takes (app/domain/chunking.py)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from flask import current_app

from app.domain import captions, chunking, content, encoding, quotas, streams
from app.domain.encoding import EngineSettings, Outputs
from app.domain.models import Video, WorkItem
from app.domain.publishing import Publisher
from app.domain.work import timeout_seconds
from app.extensions import db
from app.platform.storage import get_storage
from media import command, probe, runner, storyboard

PROBED, ENCODED, PACKAGED = 0.02, 0.93, 0.96  # of an item's own progress


def convert_whole(video: Video, item: WorkItem, progress, check: Callable[[], None]) -> None:
    """Make the HLS ladder, the storyboard, the poster and the content check's samples in one decode,
    publishing the stream as it comes; then the MP4 downloads from the same segments, and `ready`.

    `progress` is the job's Progress (0..1 of this item); `check` raises to stop (cancel, shutdown).
    """
    settings = EngineSettings.of(current_app.config, video)
    with tempfile.TemporaryDirectory(prefix="conveyor-") as workdir:
        work = Path(workdir)
        with get_storage().local_copy(video.source_key, work) as source:  # read once: not cached
            info = probe.probe(source, settings.limits)
            hours = quotas.check(video, info)  # before anything is decoded, or its size stored (the day's sum)
            video.duration, video.width, video.height = info.duration, info.width, info.height
            video.video_codec, video.audio_codec = info.video_codec[:32], info.audio_codec[:32] or None
            db.session.commit()
            progress.update(PROBED, force=True)
            if chunking.wanted(info):
                chunking.plan_long(video, info)
                return
            timeout = timeout_seconds(current_app.config, hours)  # from its work, within the budget
            limits = replace(settings.run_limits(info.duration), timeout=timeout)
            made = Outputs.plan(info, work, settings, checked=content.wanted(video))
            screening = content.Screening(video, made.samples.path) if made.samples else None
            publisher = Publisher(video, made.hls, screening, made.poster)

            def between() -> None:  # a few times a second while ffmpeg runs
                check()
                publisher.poll()

            try:
                runner.run(
                    command.build(source, info, made.all),
                    info.duration,
                    progress.stage(PROBED, ENCODED),
                    between,
                    limits,
                )
                publisher.finish()
            except content.Matched as found:
                encoding.reject(video, found.match)
                return
            captions.take_out(video, source, info, work, limits, check)
        made_downloads = encoding.downloads(made.hls, work, settings, info.duration)
        progress.update(PACKAGED, force=True)
        board = made.storyboard
        publisher.publish_files(streams.STORYBOARD_FOLDER, tile_storyboard(board.layout, board.path, work))
        encoding.publish_ready(video, item, made_downloads, made.poster.path, publisher.finalize, progress, PACKAGED)


def tile_storyboard(layout: storyboard.Layout, thumbnails: Path, work: Path) -> list[Path]:
    """The storyboard's sprite sheets and cues, from its thumbnails (all of them: all checked)."""
    sheets = storyboard.tile(layout, thumbnails, work / streams.STORYBOARD_FOLDER)
    return [*sheets, storyboard.write_vtt(layout, work / streams.STORYBOARD)]


