"""The conversion job, run in-process against fakeredis, with real ffmpeg on generated clips."""

from __future__ import annotations

from pathlib import Path

from rq.job import Job
from rq.registry import ScheduledJobRegistry

from app.domain.dispatch import cancel_key
from app.domain.models import Video
from app.domain.plan import job_id
from app.extensions import db
from app.platform.storage import get_storage
from jobs.convert import conversion_failed
from tests.media import streams
from tests.unit.conftest import upload
from tests.unit.test_dashboard import dashboard_token
from tests.unit.test_pages import log_in


def test_conversion_makes_each_rendition_up_to_the_source_height(app, client, auth, run_jobs, clips):
    response = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1))
    assert response.status_code == 202
    run_jobs()
    video = db.session.get(Video, response.json["id"])
    assert video.state == "ready" and video.status == 1.0
    assert [(r.name, r.width, r.height) for r in video.renditions] == [("144p", 192, 144), ("240p", 320, 240)]
    storage = get_storage()
    for rendition in video.renditions:
        kinds = {s["codec_type"]: s["codec_name"] for s in streams(storage.path(rendition.key))}
        assert kinds == {"video": "h264", "audio": "aac"}
    assert storage.path(video.poster_key).read_bytes()[:3] == b"\xff\xd8\xff"


def test_progress_reaches_the_job_meta(app, client, auth, run_jobs, clips):
    response = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1))
    run_jobs()
    job = Job.fetch(job_id(response.json["id"]), connection=app.extensions["redis"])
    assert 0.9 <= job.get_meta()["progress"] <= 1.0


def test_bad_media_fails_with_a_reason_and_is_not_retried(app, client, auth, run_jobs, clips, tmp_path):
    whole = clips("c320x240", width=320, height=240, seconds=1).read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(whole[: len(whole) // 3])
    app.config["JOB_RETRIES"] = 2
    response = upload(client, auth, truncated)
    run_jobs()
    video = db.session.get(Video, response.json["id"])
    assert video.state == "failed"
    assert video.attempts == 1
    assert "incomplete or damaged" in video.error or "damaged" in video.error
    assert "Traceback" not in video.error


def test_a_cancelled_job_never_converts(app, client, auth, run_jobs, clips):
    response = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1))
    app.extensions["redis"].set(cancel_key(response.json["id"]), 1)
    run_jobs()
    video = db.session.get(Video, response.json["id"])
    assert video.state == "cancelled"
    assert video.renditions == [] and video.started_at is None


def test_last_failed_attempt_marks_the_video_failed(app, client, auth, clips):
    response = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1))
    job = Job.fetch(job_id(response.json["id"]), connection=app.extensions["redis"])
    job.retries_left = 1
    conversion_failed(job, None, OSError, OSError("storage unreachable"), None)
    assert db.session.get(Video, response.json["id"]).state == "queued"
    job.retries_left = 0
    conversion_failed(job, None, OSError, OSError("storage unreachable"), None)
    video = db.session.get(Video, response.json["id"])
    assert video.state == "failed" and "storage unreachable" in video.error


def test_missing_source_is_retried_not_failed(app, client, auth, run_jobs, clips):
    app.config["JOB_RETRIES"] = 1
    response = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1))
    Path(get_storage().path(f"videos/{response.json['id']}/source")).unlink()
    run_jobs()  # the first attempt raises; RQ schedules a retry instead of failing the video
    video = db.session.get(Video, response.json["id"])
    assert video.state == "processing"
    job = Job.fetch(job_id(video.id), connection=app.extensions["redis"])
    assert job.retries_left == 0


def test_a_failed_conversion_is_a_failed_job_with_its_reason(app, client, auth, run_jobs, clips, tmp_path):
    whole = clips("c320x240", width=320, height=240, seconds=1).read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(whole[: len(whole) // 3])
    app.config["JOB_RETRIES"] = 2  # bad media is never retried, whatever the policy
    response = upload(client, auth, truncated)
    run_jobs()
    queue = app.extensions["queues"]["default"]
    assert queue.failed_job_registry.get_job_ids() == [job_id(response.json["id"])]
    assert ScheduledJobRegistry(queue=queue).get_job_ids() == []
    job = Job.fetch(job_id(response.json["id"]), connection=app.extensions["redis"])
    assert job.get_status() == "failed"
    assert db.session.get(Video, response.json["id"]).error in job.latest_result().exc_string


def test_retrying_a_failed_job_from_the_dashboard_converts_again(app, client, make_user, run_jobs, clips):
    _, token = make_user("root", admin=True)
    clip = clips("c320x240", width=320, height=240, seconds=1)
    video_id = upload(client, {"Authorization": f"Bearer {token}"}, clip).json["id"]
    source = Path(get_storage().path(f"videos/{video_id}/source"))
    source.unlink()  # storage lost it: the one attempt allowed fails
    run_jobs()
    assert db.session.get(Video, video_id).state == "failed"
    source.parent.mkdir(parents=True, exist_ok=True)  # (its folder went with its last file)
    source.write_bytes(clip.read_bytes())  # the operator fixed storage, then retries from /rq
    log_in(client, "root")
    response = client.post(
        f"/rq/job/{job_id(video_id)}/requeue",
        headers={"X-CSRFToken": dashboard_token(client), "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 200
    run_jobs()
    video = db.session.get(Video, video_id)
    assert video.state == "ready" and video.error is None and len(video.renditions) == 2
