"""rq-dashboard at /rq in a browser: who gets in, and that another site cannot work its buttons."""

from __future__ import annotations

import pytest
from rq import Queue
from rq.job import Job, JobStatus

from app.platform.queueing import QUEUE_NAMES, rq_name
from tests.browser.checks import assert_page_ok
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

EVIL = "http://evil.test"


@pytest.fixture
def failed_job(stack_redis):
    """A job in `default`'s failed registry, as a conversion that gave up leaves it: made there, never
    queued (a worker left running by an earlier test would take it at once)."""
    connection = stack_redis
    queue = Queue(rq_name("default"), connection=connection)
    job = Job.create(
        "jobs.convert.convert_video", args=("no-such-video",), id="convert-no-such-video", origin=queue.name,
        connection=connection, status=JobStatus.FAILED,
    )
    job.save()
    queue.failed_job_registry.add(job, ttl=600, exc_string="boom")
    yield job
    job.delete()


def test_anonymous_visitors_are_sent_to_log_in(stack, visitor):
    page = visitor().page
    page.goto("/rq/")
    assert page.url == f"{stack.url}/login?next=/rq/"


def test_plain_users_get_403(stack, visitor):
    response = visitor("alice").page.goto("/rq/")
    assert response.status == 403


def test_admins_get_the_dashboard(stack, visitor, failed_job):
    root = visitor("root")
    response = root.page.goto("/rq/")
    assert response.status == 200
    root.page.wait_for_selector('#queues tr[data-role="queue"]')  # filled in by the dashboard's own script
    assert "default" in root.page.locator("#queues").inner_text()
    assert root.errors == []


def test_the_dashboards_own_buttons_work(stack, visitor, failed_job, stack_redis):
    root = visitor("root")
    root.page.goto(f"/rq/0/view/job/{failed_job.id}")
    root.page.wait_for_selector("#requeue-job-btn", state="visible")
    failed = FailedJobs(stack_redis)
    assert failed_job.id in failed.ids()
    root.page.click("#requeue-job-btn")
    # queued again (and maybe run already, when a test started a worker)
    wait_until(lambda: failed_job.get_status(refresh=True) != JobStatus.FAILED, what="the requeue")
    assert failed_job.id not in failed.ids()


def test_other_sites_cannot_use_its_actions(stack, visitor, failed_job, stack_redis):
    """An admin, logged in, visits a hostile page that posts to the dashboard and navigates to its GET action."""
    root = visitor("root")
    root.context.route(f"{EVIL}/**", lambda route: route.fulfill(content_type="text/html", body=attack_page(stack.url)))
    failed = FailedJobs(stack_redis)

    root.page.goto(f"{EVIL}/post")
    root.page.wait_for_url(f"{stack.url}/**")  # the form went off, cross-site
    root.page.goto(f"{EVIL}/get")
    root.page.wait_for_url(f"{stack.url}/**")

    assert Job.exists(failed_job.id, connection=stack_redis), "deleted from another site"
    assert failed_job.id in failed.ids(), "requeued from another site"


class FailedJobs:
    def __init__(self, connection):
        self.registry = Queue(rq_name("default"), connection=connection).failed_job_registry

    def ids(self) -> list[str]:
        return self.registry.get_job_ids()


def attack_page(target: str) -> str:
    """POSTs to delete the job (from /post), or navigates to requeue every failed job (from /get)."""
    return f"""<!doctype html><html><body>
<form id="f" method="post" action="{target}/rq/job/convert-no-such-video/delete"></form>
<script>
  if (location.pathname === "/post") document.getElementById("f").submit();
  else location.href = "{target}/rq/requeue/default";
</script></body></html>"""


def test_the_dashboard_belongs_to_the_site(stack, visitor, stack_redis, size):
    """A link back to Conveyor in its bar, the site's favicon (no 404 in the console), and every Conveyor
    queue listed though Redis has never seen a job on them."""
    stack_redis.delete(Queue.redis_queues_keys)  # as on a fresh Redis: RQ lists queues only once enqueued on
    root = visitor("root", size=size)
    root.page.goto("/rq/")
    root.page.wait_for_selector('#queues tr[data-role="queue"]')
    listed = root.page.locator("#queues").inner_text()
    for role in QUEUE_NAMES:
        assert rq_name(role) in listed
    # headless Chromium asks for no favicon by itself: each icon the page names is asked for here
    icons = root.page.eval_on_selector_all("link[rel~=icon]", "links => links.map((link) => link.href)")
    assert icons == [f"{stack.url}/static/favicon.svg"]
    assert all(root.page.request.get(icon).status == 200 for icon in icons)
    back = root.page.get_by_role("link", name="Conveyor", exact=True)
    assert back.is_visible()
    assert_page_ok(root.page)  # with our stylesheet: rq-dashboard alone has serious violations
    assert root.missing == [] and root.errors == []  # after axe's run: the favicon has long been asked for
    back.click()
    root.page.wait_for_url("**/videos")
