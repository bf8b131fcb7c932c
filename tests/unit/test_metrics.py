"""`/metrics`: the figures operators scale on, in Prometheus text."""

from __future__ import annotations

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
