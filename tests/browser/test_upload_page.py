"""The upload page: several videos at once, each with its own progress and conversion; what the
service would refuse is refused on the page, before anything is sent; one failed file doesn't stop
the others and can be sent again."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.browser.checks import assert_page_ok
from tests.browser.conftest import XSS, ensure_worker

pytestmark = pytest.mark.browser

# Every value each file's upload bar is given, by the row's number, kept across the page's updates.
RECORD_ROWS = """
window.__sent = {};
new MutationObserver((records) => {
  for (const r of records) {
    if (r.target.matches && r.target.matches('[data-role="upload-progress"]')) {
      const row = r.target.closest("li").dataset.file;
      (window.__sent[row] = window.__sent[row] || []).push(Number(r.target.getAttribute("value")));
    }
  }
}).observe(document, { attributes: true, attributeFilter: ["value"], subtree: true });
"""


def open_upload_page(visitor, size):
    alice = visitor("alice", size=size)
    alice.page.add_init_script(RECORD_ROWS)
    alice.page.goto("/upload")
    return alice


def copies(clips, folder: Path, *names: str) -> list[Path]:
    """The same small clip under each of `names` in `folder`: files as a user picks them."""
    clip = clips("b320x180", seconds=1, width=320, height=180)
    paths = [folder / name for name in names]
    for path in paths:
        shutil.copy(clip, path)
    return paths


def row_of(page, name: str):
    """The list's row for the file called `name` (its name as shown, exactly)."""
    return page.locator("li.upload-item").filter(has=page.locator(".item-name").get_by_text(name, exact=True))


def posts_to_videos(page) -> list[bytes]:
    """The body of every POST /api/videos the page makes from now on (a routed request keeps its body)."""
    bodies: list[bytes] = []

    def record(route, request) -> None:
        if request.method == "POST":
            bodies.append(request.post_data_buffer or b"")
        route.continue_()

    page.route("**/api/videos", record)
    return bodies


def test_two_videos_sent_at_once_each_with_its_own_progress_then_both_converted(stack, visitor, clips, size, tmp_path):
    ensure_worker(stack)
    beach, party = copies(clips, tmp_path, "Beach day.mp4", "Birthday party.mov")
    alice = open_upload_page(visitor, size)
    page = alice.page
    assert_page_ok(page)  # empty
    posts = posts_to_videos(page)

    page.set_input_files("#file", [str(beach), str(party)])
    rows = page.locator("li.upload-item")
    assert rows.count() == 2
    for name in (beach.name, party.name):
        row = row_of(page, name)
        assert row.locator(".item-message").text_content() == "Ready to send"
        assert re.fullmatch(r"\d+(\.\d)? KB", row.locator(".item-size").text_content())
    assert page.locator("#upload-button").text_content() == "Upload 2 videos"
    row_of(page, party.name).get_by_label("Title").fill("Tom's birthday")
    assert_page_ok(page)  # files listed
    assert posts == [], "nothing is sent before Upload is pressed"

    page.click("#upload-button")
    for name in (beach.name, party.name):
        row = row_of(page, name)
        row.locator('[data-role="state"]:text-is("ready")').wait_for(timeout=120_000)
        assert row.locator('[data-role="upload-percent"]').text_content() == "100%"
        assert row.get_by_label(f"Conversion of {name}").get_attribute("value") == "1"
        assert row.locator(".item-message").text_content() == "Converted: ready to watch"

    assert page.url.endswith("/upload"), "the page stays to show every file"
    sent = page.evaluate("window.__sent")
    assert sorted(sent) == ["1", "2"], f"each row has a bar of its own: {sent}"
    for values in sent.values():
        assert values == sorted(values) and values[-1] == 1, f"a bar went back or never finished: {sent}"
    assert len(posts) == 2 and all(b"filename=" in body for body in posts)

    links = [row_of(page, name).get_by_role("link", name="Open video page") for name in (beach.name, party.name)]
    ids = [link.get_attribute("href").rsplit("/", 1)[-1] for link in links]
    assert len(set(ids)) == 2
    api = alice.context.request
    titles = [api.get(f"/api/videos/{video_id}").json()["title"] for video_id in ids]
    assert titles == ["Beach day", "Tom's birthday"]
    assert_page_ok(page)  # after the upload
    links[1].click()
    page.wait_for_url(f"**/videos/{ids[1]}")
    assert alice.errors == [] and alice.dialogs == []


def test_what_the_service_would_refuse_is_refused_before_sending_and_the_rest_goes(
    stack, visitor, clips, size, tmp_path
):
    ensure_worker(stack)
    [good] = copies(clips, tmp_path, "good.mp4")
    notes, empty, huge = tmp_path / "notes.txt", tmp_path / "empty.mp4", tmp_path / "huge.mp4"
    notes.write_text("not a video\n")
    empty.touch()
    alice = open_upload_page(visitor, size)
    page = alice.page
    max_bytes = int(page.locator("#upload-form").get_attribute("data-max-bytes"))
    with huge.open("wb") as sparse:  # over the limit, without writing it: the page must not read it
        sparse.truncate(max_bytes + 1)
    posts = posts_to_videos(page)

    page.set_input_files("#file", [str(notes), str(good), str(huge), str(empty)])
    limit_mb = max_bytes // (1024 * 1024)
    assert row_of(page, huge.name).locator(".item-message").text_content() == (
        f"Refused: larger than the limit of {limit_mb} MB."
    )
    assert (
        row_of(page, notes.name)
        .locator(".item-message")
        .text_content()
        .startswith("Refused: not a kind of video Conveyor reads. Upload MP4, MOV")
    )
    assert row_of(page, empty.name).locator(".item-message").text_content() == "Refused: this file is empty."
    assert row_of(page, huge.name).locator(".item-size").text_content() == "2.0 GB"
    assert row_of(page, good.name).locator(".item-message").text_content() == "Ready to send"
    assert page.locator("#upload-summary").text_content() == "1 ready to send, 3 refused"
    assert_page_ok(page)  # with refusals shown

    row_of(page, empty.name).get_by_role("button", name=f"Remove {empty.name}").click()
    assert page.locator("li.upload-item").count() == 3
    page.click("#upload-button")
    row_of(page, good.name).locator('[data-role="state"]').wait_for()
    assert page.url.endswith("/upload"), "with refused files listed, the page stays"

    assert len(posts) == 1 and b'filename="good.mp4"' in posts[0], "only the acceptable file was sent"
    for name in (notes.name, huge.name):
        assert row_of(page, name).get_attribute("data-state") == "refused"
    row_of(page, good.name).locator('[data-role="state"]:text-is("ready")').wait_for(timeout=120_000)
    assert alice.errors == []


def test_a_file_the_server_refuses_or_that_is_cut_off_says_so_and_the_others_go_on(
    stack, visitor, clips, size, tmp_path
):
    ensure_worker(stack)
    cut, fine = copies(clips, tmp_path, "cut off.mp4", "fine.mp4")
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"an mp4 in name only\n" * 10)
    alice = open_upload_page(visitor, size)
    page = alice.page
    held: list = []

    def first_attempt_of_cut_is_lost(route, request) -> None:
        body = request.post_data_buffer or b""
        if b'filename="cut off.mp4"' in body and not held:
            held.append(route)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/videos", first_attempt_of_cut_is_lost)
    page.set_input_files("#file", [str(fake), str(cut), str(fine)])
    page.click("#upload-button")

    fake_row, cut_row, fine_row = (row_of(page, path.name) for path in (fake, cut, fine))
    fake_row.locator('.item-message:text("not a video Conveyor accepts")').wait_for()
    assert fake_row.get_by_role("button", name="Try again").is_hidden(), "the same file would be refused again"
    cut_row.locator('.item-message:text("interrupted")').wait_for()
    fine_row.locator('[data-role="state"]').wait_for()
    assert_page_ok(page)  # with errors shown

    cut_row.get_by_role("button", name=f"Try again: {cut.name}").click()
    for row in (cut_row, fine_row):
        row.locator('[data-role="state"]:text-is("ready")').wait_for(timeout=120_000)
    assert alice.errors == []


def test_leaving_while_a_file_is_still_sending_asks_first(stack, visitor, clips, tmp_path):
    one, two = copies(clips, tmp_path, "one.mp4", "two.mp4")
    alice = open_upload_page(visitor, "desktop")
    page = alice.page
    held: list = []
    page.route("**/api/videos", lambda route, request: held.append(route))  # answered later
    page.set_input_files("#file", [str(one), str(two)])
    leaving = """() => {
      const e = new Event("beforeunload", { cancelable: true });
      window.dispatchEvent(e);
      return e.defaultPrevented;
    }"""
    assert page.evaluate(leaving) is False, "nothing is sending yet"
    page.click("#upload-button")
    page.wait_for_function("() => document.querySelectorAll('li[data-state=\"sending\"]').length === 2")
    assert page.evaluate(leaving) is True
    for route in held:
        route.continue_()
    page.wait_for_function("() => !document.querySelector('li[data-state=\"sending\"]')")
    assert page.evaluate(leaving) is False


def test_a_file_name_made_of_markup_is_shown_as_text(stack, visitor, clips, size, tmp_path):
    [hostile] = copies(clips, tmp_path, f"{XSS}.mp4")
    alice = open_upload_page(visitor, size)
    page = alice.page
    page.set_input_files("#file", str(hostile))
    row = row_of(page, hostile.name)
    assert row.count() == 1
    assert row.get_by_label("Title").get_attribute("placeholder") == XSS
    assert page.locator('img[src="x"]').count() == 0
    assert_page_ok(page)
    assert alice.dialogs == [] and alice.errors == []


def test_by_keyboard_alone_choose_remove_one_and_send_the_other(stack, visitor, clips, tmp_path):
    keep, drop = copies(clips, tmp_path, "keep.mp4", "drop.mp4")
    alice = open_upload_page(visitor, "desktop")
    page = alice.page

    def tab_to(selector: str) -> None:
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#file")  # the picker is reached by Tab; what Space then opens is the browser's own dialog,
    # which headless Chromium did not always report to Playwright: the files are given to the field it opens for
    assert page.locator("#file").evaluate("(input) => input.multiple")
    page.locator("#file").set_input_files([str(keep), str(drop)])
    tab_to(f'[aria-label="Remove {drop.name}"]')
    page.keyboard.press("Enter")
    assert page.locator("li.upload-item .item-name").all_text_contents() == [keep.name]
    assert page.evaluate("document.activeElement.id") == "upload-button", "the focus is not lost with the row"
    page.keyboard.press("Shift+Tab")  # back to the checkbox, then to the file's title
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("Typed, not clicked")
    tab_to("#upload-button")
    page.keyboard.press("Enter")
    page.wait_for_url("**/videos/*")  # one file: its page opens, as it always has
    video_id = page.url.rsplit("/", 1)[-1]
    assert alice.context.request.get(f"/api/videos/{video_id}").json()["title"] == "Typed, not clicked"
    assert alice.errors == []
