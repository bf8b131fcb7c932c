"""Quotas: decoded work in hours of 1080p30, the per-video and per-user limits and their messages, the
timeout the work allows; admission: a user's first MAX_ACTIVE_CONVERSIONS unfinished videos in RQ's
queues, the next admitted as one ends, and recovery that queues again only what is admitted."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.domain import dispatch, plan, quotas, recovery, videos, work
from app.domain.models import Video, utcnow
from app.domain.states import State
from app.extensions import db
from media.probe import MediaInfo

NOW = datetime(2025, 6, 1, 12, 0)


def info(width=1920, height=1080, rate=30.0, seconds=3600.0, frames=0) -> MediaInfo:
    return MediaInfo("mov", seconds, width, height, rate, True, frames=frames)


def config(**overrides) -> dict:
    return {"MAX_VIDEO_WORK_HOURS": 4, "USER_DAILY_WORK_HOURS": 12, "CONVERT_TIMEOUT_BASE": 120,
            "CONVERT_TIMEOUT_WORK_FACTOR": 4, **overrides}


@pytest.mark.parametrize(("media", "hours"), [
    (info(), 1.0),  # an hour of 1080p30
    (info(rate=60), 2.0),
    (info(7680, 4320, 30, 4 * 3600), 64.0),  # the 4 h 8K clip that would hold a worker for about 13 h
    (info(3840, 2160, 30, 900), 1.0),
    (info(320, 240, 30, 3600), 640 * 360 / (1920 * 1080)),  # a small frame costs as much as a 360p one
    (info(rate=0, frames=54000), 0.5),  # no frame rate: the frames the container declares
    (info(rate=0), 1.0),  # neither: 30 fps
])
def test_work_is_pixels_times_frames_in_hours_of_1080p30(media, hours):
    assert work.work_hours(media) == pytest.approx(hours)


def test_a_video_over_the_per_video_limit_is_refused_with_what_to_do(video):
    with pytest.raises(quotas.OverBudget) as refused:
        quotas.check(video, info(7680, 4320, 30, 4 * 3600), config(), NOW)
    assert str(refused.value) == (
        "This video is 7680x4320 at 30 fps for 4 hours: as much decoding as 64 hours of 1080p video at 30 fps, "
        "and the limit for one video is 4 hours. Upload a shorter part of it, or a version with a smaller "
        "picture or a lower frame rate."
    )


def test_within_the_limits_its_work_is_returned(video):
    assert quotas.check(video, info(seconds=4 * 3600), config(), NOW) == pytest.approx(4.0)
    assert quotas.check(video, info(7680, 4320, 30, 4 * 3600), config(MAX_VIDEO_WORK_HOURS=0,
                                                                       USER_DAILY_WORK_HOURS=0), NOW) == 64


def earlier(video: Video, started: datetime, hours: float, **fields) -> Video:
    """Another video of the same owner, started at `started`, of `hours` of 1080p30."""
    other = Video(user_id=video.user_id, state="ready", started_at=started, width=1920, height=1080,
                  duration=hours * 3600, **fields)
    db.session.add(other)
    db.session.commit()
    return other


def test_the_days_work_counts_the_owners_videos_of_the_last_24_hours(video, make_user):
    earlier(video, NOW - timedelta(hours=20), 4)
    earlier(video, NOW - timedelta(hours=10), 3)
    earlier(video, NOW - timedelta(hours=25), 4)  # out of the window
    stranger, _ = make_user("bob")
    db.session.add(Video(user_id=stranger.id, started_at=NOW, width=1920, height=1080, duration=36000))
    db.session.add(Video(user_id=video.user_id, started_at=NOW, state="failed"))  # refused: never sized
    db.session.commit()
    # 7 h used: 5 more is 12, within the day's 12; 6 is over by 1, and the 4 h of 20 h ago leave at 16:00
    assert quotas.check(video, info(seconds=5 * 3600), config(MAX_VIDEO_WORK_HOURS=0), NOW) == 5
    with pytest.raises(quotas.OverBudget) as refused:
        quotas.check(video, info(seconds=3 * 3600, rate=60), config(MAX_VIDEO_WORK_HOURS=0), NOW)
    assert str(refused.value) == (
        "Your videos of the last 24 hours used 7 hours of your daily 12 hours of conversion (counted as 1080p "
        "video at 30 fps), and this one needs 6 hours. Upload it again after 2025-06-01 16:00 UTC, or a "
        "shorter or smaller version now."
    )


def test_a_video_over_the_whole_daily_limit_says_so(video):
    with pytest.raises(quotas.OverBudget, match="more than your daily limit of 2 hours"):
        quotas.check(video, info(seconds=3 * 3600), config(USER_DAILY_WORK_HOURS=2), NOW)


def test_the_video_itself_is_not_counted_again_on_a_retry(video):
    video.started_at, video.width, video.height, video.duration = NOW, 1920, 1080, 4 * 3600
    db.session.commit()
    assert quotas.check(video, info(seconds=4 * 3600), config(USER_DAILY_WORK_HOURS=4), NOW) == 4


def test_the_timeout_follows_the_work_and_stops_at_the_budget():
    cfg = config()
    assert work.timeout_seconds(cfg, 0.5) == 120 + 4 * 1800
    assert work.timeout_seconds(cfg, 64) == 120 + 4 * 4 * 3600  # 16 h, not 40 h
    assert work.timeout_seconds(config(MAX_VIDEO_WORK_HOURS=0), 64) == 120 + 4 * 64 * 3600
    assert work.whole_job_timeout(cfg) == round(2 * (120 + 4 * 4 * 3600) + 300)
    assert work.whole_job_timeout(config(MAX_VIDEO_WORK_HOURS=0)) is None


def test_a_small_video_keeps_the_base_timeout(app):
    hours = work.work_hours(info(320, 240, 25, 2))
    assert 120 < work.timeout_seconds(app.config, hours) < 121


# admission


@pytest.fixture
def cap(app):
    app.config["MAX_ACTIVE_CONVERSIONS"] = 2
    return 2


@pytest.fixture
def connection(app):
    return app.extensions["redis"]


@pytest.fixture
def upload(app, make_user):
    users = {}

    def make(name: str = "alice", created: datetime | None = None) -> Video:
        if name not in users:
            users[name] = make_user(name)[0]
        video = Video(user_id=users[name].id, title="clip", created_at=created or utcnow())
        db.session.add(video)
        plan.make_plan(video)
        db.session.commit()
        videos.start(video)
        return video

    return make


def in_rq(connection, video: Video) -> bool:
    return not dispatch.missing_items(video, connection)


def test_a_users_videos_beyond_the_cap_are_held_and_anothers_go_straight_in(cap, connection, upload):
    backlog = [upload("alice") for _ in range(5)]
    other = upload("bob")
    assert [in_rq(connection, video) for video in backlog] == [True, True, False, False, False]
    assert in_rq(connection, other)
    assert all(video.state == State.QUEUED.value for video in [*backlog, other])  # held ones too: nothing lost
    assert quotas.held_count(backlog[0].user_id, cap) == 3
    queue = dispatch.queueing.get_queue("default")
    assert queue.job_ids == [plan.job_id(v.id) for v in (backlog[0], backlog[1], other)]


def test_a_video_that_ends_admits_the_next_in_line(cap, connection, upload):
    backlog = [upload("alice") for _ in range(4)]
    videos.move(backlog[0], State.PROCESSING)
    videos.move(backlog[0], State.READY)
    assert [in_rq(connection, video) for video in backlog[1:]] == [True, True, False]
    videos.cancel(backlog[1])
    assert in_rq(connection, backlog[3])
    assert quotas.held_count(backlog[0].user_id, cap) == 0


def test_deleting_an_unfinished_video_admits_the_next(cap, connection, upload):
    backlog = [upload("alice") for _ in range(3)]
    videos.delete(backlog[0])
    assert in_rq(connection, backlog[2])


def test_processing_videos_count_first(cap, connection, upload):
    """A video an operator retried from /rq is processing outside the order: it takes a place."""
    first, second = upload("alice"), upload("alice")
    late = Video(user_id=first.user_id, state="processing", created_at=utcnow() + timedelta(hours=1))
    db.session.add(late)
    db.session.commit()
    admitted = set(db.session.scalars(quotas.admitted(cap)))
    assert admitted == {first.id, late.id}
    assert second.id not in admitted


def test_no_cap_queues_everything(app, connection, upload):
    app.config["MAX_ACTIVE_CONVERSIONS"] = 0
    assert all(in_rq(connection, upload("alice")) for _ in range(6))


def test_admission_never_queues_a_video_twice(cap, connection, upload):
    video = upload("alice")
    quotas.admit(video.user_id)
    quotas.admit(video.user_id)
    assert dispatch.queueing.get_queue("default").job_ids == [plan.job_id(video.id)]


def test_after_redis_is_lost_recovery_queues_the_admitted_only(app, cap, connection, upload):
    backlog = [upload("alice", created=utcnow() - timedelta(minutes=10 - n)) for n in range(4)]
    connection.flushdb()
    db.session.execute(db.update(Video).values(updated_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()
    recovery.recover(connection, list(app.extensions["queues"].values()))
    db.session.expire_all()
    assert [in_rq(connection, video) for video in backlog] == [True, True, False, False]
