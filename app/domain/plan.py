"""A video's conversion as a plan of work items, each run as one RQ job (app/domain/dispatch.py)
with its own progress and attempts.

Every video starts as one item, the whole video. Its job probes the source; a long one is planned
again (`plan_chunks`) as chunks any free worker takes, its audio, and one finishing item that runs
once every other item is done. The items' weights (their shares of the work) make the video's one
progress figure.
"""

from __future__ import annotations

from sqlalchemy.orm.attributes import set_committed_value

from app.domain.models import Video, WorkItem, utcnow
from app.domain.states import State
from app.extensions import db

WHOLE = "whole"  # the item that converts the whole video in one job (and plans a long one again)
CHUNK = "chunk"  # a part of a long video, every rung of it (app/domain/chunking.py)
AUDIO = "audio"  # all of a long video's audio, encoded once
FINISH = "finish"  # a long video's last step, once every other item is done (app/domain/finishing.py)
# what runs each kind of item, by dotted path: the web never imports job code
JOBS = {
    WHOLE: "jobs.convert.convert_video",
    CHUNK: "jobs.convert.convert_chunk",
    AUDIO: "jobs.convert.convert_audio",
    FINISH: "jobs.convert.finish_video",
}
# shares of a long video's work: its chunks share what is left, by their length
AUDIO_WEIGHT, FINISH_WEIGHT = 0.02, 0.08


def job_id(video_id: str, kind: str = WHOLE, number: int = 0) -> str:
    return f"convert-{video_id}" if kind == WHOLE else f"{kind}-{video_id}-{number}"


def item_job_id(item: WorkItem) -> str:
    return job_id(item.video_id, item.kind, item.number)


def make_plan(video: Video) -> list[WorkItem]:
    """The work items of a conversion from the start (the caller commits): one, the whole video.

    Items the video had already are reset and kept (their attempts go on counting), not replaced.
    """
    return _replan(video, [(WHOLE, 0, 1.0, None, None)])


def plan_chunks(video: Video, spans: list[tuple[float, float]], has_audio: bool) -> list[WorkItem]:
    """A long video's items (the caller commits): a chunk per (start, duration) span, the audio when it
    has some, and the finish. The whole-video item that planned them is done with."""
    total = sum(duration for _, duration in spans) or 1.0
    share = 1.0 - FINISH_WEIGHT - (AUDIO_WEIGHT if has_audio else 0.0)
    planned = [(CHUNK, number, share * duration / total, start, duration) for number, (start, duration) in
               enumerate(spans)]
    if has_audio:
        planned.append((AUDIO, 0, AUDIO_WEIGHT, None, None))
    return _replan(video, [*planned, (FINISH, 0, FINISH_WEIGHT, None, None)])


def _replan(video: Video, planned: list[tuple]) -> list[WorkItem]:
    existing = {(item.kind, item.number): item for item in video.work_items}
    items = []
    for kind, number, weight, start, duration in planned:
        item = existing.get((kind, number)) or WorkItem(kind=kind, number=number)
        item.weight, item.progress, item.started_at, item.finished_at = weight, 0.0, None, None
        item.start, item.duration, item.result = start, duration, None
        items.append(item)
    video.work_items = items
    return items


def items_of(video: Video) -> list[WorkItem]:
    """The video's items; a video from before plans existed gets its plan now."""
    if not video.work_items:
        make_plan(video)
        db.session.commit()
    return video.work_items


def is_chunked(video: Video) -> bool:
    return any(item.kind != WHOLE for item in video.work_items)


def item_of(video: Video, kind: str, number: int = 0) -> WorkItem | None:
    return next((i for i in video.work_items if (i.kind, i.number) == (kind, number)), None)


def part_name(item: WorkItem) -> str:
    """Which part of its video an item is, for people: `chunk 3 of 12`, `audio`, `finish`."""
    if item.kind == CHUNK:
        count = sum(1 for other in item.video.work_items if other.kind == CHUNK)
        return f"chunk {item.number + 1} of {count}"
    return item.kind


def start_item(item: WorkItem) -> None:
    item.attempts += 1
    item.started_at = utcnow()
    item.finished_at = None


def finish_item(item: WorkItem) -> None:
    item.progress = 1.0
    item.finished_at = utcnow()


def whole_fraction(item: WorkItem, fraction: float) -> float:
    """The video's fraction done when `item` is `fraction` done: the items' weighted sum, below 1.0
    (which is for `ready` alone). The other items' parts as this session last read them."""
    done = sum(
        i.weight * (max(i.progress, fraction) if i is item else (1.0 if i.finished_at else i.progress))
        for i in item.video.work_items
    )
    return min(done, 0.99)


def mirror_progress(video_id: str, item: WorkItem, fraction: float) -> float:
    """Write an item's progress and the video's whole fraction (which only grows) to the database; the
    other items' parts are read afresh, as other workers wrote them."""
    item.progress = max(item.progress, min(fraction, 1.0))
    siblings = {i.id: i for i in item.video.work_items if i is not item}
    if siblings:
        rows = db.session.execute(
            db.select(WorkItem.id, WorkItem.progress, WorkItem.finished_at).where(WorkItem.id.in_(siblings))
        )
        for row in rows:  # as read, not as changed by this session: nothing of theirs is written back
            set_committed_value(siblings[row.id], "progress", row.progress)
            set_committed_value(siblings[row.id], "finished_at", row.finished_at)
    whole = whole_fraction(item, fraction)
    db.session.execute(
        db.update(Video)
        .where(Video.id == video_id, Video.status < whole, Video.state == State.PROCESSING.value)
        .values(status=whole)
    )
    db.session.commit()
    return whole
