"""`/metrics`: the figures operators scale on, in Prometheus text."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.unit.conftest import upload


def samples(client, headers=None) -> dict:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_queue_depth_age_and_videos_by_state(client, auth, run_jobs, clips):
    clip = clips("c320x240", width=320, height=240, seconds=1)
    upload(client, auth, clip)
    upload(client, auth, clip)
    before = samples(client)
    assert before[("conveyor_queue_depth", (("queue", "default"),))] == 2
    assert before[("conveyor_queue_oldest_age_seconds", (("queue", "default"),))] >= 0
    assert before[("conveyor_videos", (("state", "queued"),))] == 2
    run_jobs()
    after = samples(client)
    assert after[("conveyor_queue_depth", (("queue", "default"),))] == 0
    assert after[("conveyor_videos", (("state", "ready"),))] == 2
    assert after[("conveyor_conversions_total", (("result", "ready"),))] == 2
    assert after[("conveyor_conversion_seconds_total", ())] > 0
    assert ("conveyor_workers", (("state", "busy"),)) in after


def test_metrics_token(app, client):
    app.config["METRICS_TOKEN"] = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert samples(client, {"Authorization": "Bearer s3cret"})


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "172.16.0.9", "192.168.1.20", "fd00::5"])
def test_without_a_token_it_answers_this_machine_and_private_networks(client, address):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code == 200


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1", "100.64.0.1", "169.254.169.254"])
def test_without_a_token_it_refuses_the_internet(client, address):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 403 and "METRICS_TOKEN" in response.json["error"]


def test_behind_the_proxy_it_is_the_client_that_counts(client):
    headers = {"X-Forwarded-For": "93.184.216.34"}  # what the platform's router adds; the peer is the router
    assert client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 403


def test_with_a_token_it_answers_anywhere_that_sends_it(app, client):
    app.config["METRICS_TOKEN"] = "s3cret"
    headers = {"Authorization": "Bearer s3cret"}
    assert client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": "93.184.216.34"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 401
