"""rq-dashboard at /rq: admins only, and its actions closed to other sites."""

from __future__ import annotations

import os

import pytest
from rq.job import Job, JobStatus

from tests.unit.test_pages import log_in


def failed_job(app) -> Job:
    """A job in the failed registry of `default`, as a conversion that gave up leaves it."""
    queue = app.extensions["queues"]["default"]
    job = queue.enqueue("jobs.convert.convert_video", "abc", job_id="convert-abc")
    queue.remove(job)
    job.set_status(JobStatus.FAILED)
    queue.failed_job_registry.add(job, ttl=600, exc_string="boom")
    return job


def dashboard_token(client) -> str:
    client.get("/rq/")
    return client.get_cookie("_csrf_token", path="/rq").value


@pytest.fixture
def admin(client, make_user):
    make_user("root", admin=True)
    log_in(client, "root")
    return client


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/rq/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/rq/")
    assert client.get("/rq/0/data/queues.json").status_code == 302


def test_plain_users_get_403(client, make_user):
    make_user("alice")
    log_in(client)
    assert client.get("/rq/").status_code == 403
    assert client.get("/rq/0/data/workers.json").status_code == 403


def test_admins_see_the_dashboard_with_only_its_own_scripts(admin):
    response = admin.get("/rq/")
    assert response.status_code == 200 and "RQ dashboard" in response.get_data(as_text=True)
    policy = response.headers["Content-Security-Policy"]
    assert "'sha256-" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert admin.get("/rq/0/data/queues.json").status_code == 200


def test_the_dashboards_own_requests_work(app, admin):
    job = failed_job(app)
    response = admin.post(
        f"/rq/job/{job.id}/requeue", headers={"X-CSRFToken": dashboard_token(admin), "Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 200 and response.json["status"] == "OK"
    assert job.id in app.extensions["queues"]["default"].job_ids


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://evil.example"},
        {"Referer": "http://evil.example/page"},
        {},  # nothing says where it comes from
    ],
)
def test_actions_from_other_sites_are_refused_even_with_the_token(app, admin, headers):
    job = failed_job(app)
    response = admin.post(f"/rq/job/{job.id}/delete", headers={"X-CSRFToken": dashboard_token(admin), **headers})
    assert response.status_code == 403
    assert Job.exists(job.id, connection=app.extensions["redis"])


def test_actions_need_the_csrf_token(app, admin):
    job = failed_job(app)
    response = admin.post(f"/rq/job/{job.id}/delete", headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 400
    assert Job.exists(job.id, connection=app.extensions["redis"])


def test_requeue_all_does_not_act_on_get(app, admin):
    job = failed_job(app)
    response = admin.get("/rq/requeue/default", headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 405
    assert job.id in app.extensions["queues"]["default"].failed_job_registry.get_job_ids()


def test_the_dashboard_uses_the_apps_redis(app):
    assert app.redis_conn is app.extensions["redis"]
    assert app.config["RQ_DASHBOARD_REDIS_URL"] == (app.config["REDIS_URL"],)


def test_the_dashboard_links_back_to_the_site_with_its_favicon(app, admin):
    page = admin.get("/rq/").get_data(as_text=True)
    navbar = page[page.index('id="navbar-dashboard"') :]
    assert navbar.index('href="/videos"') < navbar.index("RQ-dashboard"), "the way back opens its bar"
    assert '<link rel="icon" href="/static/favicon.svg"' in page and "favicon.ico" not in page
    assert '<link rel="stylesheet" href="/static/dashboard.css">' in page
    assert 'aria-label="Redis instance"' in page
    assert all(os.path.isfile(os.path.join(app.static_folder, name)) for name in ("favicon.svg", "dashboard.css"))


def test_every_conveyor_queue_is_listed_before_it_has_had_a_job(app, admin):
    assert app.extensions["redis"].smembers("rq:queues") == set()  # nothing enqueued yet
    listed = admin.get("/rq/0/data/queues.json").json["queues"]
    assert sorted(queue["name"] for queue in listed) == ["conveyor-default", "conveyor-high", "conveyor-low"]


def test_error_pages_under_the_dashboard_are_the_sites_own(admin):
    response = admin.get("/rq/1/view/queues")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "There is one Redis instance" in page
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert "navbar-dashboard" not in page and '<nav aria-label="Main">' in page
