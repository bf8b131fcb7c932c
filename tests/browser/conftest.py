"""Browser fixtures: Debian's Chromium driven by Playwright against the real stack.

The stack is gunicorn + `python worker.py` on the tests' own redis-server. Chromium comes from
the system (`apt-get install chromium`); Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.browser.checks import SIZES
from tests.conftest import free_port
from tests.s3server import CREDENTIALS
from tests.stack import Stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "password123"  # what Stack.create_user gives everyone
XSS = "<img src=x onerror=alert(1)>"

# Every value the page gives a progress bar, in order, kept across the page's own updates.
RECORD_PROGRESS = """
window.__progress = [];
new MutationObserver((records) => {
  for (const r of records) {
    if (r.target.matches && r.target.matches('[data-role="progress"]')) {
      window.__progress.push(Number(r.target.getAttribute("value")));
    }
  }
}).observe(document, { attributes: true, attributeFilter: ["value"], subtree: true });
"""


def pytest_collection_modifyitems(items):
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason="needs Debian's Chromium: apt-get install chromium")
        for item in items:
            if "tests/browser/" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def redis_database(redis_server, number: int) -> str:
    """The URL of another database of the tests' redis-server, emptied.

    The browser stacks live for the whole session; on databases of their own, their workers never
    take the jobs of the integration tests' stacks (database 0), nor these theirs.
    """
    url = redis_server.url.rsplit("/", 1)[0] + f"/{number}"
    redis.Redis.from_url(url).flushdb()
    return url


@contextmanager
def running_s3_stack(folder: Path, redis_url: str, endpoint: str, bucket: str) -> Iterator[Stack]:
    """Web, one worker and a user `alice`, storing in a bucket of the S3 server at `endpoint`."""
    stack = Stack(
        folder,
        redis_url,
        free_port(),
        RENDITIONS="144,240",
        STORAGE_URL=f"s3://{bucket}/media",
        S3_ENDPOINT_URL=endpoint,
        **CREDENTIALS,
    )
    stack.migrate()
    stack.start_web()
    stack.start_worker()
    stack.create_user("alice")
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, redis_server):
    """Web only at first; tests start the worker when they want conversions to run."""
    url = redis_database(redis_server, 2)
    # a job that breaks is tried again a second later: a failure whose attempts ran out takes seconds
    stack = Stack(tmp_path_factory.mktemp("browser"), url, free_port(), RENDITIONS="144,240", JOB_RETRY_INTERVALS="1")
    stack.migrate()
    stack.start_web()
    for name in ("alice", "bob"):
        stack.create_user(name)
    stack.create_user("root", admin=True)
    yield stack
    stack.stop()


@pytest.fixture
def stack_redis(stack) -> redis.Redis:
    return redis.Redis.from_url(stack.env["REDIS_URL"])


def ensure_worker(stack: Stack) -> None:
    if not any(process.poll() is None for process in stack.workers):
        stack.start_worker()


def stop_workers(stack: Stack) -> None:
    for process in stack.workers:
        stack.stop_worker(process)


class Visitor:
    """One person's browser, at a size of `SIZES`: its own cookies; every dialog, script error and
    failed load (a 404 in the console) is kept."""

    def __init__(self, browser, base_url: str, size: str = "desktop"):
        self.size = size
        self.context = browser.new_context(base_url=base_url, **SIZES[size])
        self.context.add_init_script(RECORD_PROGRESS)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.missing: list[str] = []
        self.page.on("response", self._response)

    def _response(self, response) -> None:
        if response.status == 404 and response.request.resource_type != "document":
            self.missing.append(response.url)  # what the console shows as a failed load

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def log_in(self, name: str) -> Visitor:
        self.page.goto("/login")
        self.page.fill("input[name=username]", name)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url("**/videos")
        return self

    def upload(self, clip: Path, title: str = "", even_loudness: bool = False) -> str:
        """Upload through the page; the id of the new video, whose page is then open."""
        self.page.goto("/upload")
        self.page.set_input_files("#file", str(clip))
        if title:
            self.page.fill("input[name=title]", title)
        if even_loudness:
            self.page.get_by_label("Even out the loudness").check()
        self.page.click("#upload-button")
        self.page.wait_for_url("**/videos/*")
        return self.page.url.rsplit("/", 1)[-1]


@pytest.fixture(params=sorted(SIZES))
def size(request) -> str:
    """A test that takes `size` runs at each: "desktop" (1280x800) and "phone" (375x740, touch)."""
    return request.param


@pytest.fixture
def visitor(browser, stack):
    """`visitor()` opens a fresh browser context (`size=` one of SIZES); all are closed after the test."""
    opened: list[Visitor] = []

    def open_one(name: str | None = None, size: str = "desktop") -> Visitor:
        visitor = Visitor(browser, stack.url, size)
        opened.append(visitor)
        return visitor.log_in(name) if name else visitor

    yield open_one
    for visitor in opened:
        visitor.context.close()
