"""One long video spread over every worker: real worker processes take its chunks, its audio and its
finish from Redis, and the result is the stream and downloads one job would have made.

The threshold and the chunk length are set low (10 s, 12 s) so that a 36 s clip is three chunks."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest
from rq.job import Job

from media import playlists
from tests.blocked import make_clip as make_content_clip
from tests.blocked import make_picture
from tests.conftest import free_port
from tests.hlsclient import complete, get, master_entries
from tests.media import flashes_and_beeps, format_of, make_sync_clip, onsets, streams
from tests.stack import FINAL, running_stack
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SECONDS = 36  # three chunks of 12 s
CHUNKED = {"CHUNK_THRESHOLD_SECONDS": "10", "CHUNK_SECONDS": "12"}


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    return make_sync_clip(tmp_path_factory.mktemp("long") / "long.mp4", seconds=SECONDS, width=480, height=270)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server):
    with running_stack(tmp_path_factory.mktemp("chunking"), redis_server, free_port(), workers=2, **CHUNKED) as stack:
        yield stack


@pytest.fixture(scope="module")
def carol(stack):
    return stack.create_user("carol")


@pytest.fixture(scope="module")
def converted(stack, carol, long_clip):
    video_id = stack.upload(carol, long_clip, title="long").json()["id"]
    body = stack.wait_final(carol, video_id, timeout=240)
    assert body["state"] == "ready", body
    return body


def test_a_long_video_is_planned_as_chunks_its_audio_and_a_finish_each_done_once(stack, converted, redis_server):
    planned = stack.work_items(converted["id"])
    assert [(i["kind"], i["number"], i["start"], i["duration"]) for i in planned] == [
        ("chunk", 0, 0.0, 12.0), ("chunk", 1, 12.0, 12.0), ("chunk", 2, 24.0, pytest.approx(12.0, abs=0.05)),
        ("audio", 0, None, None), ("finish", 0, None, None),
    ]
    assert all(i["finished_at"] and i["attempts"] == 1 and i["progress"] == 1.0 for i in planned), planned
    connection = redis_server.client()
    jobs = [Job.fetch(f"{i['kind']}-{converted['id']}-{i['number']}", connection=connection) for i in planned]
    assert [job.description for job in jobs] == [
        f"convert video {converted['id']}: chunk 1 of 3", f"convert video {converted['id']}: chunk 2 of 3",
        f"convert video {converted['id']}: chunk 3 of 3", f"convert video {converted['id']}: audio",
        f"convert video {converted['id']}: finish",
    ]
    # the finish makes the video ready inside its job; RQ records the job finished a moment later
    wait_until(lambda: all(job.get_status(refresh=True) == "finished" for job in jobs), 10, what="RQ to record them")
    assert len({job.worker_name for job in jobs[:3]}) == 2, "the chunks were spread over both workers"
    assert {job.origin for job in jobs} == {"conveyor-default", "conveyor-low"}


def test_the_chunked_stream_is_one_contiguous_stream(converted):
    names = complete(converted["playback_url"], SECONDS)
    # every rung's segments numbered 1 to 9 straight across the chunks (AAC frames end the audio's a
    # little past 36 s: a tenth, short segment)
    assert {uri: len(listed) for uri, listed in names.items() if uri != "audio/index.m3u8"} == {
        "144p/index.m3u8": SECONDS // 4, "240p/index.m3u8": SECONDS // 4,
    }
    variants, media = master_entries(get(converted["playback_url"]).text)
    assert [v["RESOLUTION"] for v in variants] == ["256x144", "426x240"] and len(media) == 1
    assert all(int(v["AVERAGE-BANDWIDTH"]) < int(v["BANDWIDTH"]) for v in variants)


def test_the_downloads_last_as_long_as_the_source_with_sound_and_picture_together(converted, long_clip, tmp_path):
    source = float(format_of(long_clip)["duration"])
    for rendition in converted["renditions"]:
        path = tmp_path / f"{rendition['name']}.mp4"
        path.write_bytes(get(rendition["url"]).content)
        video = next(s for s in streams(path) if s["codec_type"] == "video")
        assert float(video["duration"]) == pytest.approx(source, abs=1 / 25 + 1e-3), rendition["name"]
        assert int(video["nb_frames"]) == SECONDS * 25, "every picture once: none lost or doubled at a boundary"
        flashes, beeps = flashes_and_beeps(path)
        flashes, beeps = onsets(flashes), [b for b in beeps if b < SECONDS - 0.5]
        assert [round(f) for f in flashes] == [round(b) for b in beeps] == list(range(0, SECONDS, 4))
        # the chunk boundaries are at 12 s and 24 s; silencedetect sees a beep some 20 ms late
        assert all(abs(f - b) <= 1 / 25 + 0.025 for f, b in zip(flashes, beeps, strict=True)), (flashes, beeps)


def test_the_storyboard_covers_every_chunk(converted):
    cues = get(converted["storyboard_url"]).text
    assert cues.count(" --> ") == SECONDS // 2  # a thumbnail every 2 s, from all three chunks
    assert cues.rstrip().splitlines()[-2].endswith("--> 00:00:36.000")


def test_nothing_is_left_in_the_work_folder(stack, converted):
    assert not (stack.storage / "videos" / converted["id"] / "work").exists()


def test_a_finish_queued_again_changes_nothing(stack, carol, converted, redis_server):
    """As RQ would when two chunks end at once, or the sweep when it thinks the finish was lost."""
    from rq import Queue

    before = stack.video(carol, converted["id"])
    queue = Queue("conveyor-default", connection=redis_server.client())
    again = [queue.enqueue("jobs.convert.finish_video", converted["id"], 0) for _ in range(3)]
    wait_until(lambda: all(job.get_status(refresh=True) == "finished" for job in again), timeout=30)
    assert [job.return_value() for job in again] == [{"video": converted["id"], "skipped": True}] * 3
    after = stack.video(carol, converted["id"])
    assert [r["size"] for r in after["renditions"]] == [r["size"] for r in before["renditions"]]
    assert [i["attempts"] for i in stack.work_items(converted["id"]) if i["kind"] == "finish"] == [1]
    assert after["state"] == "ready"
    assert playlists.is_final(get(converted["playback_url"].replace("master.m3u8", "240p/index.m3u8")).text)


def follow(stack, session, video_id: str, into: list[dict]) -> threading.Thread:
    """Read the video's event stream in the background, as the page does, until it ends."""

    def read() -> None:
        with session.get(f"{stack.url}/api/videos/{video_id}/events", stream=True, timeout=300) as response:
            for line in response.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    into.append(json.loads(line[5:]))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def test_watchable_after_the_first_chunk_and_growing_in_order_with_one_growing_status(make_stack, long_clip):
    """One slow worker: the chunks come one after another, so what is published meanwhile shows."""
    stack = make_stack(X264_PRESET="veryslow", **CHUNKED)
    erin = stack.create_user("erin")
    stack.start_worker()
    video_id = stack.upload(erin, long_clip).json()["id"]
    events: list[dict] = []
    reader = follow(stack, erin, video_id, events)
    body = wait_until(lambda: (b := stack.video(erin, video_id))["playable"] and b, 120, "playable")
    assert body["state"] == "processing"
    done = [i["number"] for i in stack.work_items(video_id) if i["kind"] == "chunk" and i["finished_at"]]
    assert 2 not in done, "playable long before the last chunk"
    rung = body["playback_url"].replace("master.m3u8", "144p/index.m3u8")
    seen = [len(playlists.segments(get(rung).text))]
    while (body := stack.video(erin, video_id))["state"] == "processing":
        text = get(rung).text
        # growing (EVENT) until the finish's last step before `ready` makes it final, whole
        assert not playlists.is_final(text) or len(playlists.segments(text)) == SECONDS // 4, text
        seen.append(len(playlists.segments(text)))
        time.sleep(0.2)
    assert body["state"] == "ready"
    assert seen == sorted(seen) and seen[0] <= 3 and any(3 < n < 9 for n in seen), seen  # chunk by chunk, growing
    reader.join(timeout=30)
    statuses = [event["status"] for event in events]
    assert statuses == sorted(statuses), "one number that only grows, whichever chunk reports"
    assert statuses[-1] == 1.0 and events[-1]["state"] == "ready"
    assert len({round(s, 1) for s in statuses}) >= 5, statuses  # it moved along the way, not in one jump


def test_a_later_chunk_showing_a_blocklisted_picture_rejects_the_video_before_any_of_it_is_shown(
    make_stack, tmp_path
):
    """13 s of test pattern, 2 s of the listed picture, 13 s of bars: the picture is in the second chunk
    (12 s to 28 s), in its first segment. That segment is never stored, and all is withdrawn."""
    picture = make_picture(tmp_path / "picture.png")
    clip = make_content_clip(tmp_path / "with-picture.mp4", picture, size="320x180", seconds=13)
    stack = make_stack(X264_PRESET="veryslow", **CHUNKED)
    stack.flask("blocklist", "add", str(picture))
    frank = stack.create_user("frank")
    stack.start_worker()
    video_id = stack.upload(frank, clip).json()["id"]
    rung = stack.storage / "videos" / video_id / "stream" / "144p"
    stored: set[str] = set()
    while stack.video(frank, video_id)["state"] not in FINAL:
        stored |= {path.name for path in rung.glob("seg_*.m4s")} if rung.is_dir() else set()
        time.sleep(0.05)
    body = stack.video(frank, video_id)
    assert body["state"] == "rejected" and not body["playable"]
    assert stored and stored <= {"seg_00001.m4s", "seg_00002.m4s", "seg_00003.m4s"}, "only the first chunk's"
    folder = stack.storage / "videos" / video_id
    wait_until(lambda: sorted(p.name for p in folder.iterdir()) == ["source"], 5, "all withdrawn")
    with sqlite3.connect(stack.instance / "conveyor.db") as db:
        (at,) = db.execute("SELECT at_seconds FROM content_matches WHERE video_id = ?", (video_id,)).fetchone()
    assert 13 <= at <= 15, "where the picture is in the video, not in its chunk"


def test_a_long_silent_video_is_chunked_without_an_audio_part(stack, carol, clips):
    clip = clips("long-silent", width=320, height=180, seconds=26, audio=False)
    body = stack.wait_final(carol, stack.upload(carol, clip).json()["id"], timeout=120)
    assert body["state"] == "ready", body
    assert [i["kind"] for i in stack.work_items(body["id"])] == ["chunk", "chunk", "finish"]  # 12 s, 14 s
    assert set(complete(body["playback_url"], 26)) == {"144p/index.m3u8"}
    variants, media = master_entries(get(body["playback_url"]).text)
    assert media == [] and "AUDIO" not in variants[0] and "mp4a" not in variants[0]["CODECS"]


def test_a_video_just_over_the_threshold_that_makes_one_chunk_is_converted_whole(stack, carol, clips):
    body = stack.wait_final(carol, stack.upload(carol, clips("c14", width=320, height=180, seconds=14)).json()["id"])
    assert body["state"] == "ready"
    assert [i["kind"] for i in stack.work_items(body["id"])] == ["whole"]  # 14 s: one chunk's worth
