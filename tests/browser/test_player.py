"""The player as a viewer sees it: the HLS stream plays while the video is still converting and after it
is ready, with a quality choice, seek previews over the timeline, and a hostile title that stays text,
under the pages' Content-Security-Policy (no violation reported). Chromium plays the stream through
hls.js (MediaSource, H.264 + AAC in fMP4).
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import XSS, Visitor, redis_database, running_s3_stack
from tests.conftest import free_port
from tests.media import make_clip
from tests.s3server import s3_bucket
from tests.stack import Stack

pytestmark = pytest.mark.browser

HOSTILE_TITLE = f"{XSS} </script><script>alert(1)</script>"
MSE_H264 = 'video/mp4; codecs="avc1.64001f,mp4a.40.2"'

# Kept by the page from its first script on: policy violations, and the time the <video> reached
# while the page still said "processing".
WATCH_PAGE = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
window.__playedWhileProcessing = 0;
document.addEventListener("timeupdate", (e) => {
  const state = document.querySelector('[data-role="state"]');
  if (state && state.textContent === "processing") {
    window.__playedWhileProcessing = Math.max(window.__playedWhileProcessing, e.target.currentTime);
  }
}, true);
"""
PLAY = "() => { const v = document.querySelector('.player video'); v.muted = true; return v.play(); }"
POLICY_WORDS = ("Content Security Policy", "Content-Security-Policy")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server):
    """A stack of its own whose x264 works slowly (`veryslow`), so that a clip of some seconds stays
    `processing` long enough to be watched meanwhile; two rungs, 144p and 240p."""
    redis_url = redis_database(redis_server, 4)
    stack = Stack(
        tmp_path_factory.mktemp("browser-player"), redis_url, free_port(), RENDITIONS="144,240",
        X264_PRESET="veryslow",
    )
    stack.migrate()
    stack.start_web()
    stack.start_worker()
    stack.alice = stack.create_user("alice")  # her API session
    yield stack
    stack.stop()


@pytest.fixture
def viewer(browser, stack):
    """Alice's browser on this stack, keeping policy violations and console errors."""
    visitor = Visitor(browser, stack.url)
    visitor.context.add_init_script(WATCH_PAGE)
    visitor.console: list[str] = []
    visitor.page.on("console", lambda m: visitor.console.append(f"{m.type}: {m.text}"))
    visitor.log_in("alice")
    yield visitor
    visitor.context.close()


@pytest.fixture(scope="module")
def ready_video(stack, tmp_path_factory) -> dict:
    """An 8 s 640x360 video, uploaded through the API and converted: `ready`."""
    clip = make_clip(tmp_path_factory.mktemp("player-clips") / "ready.mp4", seconds=8, width=640, height=360)
    session = stack.alice
    video = stack.wait_final(session, stack.upload(session, clip, title="Ready to play").json()["id"], timeout=180)
    assert video["state"] == "ready" and video["playable"], video
    return video


def policy_trouble(visitor) -> list[str]:
    """What the page reported against its Content-Security-Policy."""
    reported = visitor.page.evaluate("window.__violations")
    console = [line for line in visitor.console if any(words in line for words in POLICY_WORDS)]
    return reported + console


def signed_key(url: str) -> str:
    """What a signed link names: a link made for the same file at another time has another signature."""
    return url.split("/media/", 1)[1].split(".", 1)[0]


def wait_video(page, condition: str, timeout: float = 30_000) -> None:
    """Wait until `condition` holds of the player's <video>, `v` (JavaScript)."""
    page.wait_for_function(f"() => {{ const v = document.querySelector('.player video'); return {condition}; }}",
                           timeout=timeout)


def hover_timeline(page, fraction: float) -> None:
    box = page.locator(".timeline .seek").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, y)
    page.mouse.move(box["x"] + box["width"] * fraction, y, steps=4)


def test_this_chromium_plays_h264_and_aac_through_media_source(browser):
    page = browser.new_page()
    try:
        assert page.evaluate("(t) => MediaSource.isTypeSupported(t)", MSE_H264), (
            f"Chromium's MediaSource refuses {MSE_H264}: hls.js can't play Conveyor's stream here"
        )
    finally:
        page.close()


@pytest.mark.slow
def test_the_stream_plays_while_processing_then_ready_with_a_hostile_title(stack, viewer, tmp_path):
    clip = make_clip(tmp_path / "long.mp4", seconds=24, width=640, height=360)
    page = viewer.page
    viewer.upload(clip, title=HOSTILE_TITLE)

    # the player appears while the conversion is still running, and plays from the start
    page.wait_for_selector(".player video", timeout=120_000)
    assert page.locator('[data-role="state"]').text_content() == "processing", "the window to watch early was missed"
    page.evaluate("document.querySelector('.player video').__first = true")
    page.evaluate(PLAY)
    page.wait_for_function("() => window.__playedWhileProcessing >= 1", timeout=60_000)
    assert page.evaluate("document.querySelector('.player video').currentSrc").startswith("blob:"), "hls.js plays it"

    # at ready: the downloads and the previews join the same player, which is not made again
    page.wait_for_selector('[data-role="state"]:text-is("ready")', timeout=180_000)
    page.wait_for_selector('[data-role="download-list"] li')
    assert page.locator(".player video").count() == 1
    assert page.evaluate("document.querySelector('.player video').__first") is True, "the player was rebuilt"
    played = page.evaluate("document.querySelector('.player video').currentTime")
    wait_video(page, f"v.currentTime > {played} + 0.5")
    page.wait_for_selector(".timeline.has-previews", timeout=30_000)
    hover_timeline(page, 0.5)
    page.wait_for_selector(".timeline .preview:not([hidden])", timeout=10_000)
    assert "sprite_" in page.locator(".preview-picture").evaluate("e => e.style.backgroundImage")

    # the title is text everywhere it is shown; nothing of it ran
    assert page.locator("h1").text_content() == HOSTILE_TITLE
    assert page.title().startswith(HOSTILE_TITLE)
    assert page.locator('img[src="x"]').count() == 0
    assert viewer.dialogs == [], "a script of the title ran"
    assert viewer.errors == []
    assert policy_trouble(viewer) == []


def test_a_ready_video_adapts_switches_quality_and_previews_the_timeline(stack, viewer, ready_video):
    page = viewer.page
    page.goto(f"/videos/{ready_video['id']}")
    video = page.locator(".player video")
    video.wait_for()

    quality = page.get_by_label("Quality")
    page.wait_for_function("() => document.querySelector('select.quality').options.length === 3", timeout=30_000)
    labels = quality.locator("option").all_text_contents()
    assert labels[0].startswith("Auto") and labels[1:] == ["240p", "144p"], labels
    assert quality.input_value() == "-1"  # adaptive unless the viewer chooses

    page.evaluate(PLAY)
    wait_video(page, "v.currentTime >= 1")

    for rung, height in (("144p", 144), ("240p", 240)):
        quality.select_option(label=rung)
        wait_video(page, f"v.videoHeight === {height}")
        at = video.evaluate("v => v.currentTime")
        wait_video(page, f"v.currentTime > {at} + 0.3")
    quality.select_option(value="-1")
    assert quality.input_value() == "-1"

    # hovering the timeline shows the storyboard's picture of that moment, from its sprite sheet
    page.wait_for_selector(".timeline.has-previews", timeout=30_000)
    hover_timeline(page, 0.6)
    preview = page.locator(".timeline .preview")
    preview.wait_for(state="visible", timeout=10_000)
    picture = page.locator(".preview-picture")
    image = picture.evaluate("e => getComputedStyle(e).backgroundImage")
    assert image.startswith('url("') and "/storyboard/sprite_" in image, image
    seconds = 0.6 * ready_video["duration"]
    shown = page.locator(".preview-time").text_content()
    assert shown == f"0:{int(seconds):02d}", (shown, seconds)
    width = picture.evaluate("e => e.getBoundingClientRect().width")
    assert width > 0
    page.mouse.move(0, 0)
    preview.wait_for(state="hidden")

    # a click on the timeline seeks there; so do the keys, by 5 s
    box = page.locator(".timeline .seek").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2)
    wait_video(page, f"Math.abs(v.currentTime - {0.25 * ready_video['duration']}) < 1")
    video.evaluate("v => v.pause()")
    before = video.evaluate("v => v.currentTime")
    page.locator(".timeline .seek").press("ArrowRight")
    wait_video(page, f"Math.abs(v.currentTime - {before + 5}) < 0.5")
    assert page.get_by_label("Seek").count() == 1

    assert viewer.errors == [] and viewer.dialogs == []
    assert policy_trouble(viewer) == []


def test_the_storyboard_reader_takes_what_cues_say_and_nothing_else(stack, viewer, ready_video):
    page = viewer.page
    page.goto(f"/videos/{ready_video['id']}")
    page.wait_for_selector(".player video")
    vtt = (
        "\ufeffWEBVTT\r\n\r\n"
        "1\r\n00:00:00.000 --> 00:00:02.000\r\nsprite_000.jpg#xywh=0,0,160,90\r\n\r\n"
        "01:00:02.500 --> 01:00:04.000 align:start\r\nsheets/sprite_001.jpg#xywh=160,90,160,90\r\n\r\n"
        "00:04.000 --> 00:06.000\r\nhttps://bucket.example/s.jpg?X-Amz-Signature=ab#xywh=320,0,160,90\r\n\r\n"
        "00:00:06.000 --> 00:00:08.000\r\njavascript:alert(1)#xywh=0,0,1,1\r\n\r\n"
        "00:00:08.000 --> 00:00:10.000\r\nno-box.jpg\r\n"
    )
    vtt_url = "http://site.example/stream/tok/storyboard/storyboard.vtt"
    cues = page.evaluate("([text, url]) => ConveyorPlayer.parseStoryboard(text, url)", [vtt, vtt_url])
    assert cues == [
        {"start": 0, "end": 2, "sheet": "http://site.example/stream/tok/storyboard/sprite_000.jpg",
         "x": 0, "y": 0, "w": 160, "h": 90},
        {"start": 4, "end": 6, "sheet": "https://bucket.example/s.jpg?X-Amz-Signature=ab",
         "x": 320, "y": 0, "w": 160, "h": 90},
        {"start": 3602.5, "end": 3604, "sheet": "http://site.example/stream/tok/storyboard/sheets/sprite_001.jpg",
         "x": 160, "y": 90, "w": 160, "h": 90},
    ]


NO_MEDIA_SOURCE = "delete window.MediaSource; delete window.ManagedMediaSource;"
NO_NATIVE_HLS = """
const canPlayType = HTMLMediaElement.prototype.canPlayType;
HTMLMediaElement.prototype.canPlayType = function (type) {
  return /mpegurl/i.test(type) ? "" : canPlayType.call(this, type);
};
"""


@pytest.mark.parametrize(
    ("browser_lacks", "plays"),
    [(NO_MEDIA_SOURCE, "the stream, by the browser itself"), (NO_MEDIA_SOURCE + NO_NATIVE_HLS, "an MP4 rendition")],
)
def test_browsers_without_media_source_play_the_stream_or_the_mp4(stack, browser, ready_video, browser_lacks, plays):
    viewer = Visitor(browser, stack.url)
    try:
        viewer.context.add_init_script(WATCH_PAGE + browser_lacks)
        viewer.console = []
        viewer.log_in("alice")
        page = viewer.page
        page.goto(f"/videos/{ready_video['id']}")
        page.wait_for_selector(".player video")
        page.evaluate(PLAY)
        wait_video(page, "v.currentTime >= 1")
        source = page.evaluate("document.querySelector('.player video').currentSrc")
        assert page.evaluate("typeof window.Hls") == "undefined", "hls.js is loaded only where MediaSource is"
        if plays == "an MP4 rendition":
            largest = ready_video["renditions"][-1]  # all are at most 720p here
            assert signed_key(source) == signed_key(largest["url"]), (source, largest)
            labels = page.get_by_label("Quality").locator("option").all_text_contents()
            assert labels == [r["name"] for r in ready_video["renditions"]]
        else:
            assert source.split("/stream/")[-1].endswith("/master.m3u8")
            assert page.locator(".quality-choice").is_hidden(), "the browser chooses the rung itself"
        assert viewer.errors == [] and policy_trouble(viewer) == []
    finally:
        viewer.context.close()


BUCKET = "conveyor-player"


@pytest.fixture(scope="module")
def s3_stack(tmp_path_factory, redis_server):
    """Storage in a bucket: segments and sprite sheets come from the bucket's origin, playlists from the app."""
    with s3_bucket(BUCKET) as (endpoint, _):
        folder, redis_url = tmp_path_factory.mktemp("browser-player-s3"), redis_database(redis_server, 5)
        with running_s3_stack(folder, redis_url, endpoint, BUCKET) as stack:
            stack.bucket_endpoint = endpoint
            yield stack


def test_on_s3_the_segments_come_from_the_bucket_under_the_page_policy(s3_stack, browser, tmp_path):
    viewer = Visitor(browser, s3_stack.url)
    try:
        viewer.context.add_init_script(WATCH_PAGE)
        viewer.console = []
        viewer.page.on("console", lambda m: viewer.console.append(f"{m.type}: {m.text}"))
        requested: list[str] = []
        viewer.page.on("requestfinished", lambda request: requested.append(request.url))
        viewer.log_in("alice")
        clip = make_clip(tmp_path / "s3.mp4", seconds=6, width=640, height=360)
        video_id = viewer.upload(clip, title="From the bucket")
        page = viewer.page
        page.wait_for_selector('[data-role="state"]:text-is("ready")', timeout=180_000)
        policy = page.goto(f"/videos/{video_id}").headers["content-security-policy"]
        assert f"connect-src 'self' {s3_stack.bucket_endpoint}" in policy and "script-src 'self';" in policy

        page.wait_for_selector(".player video")
        page.evaluate(PLAY)
        wait_video(page, "v.currentTime >= 1")
        assert page.evaluate("document.querySelector('.player video').currentSrc").startswith("blob:")
        segments = [url for url in requested if ".m4s" in url]
        assert segments and all(url.startswith(s3_stack.bucket_endpoint) for url in segments), segments
        page.wait_for_selector(".timeline.has-previews", timeout=30_000)
        hover_timeline(page, 0.5)
        page.wait_for_selector(".timeline .preview:not([hidden])", timeout=10_000)
        image = page.locator(".preview-picture").evaluate("e => e.style.backgroundImage")
        assert s3_stack.bucket_endpoint in image, image
        assert viewer.errors == [] and policy_trouble(viewer) == []
    finally:
        viewer.context.close()
