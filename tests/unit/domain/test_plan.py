"""A video's conversion as a plan of work items: what is queued, watched, cancelled and recovered."""

from __future__ import annotations

import pytest
from rq.job import Job

from app.domain import dispatch, plan, videos
from app.domain.models import Video, WorkItem
from app.domain.states import State
from app.extensions import db
from tests.unit.conftest import upload


@pytest.fixture
def video_id(client, auth, clips) -> str:
    return upload(client, auth, clips("c320x240", width=320, height=240, seconds=1)).json["id"]


def test_an_upload_is_planned_as_one_item_the_whole_video_queued_by_its_dotted_path(app, video_id):
    video = db.session.get(Video, video_id)
    [item] = video.work_items
    assert (item.kind, item.number, item.weight, item.progress) == ("whole", 0, 1.0, 0.0)
    job = Job.fetch(plan.item_job_id(item), connection=app.extensions["redis"])
    assert job.id == f"convert-{video_id}" and job.func_name == "jobs.convert.convert_video"
    assert job.args == (video_id,) and job.origin == "conveyor-default"


def test_a_ready_video_has_every_item_done(video_id, run_jobs):
    run_jobs()
    video = db.session.get(Video, video_id)
    assert video.state == "ready"
    assert [(item.progress, item.attempts, item.finished_at is not None) for item in video.work_items] == [
        (1.0, 1, True)
    ]


def test_live_progress_weighs_items_by_their_share(app, video_id):
    video = db.session.get(Video, video_id)
    video.work_items = [
        WorkItem(kind="part", number=0, weight=0.25, progress=1.0, finished_at=db.func.now()),
        WorkItem(kind="part", number=1, weight=0.75, progress=0.2, started_at=db.func.now()),
    ]
    db.session.commit()
    done, running = video.work_items
    assert dispatch.live_progress(video) is None  # no running item's job has said anything yet
    running_job = app.extensions["queues"]["default"].enqueue("builtins.len", "x", job_id=plan.item_job_id(running))
    running_job.meta["progress"] = 0.6
    running_job.save_meta()
    assert dispatch.live_progress(video) == pytest.approx(0.25 + 0.75 * 0.6)
    assert plan.whole_fraction(running, 0.8) == pytest.approx(0.25 + 0.75 * 0.8)


def test_cancel_stops_every_queued_item(app, video_id):
    video = db.session.get(Video, video_id)
    assert videos.cancel(video)
    job = Job.fetch(f"convert-{video_id}", connection=app.extensions["redis"])
    assert job.get_status() == "canceled"
    assert dispatch.cancel_requested(video_id)


def test_items_no_live_job_runs_are_found(app, video_id):
    video = db.session.get(Video, video_id)
    connection = app.extensions["redis"]
    assert dispatch.missing_items(video, connection) == []
    connection.flushdb()  # Redis forgot everything
    assert dispatch.missing_items(video, connection) == video.work_items


def test_a_plan_made_again_resets_its_items_and_keeps_their_count_of_attempts(video_id, run_jobs):
    run_jobs()
    video = db.session.get(Video, video_id)
    [item] = plan.make_plan(video)
    db.session.commit()
    assert (item.progress, item.finished_at, item.attempts) == (0.0, None, 1)
    assert video.state == State.READY.value  # planning is not a move
