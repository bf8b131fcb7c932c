"""With S3 storage, the upload page sends the file straight to the bucket and plays from it."""

from __future__ import annotations

import shutil

import pytest

from tests.browser.conftest import redis_database, running_s3_stack
from tests.s3server import s3_bucket

pytestmark = pytest.mark.browser

BUCKET = "conveyor-pages"


@pytest.fixture(scope="module")
def bucket_endpoint():
    with s3_bucket(BUCKET) as (endpoint, _):
        yield endpoint


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server, bucket_endpoint):
    """A stack of its own, on a Redis database of its own: its jobs are not for the other stack's workers."""
    folder, redis_url = tmp_path_factory.mktemp("browser-s3"), redis_database(redis_server, 3)
    with running_s3_stack(folder, redis_url, bucket_endpoint, BUCKET) as stack:
        yield stack


def test_the_file_goes_to_the_bucket_not_through_the_web_process(stack, visitor, clips, bucket_endpoint):
    alice = visitor("alice")
    posts: list[tuple[str, str]] = []

    def record(request) -> None:
        if request.method == "POST":
            posts.append((request.url, request.headers.get("content-type", "")))

    alice.page.on("request", record)
    video_id = alice.upload(
        clips("b320x180", seconds=1, width=320, height=180), title="Straight to the bucket", even_loudness=True
    )

    to_bucket = [content for url, content in posts if url.startswith(bucket_endpoint)]
    to_app = [content for url, content in posts if url == f"{stack.url}/api/videos"]
    assert len(to_bucket) == 1 and to_bucket[0].startswith("multipart/form-data")
    assert to_app == ["application/json"]  # only the name of the upload, not the file

    page = alice.page
    page.wait_for_selector('[data-role="download-list"] a', timeout=120_000)
    downloads = page.locator('[data-role="download-list"] a').evaluate_all("links => links.map(a => a.href)")
    assert downloads and all(url.startswith(bucket_endpoint) for url in downloads)
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('video').currentTime >= 0.5", timeout=30_000)
    assert video_id and alice.errors == []
    assert alice.context.request.get(f"/api/videos/{video_id}").json()["normalize_loudness"] is True


def test_several_files_each_go_to_the_bucket_and_each_is_named_once(stack, visitor, clips, bucket_endpoint, tmp_path):
    clip = clips("b320x180", seconds=1, width=320, height=180)
    first, second = tmp_path / "first.mp4", tmp_path / "second.mp4"
    shutil.copy(clip, first)
    shutil.copy(clip, second)
    alice = visitor("alice")
    page = alice.page
    posts: list[tuple[str, str]] = []
    page.on(
        "request", lambda r: posts.append((r.url, r.headers.get("idempotency-key", ""))) if r.method == "POST" else None
    )
    page.goto("/upload")
    page.set_input_files("#file", [str(first), str(second)])
    page.click("#upload-button")
    for name in (first.name, second.name):
        row = page.locator("li.upload-item").filter(has=page.get_by_text(name, exact=True))
        row.locator('[data-role="state"]:text-is("ready")').wait_for(timeout=120_000)

    assert len([url for url, _ in posts if url.startswith(bucket_endpoint)]) == 2
    named = [key for url, key in posts if url == f"{stack.url}/api/videos"]
    assert len(named) == 2 and all(named) and named[0] != named[1], "each file has its own Idempotency-Key"
    assert page.url.endswith("/upload") and alice.errors == []
