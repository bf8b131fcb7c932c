"""A video's page as its owner uses it, at desktop and phone sizes: the details and downloads of a ready
video, playing it with a labelled quality choice, copying its links, renaming it, cancelling and deleting
it (each asking for a second click), and what a failed one says; every state checked by
`assert_page_ok`."""

from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.browser.checks import assert_page_ok
from tests.browser.conftest import XSS, ensure_worker, stop_workers

pytestmark = pytest.mark.browser

OWNER = "vera"  # a user of this module's own: the other modules' videos are not on her pages
PLAY = "() => { const v = document.querySelector('.player video'); v.muted = true; return v.play(); }"
SIZE_TEXT = re.compile(r"^\d+(\.\d)? (KB|MB)$")


@pytest.fixture(scope="module")
def owner(stack):
    """Her API session."""
    return stack.create_user(OWNER)


@pytest.fixture(scope="module")
def ready_video(stack, owner, clips) -> dict:
    """A 4 s 640x360 clip converted to 144p and 240p, as the API shows it at ready. Tests only read it."""
    ensure_worker(stack)
    clip = clips("v640x360", seconds=4, width=640, height=360)
    video_id = stack.upload(owner, clip, title="Harbour at dawn").json()["id"]
    video = stack.wait_final(owner, video_id, timeout=180)
    assert video["state"] == "ready" and video["playable"], video
    return video


def queued_video(stack, owner, clips, title: str) -> str:
    """A new video that stays queued: no worker runs until a test asks for one again."""
    stop_workers(stack)
    response = stack.upload(owner, clips("v320x180", seconds=1, width=320, height=180), title=title)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def signed_key(url: str) -> str:
    """What a signed link names: a link made for the same file at another time has another signature."""
    return url.split("/media/", 1)[1].split(".", 1)[0]


def facts(page) -> dict[str, str]:
    """The details list as a person reads it: name -> value (its first line), of the rows shown."""
    rows = page.locator("dl.facts > div:visible")
    return {
        row.locator("dt").inner_text().strip(): row.locator("dd").inner_text().strip().splitlines()[0]
        for row in rows.all()
    }


def on_video_page(visitor, video_id: str, size: str):
    """The owner's browser at `size`, on the video's page."""
    vera = visitor(OWNER, size=size)
    vera.page.goto(f"/videos/{video_id}")
    return vera


def test_a_ready_video_shows_its_details_and_downloads(stack, visitor, ready_video, size):
    vera = on_video_page(visitor, ready_video["id"], size)
    page = vera.page
    page.wait_for_selector(".player video")

    shown = facts(page)
    assert shown["State"] == "Ready"
    assert shown["Duration"] == "0:04"
    assert shown["Resolution"] == "640×360"
    assert SIZE_TEXT.match(shown["Size"]), shown
    assert shown["Codecs"] == "H.264 video, AAC audio"
    assert re.match(r"^(now|\d+ (second|minute)s? ago)$", shown["Uploaded"]), shown
    assert page.locator("dl.facts time").get_attribute("datetime") == ready_video["created_at"]
    assert shown["File"] == "v640x360.mp4"
    assert page.locator('[data-role="progress-box"]').is_hidden(), "no progress bar on a ready video"

    rows = page.locator('[data-role="download-list"] li')
    assert rows.locator(".download-name").all_inner_texts() == ["144p", "240p"]
    for row, rendition in zip(rows.all(), ready_video["renditions"], strict=True):
        resolution, size_text = row.locator(".download-meta").inner_text().split(" · ")
        assert resolution == f"{rendition['width']}×{rendition['height']}"
        assert SIZE_TEXT.match(size_text), size_text
        link = row.get_by_role("link", name=f"Download {rendition['name']}")
        assert signed_key(link.get_attribute("href")) == signed_key(rendition["url"])
    assert page.get_by_label("Playback link").input_value().endswith("/master.m3u8")

    # the width is used: the details beside the player on a desktop, under it on a phone
    player = page.locator(".stage").bounding_box()
    details = page.locator(".details").bounding_box()
    if size == "desktop":
        assert details["x"] >= player["x"] + player["width"] and abs(details["y"] - player["y"]) < 2
        assert player["width"] >= 700
    else:
        assert details["y"] >= player["y"] + player["height"] and abs(details["x"] - player["x"]) < 2
    assert_page_ok(page)
    assert vera.errors == [] and vera.missing == []


def test_a_ready_video_plays_with_a_labelled_quality_choice_that_switches(stack, visitor, ready_video, size):
    vera = on_video_page(visitor, ready_video["id"], size)
    page = vera.page
    quality = page.get_by_role("combobox", name="Quality")
    page.wait_for_function("() => document.querySelector('select.quality').options.length === 3", timeout=30_000)
    assert quality.locator("option").all_text_contents()[1:] == ["240p", "144p"]

    page.evaluate(PLAY)
    page.wait_for_function("() => document.querySelector('.player video').currentTime >= 0.5", timeout=30_000)
    quality.select_option(label="144p")
    page.wait_for_function("() => document.querySelector('.player video').videoHeight === 144", timeout=30_000)
    at = page.evaluate("document.querySelector('.player video').currentTime")
    page.wait_for_function(f"() => document.querySelector('.player video').currentTime > {at}", timeout=30_000)
    assert_page_ok(page)
    assert vera.errors == [] and vera.missing == []


def test_copy_link_puts_the_links_in_the_clipboard(stack, visitor, ready_video, size):
    vera = visitor(OWNER, size=size)
    vera.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
    page = vera.page
    page.goto(f"/videos/{ready_video['id']}")
    status = page.locator('[data-role="copy-status"]')

    page.get_by_role("button", name="Copy link to 240p").click()
    expect(status).to_have_text("Copied the link to 240p.")
    expect(page.get_by_role("button", name="Copied to 240p")).to_be_visible()  # where the click was, too
    download = page.get_by_role("link", name="Download 240p").get_attribute("href")
    assert page.evaluate("navigator.clipboard.readText()") == download

    page.get_by_role("button", name="Copy link to the stream").click()
    expect(status).to_have_text("Copied the link to the stream.")
    playback = page.get_by_label("Playback link").input_value()
    assert page.evaluate("navigator.clipboard.readText()") == playback
    assert "/master.m3u8" in playback
    assert_page_ok(page)


def test_where_the_clipboard_is_refused_the_link_is_selected_to_copy(stack, visitor, ready_video, size):
    vera = visitor(OWNER, size=size)
    vera.context.add_init_script(
        "navigator.clipboard.writeText = () => Promise.reject(new DOMException('refused', 'NotAllowedError'));"
        "document.execCommand = () => false;"
    )
    page = vera.page
    page.goto(f"/videos/{ready_video['id']}")
    page.get_by_role("button", name="Copy link to 144p").click()
    field = page.get_by_role("textbox", name="Link to 144p")
    field.wait_for()
    href = page.get_by_role("link", name="Download 144p").get_attribute("href")
    assert field.input_value() == href
    selected = page.evaluate(
        "() => { const f = document.activeElement; return f.value.slice(f.selectionStart, f.selectionEnd); }"
    )
    assert selected == href, "the link is selected, ready to copy"
    expect(page.locator('[data-role="copy-status"]')).to_contain_text("is selected")
    assert_page_ok(page)


def test_rename_saves_on_enter_cancels_on_escape_and_keeps_markup_as_text(stack, visitor, owner, clips, size):
    video_id = stack.upload(owner, clips("v320x180", seconds=1, width=320, height=180), title="First name").json()["id"]
    vera = on_video_page(visitor, video_id, size)
    page = vera.page
    title = page.get_by_role("heading", level=1)
    field = page.get_by_role("textbox", name="Title")

    # Rename, a new title, Enter: saved, shown in the heading and the window's title
    page.get_by_role("button", name="Rename").click()
    assert field.input_value() == "First name"
    assert page.evaluate("document.activeElement.name") == "title"
    field.fill("Second name")
    field.press("Enter")
    title.filter(has_text="Second name").wait_for()
    assert page.title() == "Second name · Conveyor"
    assert stack.video(owner, video_id)["title"] == "Second name"
    assert page.evaluate("document.activeElement.dataset.action") == "rename", "focus back on Rename"

    # Escape leaves it as it was
    page.get_by_role("button", name="Rename").click()
    field.fill("Not this")
    field.press("Escape")
    assert field.is_hidden() and title.inner_text() == "Second name"
    assert stack.video(owner, video_id)["title"] == "Second name"

    # too long: refused, with the API's words next to the field, which stays open
    page.get_by_role("button", name="Rename").click()
    field.fill("x" * 201)
    page.get_by_role("button", name="Save").click()
    error = page.locator('[data-role="rename-error"]')
    error.wait_for()
    assert "200" in error.inner_text(), error.inner_text()
    assert field.get_attribute("aria-invalid") == "true"
    assert_page_ok(page)
    page.get_by_role("button", name="Cancel", exact=True).click()
    assert title.inner_text() == "Second name"

    # the longest title, one unbroken word, wraps: nothing scrolls sideways
    page.get_by_role("button", name="Rename").click()
    field.fill("W" * 200)
    field.press("Enter")
    title.filter(has_text="W" * 200).wait_for()
    assert_page_ok(page)

    # markup stays text, here, after a reload and on My videos
    page.get_by_role("button", name="Rename").click()
    field.fill(XSS)
    page.get_by_role("button", name="Save").click()
    title.filter(has_text=XSS).wait_for()
    page.reload()
    assert title.inner_text() == XSS and page.title() == f"{XSS} · Conveyor"
    page.goto("/videos")
    assert page.get_by_text(XSS, exact=True).count() == 1
    assert page.locator('img[src="x"]').count() == 0
    assert vera.dialogs == [] and vera.errors == []
    owner.delete(f"{stack.url}/api/videos/{video_id}", timeout=10)


def test_cancel_asks_for_a_second_click(stack, visitor, owner, clips, size):
    video_id = queued_video(stack, owner, clips, "Wrong file")
    vera = on_video_page(visitor, video_id, size)
    page = vera.page
    assert facts(page)["State"] == "Queued"
    assert page.locator('[data-role="progress-box"]').is_visible()
    assert_page_ok(page)

    cancel = page.get_by_role("button", name="Cancel conversion")
    cancel.click()
    armed = page.get_by_role("button", name="Really cancel?")
    assert "armed" in armed.get_attribute("class")
    page.wait_for_timeout(1000)
    assert stack.video(owner, video_id)["state"] == "queued", "one click does not cancel"
    assert_page_ok(page)  # the armed button's colours too

    # a double click is not a confirmation either; the armed button comes back as it was
    page.wait_for_function(
        "() => !document.querySelector('[data-action=\"cancel\"]').classList.contains('armed')", timeout=10_000
    )
    cancel.dblclick()
    page.wait_for_timeout(500)
    assert stack.video(owner, video_id)["state"] == "queued", "a double click does not cancel"

    armed.click()
    page.locator('[data-role="state"]:text-is("cancelled")').wait_for()
    assert stack.video(owner, video_id)["state"] == "cancelled"
    assert page.locator('[data-action="cancel"]').is_hidden()
    assert page.locator('[data-role="progress-box"]').is_hidden()
    assert_page_ok(page)
    assert vera.dialogs == [] and vera.errors == []
    owner.delete(f"{stack.url}/api/videos/{video_id}", timeout=10)


def test_delete_asks_for_a_second_click(stack, visitor, owner, clips, size):
    video_id = queued_video(stack, owner, clips, "Delete me")
    vera = on_video_page(visitor, video_id, size)
    page = vera.page
    delete = page.locator('[data-action="delete"]')
    delete.click()
    assert delete.inner_text() == "Delete for good?" and "armed" in delete.get_attribute("class")
    page.wait_for_timeout(1000)
    assert owner.get(f"{stack.url}/api/videos/{video_id}", timeout=10).status_code == 200, "one click does not delete"
    delete.click()
    page.wait_for_url("**/videos")
    assert owner.get(f"{stack.url}/api/videos/{video_id}", timeout=10).status_code == 404
    assert vera.dialogs == [] and vera.errors == []


def test_a_failed_video_says_why(stack, visitor, owner, clips, tmp_path, size):
    ensure_worker(stack)
    whole = clips("v320x180", seconds=1, width=320, height=180).read_bytes()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(whole[: len(whole) // 3])  # an MP4's beginning: taken, then found unreadable
    video_id = stack.upload(owner, broken, title="Broken").json()["id"]
    video = stack.wait_final(owner, video_id, timeout=180)
    assert video["state"] == "failed", video

    vera = on_video_page(visitor, video_id, size)
    page = vera.page
    error = page.get_by_role("alert").filter(has_text=video["error"])
    assert error.is_visible()
    assert page.locator(".player video").count() == 0
    assert page.locator('[data-role="stage-message"]').inner_text() == "This video could not be converted."
    assert page.locator('[data-role="progress-box"]').is_hidden()
    assert page.get_by_role("button", name="Convert again").is_hidden(), "the file's fault: the same would fail again"
    assert_page_ok(page)

    # a failure that was not the file's (its attempts ran out, as when workers are lost): Convert again
    stop_workers(stack)  # so that it stays queued once converted again
    mark_retryable(stack, video_id, "Converting failed after 2 attempts: the worker was lost.")
    page.reload()
    again = page.get_by_role("button", name="Convert again")
    assert again.is_visible()
    assert_page_ok(page)
    again.click()
    page.locator('[data-role="state"]:text-is("queued")').wait_for()
    assert stack.video(owner, video_id)["state"] == "queued"
    assert again.is_hidden() and page.locator('[data-role="failure"]').is_hidden()
    assert page.locator('[data-role="progress-box"]').is_visible()
    assert vera.errors == []
    owner.delete(f"{stack.url}/api/videos/{video_id}", timeout=10)


def mark_retryable(stack, video_id: str, error: str) -> None:
    """What jobs/convert.py records when a video's attempts have run out for a reason not its file's."""
    with sqlite3.connect(stack.env["DATABASE_URL"].removeprefix("sqlite:///")) as db:
        db.execute("UPDATE videos SET retryable = 1, error = ? WHERE id = ?", (error, video_id))
