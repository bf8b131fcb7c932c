"""Notification channels: plug-ins behind one interface, registered in one place."""

from __future__ import annotations

import pytest

from app.domain import notifications
from app.domain.models import Delivery, Video
from app.domain.notifications.channels import Channel, UnknownChannel
from app.extensions import db
from jobs.notify import deliver


def test_every_kind_has_its_channel_and_nothing_else_is_guessed():
    assert sorted(notifications.CHANNELS) == ["callback", "email"]
    assert all(isinstance(channel, Channel) for channel in notifications.CHANNELS.values())
    with pytest.raises(UnknownChannel, match="no notification channel 'sms'"):
        notifications.channel("sms")


def test_a_delivery_of_an_unknown_kind_fails_its_job_and_is_never_sent_as_mail(app, make_user):
    user, _ = make_user()
    user.email = "alice@example.com"
    video = Video(user_id=user.id, state="ready", status=1.0)
    db.session.add(video)
    db.session.flush()
    delivery = Delivery(video_id=video.id, kind="sms", event="video.ready", target="+15550100")
    db.session.add(delivery)
    db.session.commit()
    with pytest.raises(UnknownChannel):
        deliver(delivery.id)
    assert db.session.get(Delivery, delivery.id).attempts == 0
