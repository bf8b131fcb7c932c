"""The clip through the service: upload to `playable` and to `ready`.

`stack`: the clip through the service (tests/stack.py: redis, gunicorn, one worker.py), from the
upload to `playable` and to `ready`: `/api/videos/<id>/events` is followed to a final state (polled
if the stream is refused), the `playable` column read from the database, storage watched for the
master playlist, the job's work folder for every rung's first segment, and the job's processes
timed from outside by bench.harness.ProcessTimeline.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.harness import ProcessTimeline, Running
from bench.streaming.engine import HEIGHTS

FINAL = {"ready", "failed", "rejected", "cancelled"}


@dataclass
class Seen:
    playable: float | None = None  # epoch seconds
    playable_db: float | None = None
    ready: float | None = None
    state: str = "queued"
    reports_playable: bool = False  # the video JSON has the field at all
    playback_url: str | None = None
    playback_check: str = ""
    how: str = "events"
    error: str = ""


class Watch(threading.Thread):
    """Follows /api/videos/<id>/events (polls GET /api/videos/<id> if the stream is refused) and notes
    when the video JSON first says `playable`, and its final state."""

    def __init__(self, run: Running, video_id: str):
        super().__init__(daemon=True)
        self.run_, self.video_id, self.seen = run, video_id, Seen()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {run.token}"
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self._follow()
        except Exception as exc:
            if self.seen.state not in FINAL:
                self.seen.how = f"polling ({type(exc).__name__})"
                try:
                    self._poll()
                except Exception as again:  # the main thread reports it
                    self.seen.error = f"{type(again).__name__}: {again}"
        finally:
            self.done.set()

    def _note(self, body: dict) -> None:
        at = time.time()
        self.seen.state = body.get("state", self.seen.state)
        if "playable" in body:
            self.seen.reports_playable = True
        if body.get("playable") and self.seen.playable is None:
            self.seen.playable = at
            self.seen.playback_url = body.get("playback_url")
            self.seen.playback_check = self._check_playback(body.get("playback_url"))
        if self.seen.state == "ready" and self.seen.ready is None:
            self.seen.ready = at

    def _check_playback(self, url: str | None) -> str:
        """The master playlist fetched as a player would, with no token and no cookie."""
        if not url:
            return "no playback_url"
        if url.startswith("/"):
            url = self.run_.url + url
        try:
            response = requests.get(url, timeout=10)
        except requests.RequestException as exc:
            return f"fetching it failed: {type(exc).__name__}"
        head = response.text.lstrip()[:7]
        return f"{response.status_code}, {'an HLS playlist' if head == '#EXTM3U' else repr(head)}"

    def _follow(self) -> None:
        url = f"{self.run_.url}/api/videos/{self.video_id}/events"
        with self.session.get(url, stream=True, timeout=(10, 120)) as response:
            response.raise_for_status()
            for line in response.iter_lines(chunk_size=None):
                if line.startswith(b"data:"):
                    self._note(json.loads(line[5:]))
                    if self.seen.state in FINAL:
                        return
        raise RuntimeError("the event stream ended before a final state")

    def _poll(self) -> None:
        url = f"{self.run_.url}/api/videos/{self.video_id}"
        while self.seen.state not in FINAL:
            response = self.session.get(url, timeout=10)
            response.raise_for_status()
            self._note(response.json())
            time.sleep(0.25)


def playable_in_db(run: Running, video_id: str) -> bool | None:
    """The `playable` column (None before the pipeline has one)."""
    try:
        with closing(sqlite3.connect(run.stack.instance / "conveyor.db", timeout=1)) as db:
            row = db.execute("SELECT playable FROM videos WHERE id = ?", (video_id,)).fetchone()
    except sqlite3.Error:
        return None
    return bool(row[0]) if row else None


def through_stack(run: Running, source: Path) -> dict:
    """Upload; follow the events; read the database (commits) and storage (the master playlist)."""
    started = time.time()
    video_id = run.upload(source, title="streaming bench")["id"]
    accepted = time.time()
    watch = Watch(run, video_id)
    watch.start()
    folder = run.stack.storage / "videos" / video_id
    master = local = None
    work = run.folder / "tmp"  # the job's temporary folders (TMPDIR): conveyor-*/stream/<rung>/
    column = True
    deadline = time.monotonic() + 1200
    with ProcessTimeline([p.pid for p in run.live_workers()]) as timeline:  # the job's processes, from outside
        while not watch.done.wait(0.05):
            now = time.time()
            if watch.seen.playable_db is None and column:
                found = playable_in_db(run, video_id)
                column = found is not None
                if found:
                    watch.seen.playable_db = now
            if master is None and folder.is_dir() and next(folder.rglob("master.m3u8"), None) is not None:
                master = now
            if local is None and len(list(work.glob("conveyor-*/stream/*/seg_00001.m4s"))) >= len(HEIGHTS) + 1:
                local = now  # every rung and the audio: ffmpeg has written their first segment
            if time.monotonic() > deadline:
                raise RuntimeError("the video did not reach a final state in 1200 s")
    seen = watch.seen
    if seen.error:
        raise RuntimeError(f"watching the video failed: {seen.error}")
    body = run.video(video_id)
    if body["state"] != "ready":
        raise RuntimeError(f"the video ended {body['state']}: {body.get('error')}")
    ready = run.times(video_id)["finished"]  # the commit that makes the API say `ready`
    playable = seen.playable_db or seen.playable
    spans = timeline.named("ffmpeg")
    job: dict[str, float | None] = {}
    if spans:
        encode = max(spans, key=lambda span: span.last - span.first)  # the one decode; then remuxes, tile
        later = [s for s in timeline.spans.values() if s.first >= encode.last and s.name in ("ffmpeg", "ffprobe")]
        job = {
            "to_encode": encode.first - accepted,
            "encode": encode.last - encode.first,
            "encode_cpu": encode.cpu,
            "after_encode": ready - encode.last,
            "after_encode_cpu": sum(s.cpu for s in later),
            "encode_to_playable": playable - encode.first if playable else None,
            "encode_to_first_segments": local - encode.first if local else None,
        }
    return {
        **job,
        "upload_to_ready": ready - started,
        "ready": ready - accepted,
        "playable": playable - accepted if playable else None,
        "playable_events": seen.playable - accepted if seen.playable else None,
        "master_in_storage": master - accepted if master else None,
        "reports_playable": seen.reports_playable,
        "streams": bool(body.get("playback_url")) or master is not None,
        "playback_check": seen.playback_check,
        "how": seen.how,
        "upload": accepted - started,
    }
