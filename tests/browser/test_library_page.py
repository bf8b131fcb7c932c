"""My videos in a browser, at desktop and phone sizes: what each card shows, live progress, uploads made
elsewhere appearing, search by title, paging; every state of the page fits and passes axe-core.

Each test has users of its own (other tests upload as alice): counts and searches are theirs alone."""

from __future__ import annotations

import itertools
import re

import pytest

from app.pages.library import PAGE_SIZE
from tests.browser.checks import SIZES, assert_page_ok
from tests.browser.conftest import XSS, ensure_worker, stop_workers
from tests.stack import ROOT
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

_numbers = itertools.count(1)
NEW_UPLOAD_SECONDS = 20_000  # the page looks for uploads made elsewhere every 5 s
# a worker whose conversions all break (tests/faults/sitecustomize.py): a failure that is not the file's
BREAKING_WORKER = {"PYTHONPATH": f"{ROOT / 'tests' / 'faults'}:{ROOT}", "CONVEYOR_TEST_FAULTS": "fail:convert-*"}


def new_user(stack, name: str):
    """A user of this test alone (`name` made unique): their name and API session (their token)."""
    username = f"{name}{next(_numbers)}-{stack.port}"
    return username, stack.create_user(username)


def upload(stack, api, clip, title: str) -> str:
    response = stack.upload(api, clip, title=title)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def upload_cancelled(stack, api, clip, title: str) -> str:
    """A video made cheaply: uploaded, then cancelled before any worker takes it (a final state)."""
    stop_workers(stack)  # a no-op once stopped
    video_id = upload(stack, api, clip, title)
    assert api.post(f"{stack.url}/api/videos/{video_id}/cancel", timeout=10).status_code == 202
    return video_id


def card(page, video_id: str):
    return page.locator(f'li.video[data-video-id="{video_id}"]')


def ids_on(page) -> list[str]:
    return page.locator("li.video[data-video-id]").evaluate_all("cards => cards.map((c) => c.dataset.videoId)")


@pytest.fixture(scope="module")
def tiny(clips):
    return clips("b160x90", seconds=1, width=160, height=90)


@pytest.fixture(scope="module")
def ready_library(stack, clips):
    """A user with two ready videos (one titled with markup): converted once for both sizes."""
    ensure_worker(stack)
    name, api = new_user(stack, "ready")
    clip = clips("b640x360", seconds=2, width=640, height=360)
    plain = upload(stack, api, clip, "Harbour at dawn")
    hostile = upload(stack, api, clip, XSS)
    for video_id in (plain, hostile):
        assert stack.wait_final(api, video_id)["state"] == "ready"
    return name, api, plain, hostile


@pytest.fixture(scope="module")
def paged_library(stack, tiny):
    """A user with a page and two videos more: the newest first, all cancelled (final, no work)."""
    name, api = new_user(stack, "pages")
    made = [upload_cancelled(stack, api, tiny, f"Take {n:02}") for n in range(PAGE_SIZE + 2)]
    return name, made[::-1]


@pytest.fixture(scope="module")
def failed_library(stack, clips, tmp_path_factory):
    """A user with a failure of the moment for each size (every attempt broke: it may be converted
    again) and a damaged file (it may not: it would fail the same way)."""
    stop_workers(stack)
    name, api = new_user(stack, "failed")
    clip = clips("b320x180", seconds=1, width=320, height=180)
    broken = stack.start_worker(**BREAKING_WORKER)
    retryable = {size: upload(stack, api, clip, f"Broke on the {size}") for size in SIZES}
    for video_id in retryable.values():
        failed = stack.wait_final(api, video_id, timeout=180)  # after the stack's retries, 10 s and 30 s apart
        assert failed["state"] == "failed" and failed["can_retry"], failed
    stack.stop_worker(broken)

    truncated = tmp_path_factory.mktemp("damaged") / "damaged.mp4"
    truncated.write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    ensure_worker(stack)
    damaged = upload(stack, api, truncated, "Half a file")
    failed = stack.wait_final(api, damaged)
    assert failed["state"] == "failed" and not failed["can_retry"], failed
    return name, retryable, damaged


def test_an_empty_library_says_how_to_start(stack, visitor, size):
    name, _ = new_user(stack, "empty")
    you = visitor(name, size=size)
    page = you.page
    empty = page.get_by_text("No videos yet.")
    assert empty.is_visible()
    assert page.get_by_role("link", name="Upload one").get_attribute("href") == "/upload"
    assert page.locator("li.video").count() == 0 and page.get_by_role("navigation", name="Pages").count() == 0
    assert_page_ok(page)
    assert you.errors == [] and you.missing == []


def test_a_ready_card_shows_poster_title_and_facts_and_no_progress_bar(stack, visitor, size, ready_library):
    name, api, plain, hostile = ready_library
    you = visitor(name, size=size)
    page = you.page
    row = card(page, plain)
    poster = row.locator(".thumb img")
    poster.wait_for()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=poster.element_handle())
    title = row.get_by_role("link", name="Harbour at dawn")
    assert title.get_attribute("href") == f"/videos/{plain}"
    assert row.locator('[data-role="state"]').inner_text().lower() == "ready"
    assert row.locator('[data-role="duration"]').inner_text() == "0:02"
    assert row.locator('[data-role="resolution"]').inner_text() == "640×360"
    assert re.fullmatch(r"\d+(\.\d)? (KB|MB)", row.locator('[data-role="size"]').inner_text())
    uploaded = row.locator('time[data-role="uploaded"]')
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", uploaded.get_attribute("datetime"))
    assert re.search(r"now|second|minute", uploaded.inner_text()), uploaded.inner_text()  # in words, relative
    assert row.locator('[data-role="progress"]').is_hidden(), "no full bar on a ready video"
    assert row.locator('[data-role="percent"]').is_hidden()
    assert row.locator('[data-role="error"]').is_hidden()
    assert row.get_by_role("button", name="Convert again").count() == 0

    # the markup in the other title is shown as text
    assert card(page, hostile).get_by_role("link", name=XSS).count() == 1
    assert page.locator('img[src="x"]').count() == 0

    # a card for each video, several to a row on a desktop, one on a phone
    boxes = [card(page, video_id).bounding_box() for video_id in (hostile, plain)]  # newest first
    same_row = abs(boxes[0]["y"] - boxes[1]["y"]) < 1
    assert same_row is (size == "desktop"), boxes
    assert_page_ok(page)
    assert you.errors == [] and you.missing == [] and you.dialogs == []


def test_a_queued_video_shows_its_bar_and_it_moves_live_when_a_worker_runs(stack, visitor, size, clips, stack_redis):
    stop_workers(stack)
    name, api = new_user(stack, "live")
    video_id = upload(stack, api, clips("b640x360l", seconds=6, width=640, height=360), "Slow one")
    you = visitor(name, size=size)
    page = you.page
    row = card(page, video_id)
    assert row.locator('[data-role="state"]').inner_text().lower() == "queued"
    assert row.locator('[data-role="progress"]').is_visible()
    assert row.locator('[data-role="percent"]').inner_text() == "0%"
    assert_page_ok(page)
    page.evaluate("window.__sameDocument = true")
    wait_until(lambda: stack_redis.execute_command("PUBSUB", "NUMPAT") >= 1, what="the event stream to subscribe")

    ensure_worker(stack)
    row.locator('[data-role="state"]:text-is("ready")').wait_for(timeout=120_000)
    assert page.evaluate("window.__sameDocument") is True, "it changed without a reload"
    seen = page.evaluate("window.__progress")
    assert any(0 < value < 1 for value in seen), f"the bar never showed progress: {seen}"
    assert seen == sorted(seen), f"the bar went back: {seen}"
    assert row.locator('[data-role="progress"]').is_hidden(), "the bar goes once it is ready"
    row.locator(".thumb img").wait_for()
    assert row.locator('[data-role="duration"]').inner_text() == "0:06"
    assert row.locator('[data-role="resolution"]').inner_text() == "640×360"
    assert you.errors == []


def test_an_upload_made_elsewhere_appears_at_the_top_without_a_reload(stack, visitor, size, tiny):
    name, api = new_user(stack, "elsewhere")
    older = upload_cancelled(stack, api, tiny, "Already here")
    you = visitor(name, size=size)
    page = you.page
    page.evaluate("window.__sameDocument = true")
    assert ids_on(page) == [older]

    first = upload_cancelled(stack, api, tiny, XSS)  # through the API with the user's token, as a script would
    second = upload_cancelled(stack, api, tiny, "From the command line")
    card(page, second).wait_for(timeout=NEW_UPLOAD_SECONDS)
    assert page.evaluate("window.__sameDocument") is True
    assert ids_on(page) == [second, first, older], "newest first, at the top"
    added = card(page, first)
    assert added.get_by_role("link", name=XSS).get_attribute("href") == f"/videos/{first}"
    assert page.locator('img[src="x"]').count() == 0 and you.dialogs == [], "the title stayed text"
    assert added.locator('[data-role="state"]').inner_text().lower() == "cancelled"
    assert added.locator('[data-role="progress"]').is_hidden()
    assert added.locator("time[data-role=uploaded]").inner_text() != ""
    assert page.get_by_text("1–3 of 3").is_visible()
    assert_page_ok(page)
    assert you.errors == []


def test_the_first_upload_made_elsewhere_replaces_the_empty_state_and_is_followed_live(stack, visitor, size, tiny):
    stop_workers(stack)
    name, api = new_user(stack, "first")
    you = visitor(name, size=size)
    page = you.page
    assert page.get_by_text("No videos yet.").is_visible()
    video_id = upload(stack, api, tiny, "My first")
    row = card(page, video_id)
    row.wait_for(timeout=NEW_UPLOAD_SECONDS)
    assert page.get_by_text("No videos yet.").is_hidden()
    assert row.locator('[data-role="state"]').inner_text().lower() == "queued"
    assert row.locator('[data-role="progress"]').is_visible()
    ensure_worker(stack)
    row.locator('[data-role="state"]:text-is("ready")').wait_for(timeout=120_000)
    assert row.locator('[data-role="progress"]').is_hidden()
    assert you.errors == []


def test_search_by_title_finds_ones_own_videos_in_any_case(stack, visitor, size, tiny):
    name, api = new_user(stack, "search")
    _, stranger = new_user(stack, "stranger")
    upload_cancelled(stack, stranger, tiny, "beach day")
    beach = upload_cancelled(stack, api, tiny, "Summer BEACH trip")
    hills = upload_cancelled(stack, api, tiny, "Hills")
    you = visitor(name, size=size)
    page = you.page

    page.get_by_role("searchbox", name="Search by title").fill("Beach")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/videos?q=Beach")
    assert ids_on(page) == [beach]
    assert page.get_by_text("1–1 of 1 matching “Beach”").is_visible()
    assert page.get_by_role("searchbox", name="Search by title").input_value() == "Beach"
    assert_page_ok(page)

    page.get_by_role("link", name="Clear").click()
    page.wait_for_url(re.compile(r".*/videos$"))
    assert ids_on(page) == [hills, beach]

    page.get_by_role("searchbox", name="Search by title").fill(XSS)
    page.get_by_role("searchbox", name="Search by title").press("Enter")
    page.wait_for_url("**/videos?q=*")
    assert ids_on(page) == []
    assert page.get_by_text(f"No videos match “{XSS}”.").is_visible()
    assert page.locator('img[src="x"]').count() == 0
    assert page.get_by_role("link", name="Clear").is_visible()
    assert_page_ok(page)
    assert you.errors == [] and you.dialogs == []


def test_more_videos_than_a_page_are_paged(stack, visitor, size, paged_library):
    name, newest_first = paged_library
    you = visitor(name, size=size)
    page = you.page
    total = len(newest_first)
    assert ids_on(page) == newest_first[:PAGE_SIZE]
    pages = page.get_by_role("navigation", name="Pages")
    assert pages.get_by_text("Page 1 of 2").is_visible()
    assert page.get_by_text(f"1–{PAGE_SIZE} of {total}").is_visible()
    assert pages.get_by_role("link", name="Previous").count() == 0
    assert_page_ok(page)

    pages.get_by_role("link", name="Next").click()
    page.wait_for_url("**/videos?page=2")
    assert ids_on(page) == newest_first[PAGE_SIZE:]
    assert page.get_by_text(f"{PAGE_SIZE + 1}–{total} of {total}").is_visible()
    assert pages.get_by_text("Page 2 of 2").is_visible() and pages.get_by_role("link", name="Next").count() == 0
    assert_page_ok(page)

    pages.get_by_role("link", name="Previous").click()
    page.wait_for_url(re.compile(r".*/videos$"))
    assert ids_on(page) == newest_first[:PAGE_SIZE]

    # a page that does not exist is the last one, said so; a page that is no number is the first
    response = page.goto("/videos?page=7")
    assert response.status == 200 and ids_on(page) == newest_first[PAGE_SIZE:]
    assert page.get_by_text("There is no page 7: this is page 2, the last.").is_visible()
    response = page.goto("/videos?page=second")
    assert response.status == 200 and ids_on(page) == newest_first[:PAGE_SIZE]
    assert you.errors == [] and you.missing == []


def test_a_failure_says_why_in_a_line_and_convert_again_converts_it_live(stack, visitor, size, failed_library):
    name, retryable, damaged = failed_library
    you = visitor(name, size=size)
    page = you.page
    page.evaluate("window.__sameDocument = true")
    row = card(page, retryable[size])
    assert row.locator('[data-role="state"]').inner_text().lower() == "failed"
    reason = row.locator('[data-role="error"]')
    assert "injected fault" in reason.inner_text() and reason.get_attribute("title") == reason.text_content()
    lines = reason.evaluate(
        "(el) => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight))"
    )
    assert lines == 1 if size == "desktop" else lines <= 2, f"{lines} lines"
    assert row.locator('[data-role="progress"]').is_hidden()

    broken_file = card(page, damaged)
    assert broken_file.locator('[data-role="error"]').is_visible()
    assert broken_file.get_by_role("button", name="Convert again").count() == 0, "it would fail the same way"
    assert_page_ok(page)

    ensure_worker(stack)
    row.get_by_role("button", name="Convert again").click()
    row.locator('[data-role="state"]:text-is("ready")').wait_for(timeout=120_000)
    assert page.evaluate("window.__sameDocument") is True, "converted again without a reload"
    assert row.locator('[data-role="error"]').is_hidden()
    assert row.get_by_role("button", name="Convert again").count() == 0
    assert row.locator('[data-role="progress"]').is_hidden()
    row.locator(".thumb img").wait_for()
    assert you.errors == [] and you.dialogs == []
