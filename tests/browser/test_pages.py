"""What a person does in a browser: log in, upload, watch it convert live, play it; and what others can't."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.browser.conftest import XSS, ensure_worker, stop_workers
from tests.waiting import wait_until

pytestmark = pytest.mark.browser


def test_upload_watch_the_progress_live_and_play(stack, visitor, clips, stack_redis):
    stop_workers(stack)  # the video waits, queued, until this page is watching it
    alice = visitor("alice")
    video_id = alice.upload(clips("b640x360", seconds=3, width=640, height=360), title="Holiday")
    page = alice.page
    assert page.locator("h1").text_content() == "Holiday"
    assert page.locator('[data-role="state"]').text_content() == "queued"
    page.evaluate("window.__sameDocument = true")
    # the page's event stream listens on Redis (one pattern subscription per web process)
    wait_until(lambda: stack_redis.execute_command("PUBSUB", "NUMPAT") >= 1, what="the event stream to subscribe")

    ensure_worker(stack)
    page.wait_for_selector('[data-role="state"]:text-is("ready")', timeout=120_000)
    page.wait_for_selector('[data-role="download-list"] a')

    assert page.evaluate("window.__sameDocument") is True, "the player appeared without a reload"
    assert page.locator("video").count() == 1
    seen = page.evaluate("window.__progress")
    assert any(0 < value < 1 for value in seen), f"the bar never showed progress: {seen}"
    assert seen == sorted(seen) and seen[-1] == 1.0, f"the bar went back: {seen}"
    rows = page.locator('[data-role="download-list"] li')
    assert rows.locator(".download-name").all_text_contents() == ["144p", "240p"]
    resolutions = [meta.split(" · ")[0] for meta in rows.locator(".download-meta").all_text_contents()]
    assert resolutions == ["256×144", "426×240"]

    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('video').currentTime >= 1", timeout=30_000)
    assert alice.errors == [] and alice.dialogs == []

    # the list shows it finished, with its poster
    page.goto("/videos")
    row = page.locator(f'li[data-video-id="{video_id}"]')
    assert row.locator('[data-role="state"]').text_content() == "ready"
    assert row.locator("img").count() == 1


def test_the_loudness_option_is_asked_for_from_the_upload_page(stack, visitor, clips):
    alice = visitor("alice")
    evened = alice.upload(clips("b320x180", seconds=1, width=320, height=180), even_loudness=True)
    as_sent = alice.upload(clips("b320x180", seconds=1, width=320, height=180))
    api = alice.context.request
    assert api.get(f"/api/videos/{evened}").json()["normalize_loudness"] is True
    assert api.get(f"/api/videos/{as_sent}").json()["normalize_loudness"] is False


def test_a_second_user_can_neither_see_nor_open_it(stack, visitor, clips):
    alice = visitor("alice")
    video_id = alice.upload(clips("b320x180", seconds=1, width=320, height=180), title="Alice's private clip")

    bob = visitor("bob")
    assert "Alice's private clip" not in bob.page.content()
    response = bob.page.goto(f"/videos/{video_id}")
    assert response.status == 404
    assert "Alice's private clip" not in bob.page.content()
    api = bob.context.request.get(f"/api/videos/{video_id}")
    assert api.status == 404
    assert bob.context.request.get(f"/api/videos/{video_id}/events").status == 404


def test_a_title_and_filename_made_of_markup_stay_text_everywhere(stack, visitor, clips, tmp_path):
    ensure_worker(stack)
    hostile = tmp_path / f"{XSS}.mp4"
    shutil.copy(clips("b320x180", seconds=1, width=320, height=180), hostile)
    alice = visitor("alice")
    video_id = alice.upload(hostile)  # no title: it comes from the file name
    page = alice.page
    page.wait_for_selector("video", timeout=120_000)

    for path in ("/videos", f"/videos/{video_id}"):
        page.goto(path)
        assert page.get_by_text(XSS, exact=True).count() >= 1, path  # the title, as text
        if path != "/videos":  # My videos' cards show the title, not the file's name
            assert page.get_by_text(f"{XSS}.mp4", exact=True).count() == 1, path  # the file name, as text
        assert page.locator('img[src="x"]').count() == 0, path

    root = visitor("root")
    job = f"convert-{video_id}"
    for path in ("/rq/", "/rq/0/view/jobs/default/finished/8/asc/1", f"/rq/0/view/job/{job}", "/rq/0/view/workers"):
        root.page.goto(path)
        root.page.wait_for_load_state("networkidle")
        assert XSS not in root.page.content() and root.page.locator('img[src="x"]').count() == 0, path
    assert root.page.goto(f"/rq/0/view/job/{job}").ok
    root.page.wait_for_selector(".description-scroll")
    assert root.page.locator(".description-scroll").text_content().strip() == f"convert video {video_id}"

    assert alice.dialogs == [] and root.dialogs == [], "no script ran"
    assert alice.errors == []


def test_a_user_logs_out_and_is_then_sent_to_log_in(stack, visitor):
    alice = visitor("alice")
    alice.page.click("text=Log out")
    alice.page.wait_for_url(re.compile(r".*/login$"))
    alice.page.goto("/videos")
    assert alice.page.url.endswith("/login?next=%2Fvideos")


def test_cancel_then_delete_from_the_video_page(stack, visitor, clips):
    stop_workers(stack)  # so that it is still queued when Cancel is clicked
    alice = visitor("alice")
    video_id = alice.upload(clips("b320x180", seconds=1, width=320, height=180), title="Changed my mind")
    page = alice.page
    cancel = page.locator('button[data-action="cancel"]')
    cancel.click()
    assert cancel.text_content() == "Really cancel?"  # a second click, not a dialog, confirms
    page.wait_for_timeout(500)  # a second click sooner would be a double click
    cancel.click()
    page.wait_for_selector('[data-role="state"]:text-is("cancelled")')
    assert page.locator('button[data-action="cancel"]').is_hidden()

    delete = page.locator('button[data-action="delete"]')
    delete.click()
    assert delete.text_content() == "Delete for good?"  # a second click, not a dialog, confirms
    page.wait_for_timeout(500)
    delete.click()
    page.wait_for_url("**/videos")
    assert page.locator(f'li[data-video-id="{video_id}"]').count() == 0
    assert alice.context.request.get(f"/api/videos/{video_id}").status == 404
    assert alice.dialogs == [] and alice.errors == []
