"""Make the README's screenshots of every page, at desktop (1280x800) and phone (375x740) sizes.

    .venv/bin/python bin/screenshots.py [OUTPUT_FOLDER]   # default: docs/screenshots

Runs the real stack (gunicorn, worker.py, a redis-server of its own on a free port) in a
temporary folder and drives Debian's Chromium with Playwright, as the browser tests do. Each
picture is `<page>-<size>.png`: upload, videos, video, account, error.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.checks import SIZES  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Visitor  # noqa: E402
from tests.conftest import RedisServer, free_port  # noqa: E402
from tests.media import make_clip  # noqa: E402
from tests.stack import Stack  # noqa: E402

MEETINGS = {"desktop": "Team meeting, March", "phone": "Team meeting, April"}  # one converting per size
TITLES = {
    "harbour": ("Sunset over the harbour", 6),
    "meeting": ("Team meeting", 40),
    "drone": ("Drone flight over the ridge", 8),
    "kitchen": ("Kitchen renovation, week 3", 5),
}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="conveyor-shots-") as tmp:
        work = Path(tmp)
        redis = RedisServer(work)
        redis.start()
        # a slower preset and a longer clip, so that a conversion is caught half way
        stack = Stack(work, redis.url, free_port(), RENDITIONS="240,360,720", X264_PRESET="medium")
        try:
            stack.migrate()
            stack.start_web()
            api = stack.create_user("alice", email="alice@example.com")
            clips = {
                name: make_clip(work / f"{name}.mp4", seconds=seconds, width=1280, height=720)
                for name, (_, seconds) in TITLES.items()
            }
            broken = work / "holiday-export.mp4"
            broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4096)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                videos = fill(browser, stack, api, clips, broken)
                for size in SIZES:
                    shoot(browser, stack, api, size, videos, clips, out)
                browser.close()
        finally:
            stack.stop()
            redis.stop()


def fill(browser, stack: Stack, api, clips: dict[str, Path], broken: Path) -> dict[str, str]:
    """alice's videos: one that is not a video, and three ready."""
    alice = Visitor(browser, stack.url).log_in("alice")
    ids = {"broken": alice.upload(broken, "Holiday export")}
    for name in ("kitchen", "drone", "harbour"):
        ids[name] = alice.upload(clips[name], TITLES[name][0])
    worker = stack.start_worker()
    for name in ("kitchen", "drone", "harbour"):
        stack.wait_final(api, ids[name], timeout=600)
    stack.stop_worker(worker)
    alice.context.close()
    return ids


def shoot(browser, stack: Stack, api, size: str, videos: dict[str, str], clips: dict[str, Path], out: Path) -> None:
    alice = Visitor(browser, stack.url, size).log_in("alice")
    page = alice.page

    def save(name: str, full_page: bool = True) -> None:
        path = out / f"{name}-{size}.png"
        page.screenshot(path=path, full_page=full_page)
        print(path)

    page.goto("/upload")
    page.set_input_files("#file", [str(clips["harbour"]), str(clips["drone"])])
    save("upload")

    page.goto("/videos")
    converting = stack.upload(api, clips["meeting"], title=MEETINGS[size]).json()["id"]  # appears live
    worker = stack.start_worker()
    deadline = time.monotonic() + 300
    while stack.video(api, converting)["status"] < 0.3 and time.monotonic() < deadline:
        time.sleep(0.5)
    page.wait_for_timeout(800)  # the stream's latest event reaches the page
    save("videos")
    stack.stop_worker(worker)

    page.goto(f"/videos/{videos['harbour']}")
    page.wait_for_selector("video")
    page.evaluate(
        "async () => { const v = document.querySelector('video'); v.muted = true; await v.play();"
        " await new Promise((done) => setTimeout(done, 1500)); v.pause(); }"
    )
    save("video")

    page.goto("/account")
    save("account")

    page.goto("/videos/no-such-video")
    save("error", full_page=False)
    alice.context.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
