"""Deliveries: recorded when a video ends, queued on `high`, signed, retried on the right answers."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from app import create_app
from app.config import DEFAULT_NOTIFY_RETRY_INTERVALS, parse_intervals
from app.domain.models import Delivery, User, Video, utcnow
from app.domain.notifications import job_id, notify_final, requeue_forgotten, retry_policy
from app.domain.notifications.callback import classify, sign
from app.domain.notifications.channels import RETRY
from app.domain.notifications.email import compose
from app.extensions import db
from app.platform.mailer import MailConfigError, MailServer
from tests.receivers import HttpReceiver, MailReceiver
from tests.unit.conftest import upload


@pytest.fixture
def receiver():
    with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture
def loopback_allowed(app):
    app.config["CALLBACK_ALLOWED_NETWORKS"] = [ipaddress.ip_network("127.0.0.0/8")]


@pytest.fixture
def alice(make_user) -> User:
    return make_user("alice")[0]


def ended(user: User, state: str = "ready", callback_url: str | None = None, title: str = "Clip") -> Video:
    video = Video(user_id=user.id, title=title, filename="clip.mp4", state=state, callback_url=callback_url)
    video.finished_at = utcnow()
    video.status = 1.0 if state == "ready" else 0.5
    video.error = "The file holds no picture." if state == "failed" else None
    db.session.add(video)
    db.session.commit()
    return video


def shown(client, token: str, video_id: str) -> dict:
    return client.get(f"/api/videos/{video_id}", headers={"Authorization": f"Bearer {token}"}).json


def verify(secret: str, header: str, body: bytes) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def test_signature_matches_a_known_answer():
    # openssl: printf '1700000000.{"event":"video.ready","id":"abc"}' | openssl dgst -sha256 -hmac whsec_test
    header = sign("whsec_test", 1700000000, b'{"event":"video.ready","id":"abc"}')
    assert header == "t=1700000000,v1=f7ab731f8bdab5612aaf206666f87b088c59ae12db309dbe8ac83bd18f49789e"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, "delivered"), (204, "delivered"), (301, "failed"), (302, "failed"), (400, "failed"), (401, "failed"),
     (404, "failed"), (410, "failed"), (408, RETRY), (429, RETRY), (500, RETRY), (502, RETRY), (503, RETRY)],
)
def test_which_answers_are_retried(status, outcome):
    assert classify(status).status == outcome


def test_default_back_off_grows_over_about_a_day():
    intervals = parse_intervals(DEFAULT_NOTIFY_RETRY_INTERVALS)
    assert intervals == sorted(intervals) and intervals[0] < 60
    assert 20 * 3600 <= sum(intervals) <= 30 * 3600


def test_retry_policy_follows_the_setting(app):
    app.config["NOTIFY_RETRY_INTERVALS"] = [1, 5, 25]
    policy = retry_policy()
    assert (policy.max, policy.intervals) == (3, [1, 5, 25])
    app.config["NOTIFY_RETRY_INTERVALS"] = []
    assert retry_policy() is None


@pytest.mark.parametrize("raw", ["abc", "5,-1", "0", "1.5"])
def test_bad_retry_intervals_are_refused(raw):
    with pytest.raises(RuntimeError, match="NOTIFY_RETRY_INTERVALS"):
        parse_intervals(raw)


def test_a_final_state_queues_one_job_per_delivery_on_high_with_only_its_id(app, alice):
    app.config["MAIL_URL"] = "smtp://mailer:s3cret-pw@127.0.0.1:2525"
    alice.email = "alice@example.com"
    video = ended(alice, callback_url="https://hooks.example.com/in?token=abc")
    deliveries = notify_final(video)
    assert sorted((d.kind, d.event, d.target) for d in deliveries) == [
        ("callback", "video.ready", "https://hooks.example.com/in?token=abc"),
        ("email", "video.ready", "alice@example.com"),
    ]
    queue = app.extensions["queues"]["high"]
    assert sorted(queue.get_job_ids()) == sorted(job_id(d.id) for d in deliveries)
    for delivery in deliveries:
        job = Job.fetch(job_id(delivery.id), connection=app.extensions["redis"])
        assert job.args == (delivery.id,) and job.kwargs == {}
        assert "hooks.example.com" not in job.description and "alice@" not in job.description
    notify_final(video)  # a second ending (the worker after a cancel) records nothing new
    assert db.session.scalar(sa.select(sa.func.count(Delivery.id))) == 2


def test_no_mail_for_a_video_the_uploader_cancelled_nor_without_an_address(app, alice):
    app.config["MAIL_URL"] = "smtp://127.0.0.1:2525"
    alice.email = "alice@example.com"
    assert notify_final(ended(alice, state="cancelled")) == []
    alice.email = None
    assert notify_final(ended(alice, state="failed")) == []


def test_the_users_default_callback_is_used_when_the_upload_names_none(app, alice):
    alice.callback_url = "https://default.example.com/hook"
    assert [d.target for d in notify_final(ended(alice))] == ["https://default.example.com/hook"]
    assert [d.target for d in notify_final(ended(alice, callback_url="https://own.example.com/"))] == [
        "https://own.example.com/"
    ]


def test_deliveries_redis_forgot_are_queued_again(app, alice):
    alice.callback_url = "https://hooks.example.com/in"
    connection = app.extensions["redis"]
    old, recent = notify_final(ended(alice)), notify_final(ended(alice))
    connection.flushall()  # Redis lost everything
    old[0].created_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert requeue_forgotten(connection) == 1
    assert app.extensions["queues"]["high"].get_job_ids() == [job_id(old[0].id)]  # not the one just recorded
    assert requeue_forgotten(connection) == 0  # its job is live now
    assert recent and recent[0].status == "pending"


def test_a_ready_video_is_posted_signed_and_the_attempt_shows_in_its_json(
    app, client, make_user, receiver, loopback_allowed, run_jobs
):
    user, token = make_user("bob")
    video = ended(user, callback_url=receiver.url("/hook"))
    notify_final(video)
    run_jobs()
    [request] = receiver.at("/hook")
    assert verify(user.webhook_secret, request.headers["Conveyor-Signature"], request.body)
    body = json.loads(request.body)
    assert body["event"] == "video.ready" and body["id"] == video.id and body["state"] == "ready"
    assert "deliveries" not in body
    [delivery] = shown(client, token, video.id)["deliveries"]
    assert request.headers["Conveyor-Delivery"] == delivery["id"]
    assert delivery["status"] == "delivered" and delivery["attempt_count"] == 1
    assert delivery["attempts"][0]["http_status"] == 200 and delivery["attempts"][0]["error"] is None


def test_a_4xx_answer_stops_at_once(app, client, make_user, receiver, loopback_allowed, run_jobs):
    user, token = make_user("bob")
    receiver.script("/gone", [410])
    video = ended(user, callback_url=receiver.url("/gone"))
    notify_final(video)
    run_jobs()
    [delivery] = shown(client, token, video.id)["deliveries"]
    assert delivery["status"] == "failed" and delivery["attempt_count"] == 1
    assert delivery["attempts"][0]["http_status"] == 410 and delivery["attempts"][0]["error"].startswith("HTTP 410")
    assert len(delivery["attempts"][0]["error"]) <= 200  # the receiver's long body is not kept
    assert ScheduledJobRegistry(queue=app.extensions["queues"]["high"]).get_job_ids() == []


def test_a_5xx_answer_is_tried_again_after_the_first_pause(
    app, client, make_user, receiver, loopback_allowed, run_jobs
):
    app.config["NOTIFY_RETRY_INTERVALS"] = [60, 600]
    user, token = make_user("bob")
    receiver.script("/busy", [503])
    video = ended(user, callback_url=receiver.url("/busy"))
    [recorded] = notify_final(video)
    before = utcnow()
    run_jobs()
    [delivery] = shown(client, token, video.id)["deliveries"]
    assert delivery["status"] == "pending" and delivery["attempts"][0]["http_status"] == 503
    db.session.expire_all()
    next_at = db.session.get(Delivery, recorded.id).next_attempt_at
    assert before + timedelta(seconds=55) <= next_at <= utcnow() + timedelta(seconds=65)
    assert ScheduledJobRegistry(queue=app.extensions["queues"]["high"]).get_job_ids() == [job_id(recorded.id)]


def test_with_no_attempt_left_the_delivery_fails(app, client, make_user, receiver, loopback_allowed, run_jobs):
    app.config["NOTIFY_RETRY_INTERVALS"] = []
    user, token = make_user("bob")
    receiver.script("/down", [500])
    video = ended(user, callback_url=receiver.url("/down"))
    notify_final(video)
    run_jobs()
    [delivery] = shown(client, token, video.id)["deliveries"]
    assert delivery["status"] == "failed" and delivery["next_attempt_at"] is None


def test_a_refused_address_is_recorded_and_never_connected_to(app, client, make_user, receiver, run_jobs):
    user, token = make_user("bob")
    video = ended(user, callback_url=receiver.url("/inside"))  # loopback is not allowed here
    notify_final(video)
    run_jobs()
    [delivery] = shown(client, token, video.id)["deliveries"]
    assert delivery["status"] == "refused" and delivery["attempt_count"] == 1
    assert "127.0.0.1 is not a public address" in delivery["attempts"][0]["error"]
    assert receiver.received == []


def test_cancelling_notifies_the_callback(app, client, make_user, receiver, loopback_allowed, run_jobs, clips):
    user, token = make_user("bob")
    auth = {"Authorization": f"Bearer {token}"}
    video_id = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1),
                      callback_url=receiver.url("/cancel")).json["id"]
    assert client.post(f"/api/videos/{video_id}/cancel", headers=auth).status_code == 202
    run_jobs()
    [request] = receiver.at("/cancel")
    assert json.loads(request.body)["event"] == "video.cancelled"
    assert [d["status"] for d in shown(client, token, video_id)["deliveries"]] == ["delivered"]


def test_a_conversion_that_ends_notifies_right_away(
    app, client, make_user, receiver, loopback_allowed, run_jobs, clips
):
    user, token = make_user("bob")
    auth = {"Authorization": f"Bearer {token}"}
    upload(client, auth, clips("c320x240", width=320, height=240, seconds=1),
           callback_url=receiver.url("/done"))
    run_jobs()  # the conversion, then the delivery it queued
    [request] = receiver.at("/done")
    body = json.loads(request.body)
    assert body["event"] == "video.ready" and body["status"] == 1.0 and len(body["renditions"]) == 2


def test_secrets_stay_out_of_logs_and_jobs(app, make_user, receiver, loopback_allowed, run_jobs, caplog):
    user = make_user("bob")[0]
    user.email = "bob@example.com"
    with MailReceiver(login=("mailer", "s3cret-pw")) as mail:
        app.config["MAIL_URL"] = mail.url
        video = ended(user, callback_url=receiver.url("/hook"))
        deliveries = notify_final(video)
        connection = app.extensions["redis"]
        stored = b"".join(str(connection.hgetall(f"rq:job:{job_id(d.id)}")).encode() for d in deliveries)
        with caplog.at_level(logging.DEBUG):
            run_jobs()
        assert [m.login for m in mail.mails] == ["mailer"] and len(receiver.received) == 1
    for secret in (user.webhook_secret, "s3cret-pw"):
        assert secret not in caplog.text
        assert secret.encode() not in stored
    assert repr(MailServer.from_url(app.config["MAIL_URL"])).count("s3cret") == 0


def test_the_mail_links_to_the_video_page_and_escapes_its_title(app, alice):
    app.config["PUBLIC_URL"] = "https://conveyor.example.com/"
    alice.email = "alice@example.com"
    video = ended(alice, state="failed", title='<script>alert("x")</script> & co')
    delivery = Delivery(video_id=video.id, kind="email", event="video.failed", target="alice@example.com")
    db.session.add(delivery)
    db.session.commit()
    message = compose(delivery, "Conveyor <conveyor@example.com>")
    link = f"https://conveyor.example.com/videos/{video.id}"
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    assert link in text and "The file holds no picture." in text
    assert f'href="{link}"' in page
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
    assert message["To"] == "alice@example.com" and message["Message-ID"] == f"<{delivery.id}@example.com>"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", ("mail.example.com", 25, False, "auto", None, None)),
        ("smtp://u%40x:p%3Aw@mail.example.com:587?starttls=always",
         ("mail.example.com", 587, False, "always", "u@x", "p:w")),
        ("smtps://u:pw@mail.example.com", ("mail.example.com", 465, True, "auto", "u", "pw")),
    ],
)
def test_mail_url(url, expected):
    server = MailServer.from_url(url)
    assert (server.host, server.port, server.tls, server.starttls, server.username, server.password) == expected


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "smtp://h?starttls=maybe", "smtp://h:99999"])
def test_bad_mail_urls_are_refused_without_echoing_them(url):
    with pytest.raises(MailConfigError) as error:
        MailServer.from_url(url.replace("://", "://user:hunter2@", 1) if "://h" in url else url)
    assert "hunter2" not in str(error.value)


def test_migration_gives_every_existing_user_a_secret_of_their_own(tmp_path):
    import fakeredis

    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.db'}",
                      "STORAGE_URL": f"file://{tmp_path / 's'}", "REDIS_CONNECTION": fakeredis.FakeRedis()})
    with app.app_context():
        upgrade(revision="0001")
        for name in ("ann", "ben"):
            db.session.execute(sa.text(
                "INSERT INTO users (username, password_hash, token_hash, is_admin, created_at) "
                "VALUES (:n, 'x', :n, 0, CURRENT_TIMESTAMP)"), {"n": name})
        db.session.commit()
        upgrade(revision="0002")
        secrets = db.session.execute(sa.text("SELECT webhook_secret FROM users")).scalars().all()
        db.session.remove()
    assert len(set(secrets)) == 2 and all(s.startswith("whsec_") and len(s) > 30 for s in secrets)
