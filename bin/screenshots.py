"""Make the README's screenshots: the upload page, "My videos" with live progress, a video's page.

    .venv/bin/python bin/screenshots.py [OUTPUT_FOLDER]   # default: docs/screenshots

Runs the real stack (gunicorn, worker.py, a redis-server of its own on a free port) in a
temporary folder and drives Debian's Chromium with Playwright, as the browser tests do.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Visitor  # noqa: E402
from tests.conftest import RedisServer, free_port  # noqa: E402
from tests.media import make_clip  # noqa: E402
from tests.stack import Stack  # noqa: E402

VIEWPORT = {"width": 1000, "height": 720}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="conveyor-shots-") as tmp:
        work = Path(tmp)
        redis = RedisServer(work)
        redis.start()
        # a slower preset and longer clips, so that a conversion is caught half way
        stack = Stack(work, redis.url, free_port(), RENDITIONS="240,360", X264_PRESET="medium")
        try:
            stack.migrate()
            stack.start_web()
            api = stack.create_user("alice")
            clips = {
                name: make_clip(work / f"{name}.mp4", seconds=seconds, width=640, height=360)
                for name, seconds in (("harbour", 4), ("meeting", 20), ("drone", 6))
            }
            broken = work / "holiday-export.mp4"
            broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4096)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                shoot(browser, stack, api, clips, broken, out)
                browser.close()
        finally:
            stack.stop()
            redis.stop()


def shoot(browser, stack: Stack, api, clips: dict[str, Path], broken: Path, out: Path) -> None:
    alice = Visitor(browser, stack.url)
    alice.page.set_viewport_size(VIEWPORT)
    alice.log_in("alice")

    alice.page.goto("/upload")
    alice.page.set_input_files("#file", str(clips["harbour"]))
    alice.page.fill("input[name=title]", "Sunset over the harbour")
    alice.page.screenshot(path=out / "upload.png")

    alice.upload(broken, "Holiday export")
    ready = alice.upload(clips["harbour"], "Sunset over the harbour")
    running = alice.upload(clips["meeting"], "Team meeting, March")
    alice.upload(clips["drone"], "Drone flight over the ridge")
    stack.start_worker()
    stack.wait_final(api, ready, timeout=300)

    alice.page.goto("/videos")
    deadline = time.monotonic() + 300
    while stack.video(api, running)["status"] < 0.4 and time.monotonic() < deadline:
        time.sleep(0.2)
    alice.page.wait_for_timeout(500)  # the stream's latest event reaches the page
    alice.page.screenshot(path=out / "videos.png")

    alice.page.goto(f"/videos/{ready}")
    alice.page.wait_for_selector("video")
    alice.page.wait_for_selector('[data-role="download-list"] a')  # the stream plays; the downloads are listed
    alice.page.evaluate(
        "async () => { const v = document.querySelector('video'); v.muted = true; await v.play();"
        " await new Promise((done) => setTimeout(done, 1500)); v.pause(); }"
    )
    alice.page.screenshot(path=out / "video.png", full_page=True)
    for name in ("upload", "videos", "video"):
        print(out / f"{name}.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
