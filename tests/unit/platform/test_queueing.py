"""Redis and the RQ queues: TLS without verification only where asked, short timeouts, Conveyor's own
queue names, and live-change messages that never break the caller."""

from __future__ import annotations

import json
import logging
import ssl

import fakeredis
import pytest
import redis

from app.platform import queueing
from app.platform.queueing import QUEUE_NAMES, connect, events_channel, publish_change, rq_name


def options_of(client: redis.Redis) -> dict:
    return client.connection_pool.connection_kwargs


def made_connection(client: redis.Redis):
    """The connection the client would open (nothing is sent yet)."""
    connection = client.connection_pool.make_connection()
    connection.disconnect()
    return connection


def test_rediss_without_verification_accepts_a_self_signed_certificate():
    client = connect("rediss://:secret@redis.internal:6380/0", tls_verify=False)
    assert options_of(client)["ssl_cert_reqs"] == "none"
    assert options_of(client)["ssl_check_hostname"] is False
    connection = made_connection(client)
    assert connection.cert_reqs == ssl.CERT_NONE and connection.check_hostname is False
    client.close()


def test_rediss_verifies_certificates_by_default():
    client = connect("rediss://:secret@redis.internal:6380/0")
    assert "ssl_cert_reqs" not in options_of(client) and "ssl_check_hostname" not in options_of(client)
    connection = made_connection(client)
    assert connection.cert_reqs == ssl.CERT_REQUIRED and connection.check_hostname is True
    client.close()


@pytest.mark.parametrize("tls_verify", [False, True])
def test_plain_redis_never_gets_tls_options(tls_verify):
    client = connect("redis://redis.internal:6379/0", tls_verify=tls_verify)
    assert not any(name.startswith("ssl") for name in options_of(client))
    assert not isinstance(made_connection(client), redis.SSLConnection)
    client.close()


@pytest.mark.parametrize("url", ["redis://redis.internal:6379/0", "rediss://redis.internal:6380/0"])
def test_a_redis_that_is_down_is_an_error_in_seconds_not_a_hang(url):
    client = connect(url, tls_verify=False)
    options = options_of(client)
    assert options["socket_connect_timeout"] == 3
    assert options["socket_timeout"] == 5
    assert options["health_check_interval"] == 30
    client.close()


def test_a_caller_may_still_choose_its_own_timeouts():
    client = connect("redis://redis.internal:6379/0", socket_timeout=None)  # the worker's blocking dequeue
    assert options_of(client)["socket_timeout"] is None
    assert options_of(client)["socket_connect_timeout"] == 3
    client.close()


def test_queues_are_conveyors_own_most_urgent_first(app):
    assert [rq_name(role) for role in QUEUE_NAMES] == ["conveyor-high", "conveyor-default", "conveyor-low"]
    queues = app.extensions["queues"]
    assert {role: queue.name for role, queue in queues.items()} == {
        "high": "conveyor-high",
        "default": "conveyor-default",
        "low": "conveyor-low",
    }
    assert all(queue.connection is app.extensions["redis"] for queue in queues.values())


def test_a_change_reaches_live_listeners():
    connection = fakeredis.FakeRedis()
    pubsub = connection.pubsub()
    pubsub.subscribe(events_channel("vid123"))
    pubsub.get_message(timeout=1)  # the subscription's confirmation
    publish_change(connection, "vid123", "processing", 0.5)
    message = pubsub.get_message(timeout=1)
    pubsub.close()
    assert message["channel"] == b"conveyor:videos:vid123"
    assert json.loads(message["data"]) == {"id": "vid123", "state": "processing", "status": 0.5}


@pytest.mark.parametrize("failure", [redis.ConnectionError("Connection refused"), redis.TimeoutError("Timeout")])
def test_publishing_a_change_is_best_effort(monkeypatch, caplog, failure):
    connection = fakeredis.FakeRedis()
    # the migrations' logging setup (alembic's fileConfig) disables loggers made before it ran
    monkeypatch.setattr(queueing.log, "disabled", False)

    def publish(channel, message):
        raise failure

    monkeypatch.setattr(connection, "publish", publish)
    with caplog.at_level(logging.WARNING, logger=queueing.__name__):
        publish_change(connection, "vid123", "ready", 1.0)  # does not raise: the database holds the truth
    assert "could not publish a change of video vid123" in caplog.text
