"""A long video's stream put together from its chunks, in order, exactly as one run would have made it.

Each chunk's job stores its checked segments, then records what it made in its work item (the
playlist of each rung, in the item's `result`) in the same commit that marks it done. Publishing
is then one step that anyone may take at any time, `advance`: under a lock per video, each rung's
published playlist is made to name every chunk done so far without a gap, from the first. The
first chunk publishes its own segments as they come (it starts the stream); a later chunk's are
named once every chunk before it is done, whichever job gets there: the last of them to finish
names all that were waiting. A published playlist only grows (a shorter one is never written over
a longer one) and is never touched again once final.

The database holds what each chunk made, so nothing here depends on which worker did what, and a
chunk done twice (a retry after its commit) changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from app.domain import plan, streams
from app.domain.models import WorkItem
from app.extensions import db
from app.platform import queueing
from app.platform.storage import get_storage
from media import playlists
from media.hls import HlsLadder, HlsRung
from media.ladder import Rung

LOCK_SECONDS = 60  # longest an advance may hold the lock (a few small reads and writes)


@dataclass(frozen=True)
class RungSpec:
    """What the finish needs to know of a rung the chunks made, without probing the source again."""

    name: str
    width: int
    height: int
    frame_rate: float


def chunk_result(ladder: HlsLadder) -> str:
    """What a chunk's item records when it is done: its rungs and each one's playlist, as ffmpeg wrote it."""
    return json.dumps({
        "rungs": [
            {"name": r.rung.name, "width": r.rung.width, "height": r.rung.height, "frame_rate": r.frame_rate}
            for r in ladder.rungs
        ],
        "playlists": {r.rung.name: r.path.read_text(encoding="utf-8") for r in ladder.rungs},
    })


def done_chunks(video_id: str) -> tuple[list[dict], int]:
    """The results of the chunks done from the first without a gap, as the database has them now; and
    how many chunks the video has."""
    db.session.commit()  # read what other workers committed, not this session's snapshot
    rows = db.session.execute(
        db.select(WorkItem.number, WorkItem.finished_at, WorkItem.result)
        .where(WorkItem.video_id == video_id, WorkItem.kind == plan.CHUNK)
        .order_by(WorkItem.number)
    ).all()
    results = []
    for row in rows:
        if row.finished_at is None or not row.result:
            break
        results.append(json.loads(row.result))
    return results, len(rows)


def rungs_of(result: dict) -> list[RungSpec]:
    return [RungSpec(**rung) for rung in result["rungs"]]


def joined(results: list[dict], name: str) -> str:
    """One rung's playlist naming the segments of these chunks, in order; left open."""
    return playlists.joined([result["playlists"][name] for result in results])


def advance(video_id: str) -> int:
    """Name every chunk done so far in order in the published playlists; the number of chunks named."""
    connection = queueing.get_redis()
    with connection.lock(f"conveyor:assembly:{video_id}", timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS):
        results, _ = done_chunks(video_id)
        if len(results) < 2:
            return len(results)  # until the first chunk is done it publishes itself
        storage = get_storage()
        for rung in rungs_of(results[0]):
            key = streams.key(video_id, f"{rung.name}/{streams.PLAYLIST}")
            try:
                stored = storage.read_bytes(key).decode("utf-8")
            except FileNotFoundError:
                stored = ""
            if stored and playlists.is_final(stored):
                continue  # the finish made it final: nothing more to name
            text = joined(results, rung.name)
            if len(playlists.segments(text)) > len(playlists.segments(stored)):
                storage.put_text(key, text)
        return len(results)


def hls_rung(spec: RungSpec, root: Path) -> HlsRung:
    """The rung the chunks made, under `root`: for the finish's master playlist and downloads."""
    return HlsRung(Rung(spec.width, spec.height), root / spec.name, spec.frame_rate)
