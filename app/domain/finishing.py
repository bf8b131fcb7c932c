"""A long video's finish: once every chunk and the audio are done, the playlists made final (VOD),
the master with measured rates, the MP4 downloads copied from the segments, the storyboard tiled
from every chunk's thumbnails, the poster, and `ready`.

It runs once. RQ queues it when the last of the jobs it depends on has ended well; a sweep
(app/domain/recovery.py) queues it when RQ never will (a chunk that failed and was then redone, a
dependency's job gone). Whoever queued it, and however often, `claim` lets one run at a time go on:
the first to claim it, until its worker dies. The `ready` move is itself a compare-and-set, so a
video is ready once, with one set of renditions, and its notifications are sent once.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import redis
from flask import current_app
from rq import get_current_job

from app.domain import assembly, chunking, encoding, plan, recovery, streams
from app.domain.conversion import tile_storyboard
from app.domain.encoding import EngineSettings
from app.domain.models import Video, WorkItem
from app.platform import queueing
from app.platform.storage import get_storage
from media import playlists, storyboard
from media.hls import AUDIO_FOLDER, HlsAudio, HlsLadder, HlsMedia

log = logging.getLogger(__name__)

FETCHED, PACKAGED = 0.4, 0.8  # of the finish's own progress
CLAIM_SECONDS = 24 * 3600  # a claim outlives any finish; a dead worker's is taken over at once


class NotReady(Exception):
    """Some chunk (or the audio) is not done: the finish waits to be queued again."""


def claim_key(video_id: str) -> str:
    return f"conveyor:finishing:{video_id}"


def claim(video_id: str) -> bool:
    """Whether this run may finish the video: no other run holds it, or the one that does is on a worker
    that is gone (killed mid-finish). The claim names the worker; a run on the same worker (a retry)
    takes it back."""
    connection = queueing.get_redis()
    job = get_current_job()
    me = (job.worker_name if job is not None else None) or "here"
    key = claim_key(video_id)
    if connection.set(key, me, nx=True, ex=CLAIM_SECONDS):
        return True
    with connection.pipeline() as pipe:
        try:
            pipe.watch(key)
            holder = pipe.get(key)
            holder = holder.decode() if isinstance(holder, bytes) else holder
            if holder not in (None, me) and recovery.is_alive(connection, holder):
                return False
            pipe.multi()
            pipe.set(key, me, ex=CLAIM_SECONDS)
            pipe.execute()
        except redis.WatchError:
            return False  # another run took it that very moment
    return True


def release(video_id: str) -> None:
    queueing.get_redis().delete(claim_key(video_id))


def ready_to_finish(video: Video) -> bool:
    results, count = assembly.done_chunks(video.id)
    audio = plan.item_of(video, plan.AUDIO)
    return count > 0 and len(results) == count and (audio is None or audio.finished_at is not None)


def finish(video: Video, item: WorkItem, progress, check: Callable[[], None]) -> None:
    """Make the finished stream, the downloads and the storyboard from what the chunks stored; `ready`."""
    settings = EngineSettings.of(current_app.config, video)
    results, count = assembly.done_chunks(video.id)
    audio_item = plan.item_of(video, plan.AUDIO)
    storage = get_storage()
    with tempfile.TemporaryDirectory(prefix="conveyor-") as workdir:
        work = Path(workdir)
        root = work / "stream"
        rungs = [assembly.hls_rung(spec, root) for spec in assembly.rungs_of(results[0])]
        finals: dict[str, str] = {}
        media: list[HlsMedia] = list(rungs)
        texts = [assembly.joined(results, rung.rung.name) for rung in rungs]
        audio = None
        if audio_item is not None:
            audio = HlsAudio(root / AUDIO_FOLDER, settings.encode)
            media.append(audio)
            texts.append(json.loads(audio_item.result)["playlist"])
        fetch_step = progress.stage(0.0, FETCHED)
        for index, (output, text) in enumerate(zip(media, texts, strict=True)):
            name = output.folder.name
            finals[name] = playlists.final(text)
            _fetch(video.id, output, finals[name], check)
            fetch_step((index + 1) / len(media))
        hls = HlsLadder(root, tuple(rungs), audio)
        made = encoding.downloads(hls, work, settings, video.duration or 0.0)
        progress.update(PACKAGED, force=True)
        check()
        thumbnails = work / "storyboard.yuv"
        with thumbnails.open("wb") as joined:
            for number in range(count):
                part = storage.get_file(chunking.work_key(video.id, chunking.THUMBNAILS.format(number)), work / "part")
                joined.write(part.read_bytes())
        layout = storyboard.Layout.plan(video.duration or 0.0, video.width or 2, video.height or 2)
        for path in tile_storyboard(layout, thumbnails, work):
            storage.put_file(streams.key(video.id, f"{streams.STORYBOARD_FOLDER}/{path.name}"), path)
        poster = work / "poster.jpg"
        try:
            storage.get_file(chunking.work_key(video.id, chunking.POSTER), poster)
        except FileNotFoundError:
            poster = None

        def finalize() -> None:
            for name, text in finals.items():
                storage.put_text(streams.key(video.id, f"{name}/{streams.PLAYLIST}"), text)
            playlists.write_master(hls, measured=True)
            storage.put_file(streams.key(video.id, streams.MASTER), hls.master_path)

        encoding.publish_ready(video, item, made, poster, finalize, progress, PACKAGED)
    storage.delete_prefix(streams.work_prefix(video.id))
    log.info("video %s finished from %d chunks", video.id, count)


def _fetch(video_id: str, output: HlsMedia, final_text: str, check: Callable[[], None]) -> None:
    """A media playlist's init segment and segments, from storage into its local folder, with its text."""
    storage = get_storage()
    output.folder.mkdir(parents=True, exist_ok=True)
    folder = output.folder.name
    init = playlists.init_segment_uri(final_text)
    uris = [*([init] if init else []), *(uri for uri, _ in playlists.segments(final_text))]
    for index, uri in enumerate(uris):
        if index % 50 == 0:
            check()
        storage.get_file(streams.key(video_id, f"{folder}/{uri}"), output.folder / uri)
    output.path.write_text(final_text, encoding="utf-8")
