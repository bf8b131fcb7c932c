"""Daily restarts, the platform's way, while work is in flight: nothing lost, stuck or half-written."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.conftest import free_port
from tests.hlsclient import complete
from tests.media import streams
from tests.stack import FINAL, Stack, dyno_processes, ffmpeg_pids, signal_dyno

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# long enough that the restarts meet work in flight however fast the conversions have become
CLIP_SECONDS = 5
CLIPS = 10


def restart(stack: Stack, dyno: subprocess.Popen) -> subprocess.Popen:
    """SIGTERM to every process of the dyno, SIGKILL to what is left 30 s later, then a new dyno."""
    signal_dyno(dyno.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while dyno_processes(dyno.pid) and time.monotonic() < deadline:  # all of them, not just the shell
        time.sleep(0.05)
    lingering = signal_dyno(dyno.pid, signal.SIGKILL)
    assert not lingering, f"processes {lingering} of a worker dyno outlived SIGTERM by 30 s"
    dyno.wait()
    stack.workers.remove(dyno)
    return stack.start_dyno("worker")


def wait_busy(dyno: subprocess.Popen, timeout: float = 3) -> None:
    """Until the dyno runs an ffmpeg (or a while): restarting it then tests a hand-back, not an idle exit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not set(dyno_processes(dyno.pid)) & set(ffmpeg_pids()):
        time.sleep(0.05)


def test_ten_clips_survive_worker_restarts_every_few_seconds(tmp_path, redis_server, clips):
    redis_server.client().flushdb()
    stack = Stack(tmp_path, redis_server.url, free_port(), X264_PRESET="medium", RENDITIONS="144,240,360")
    stack.migrate()
    try:
        stack.start_dyno("web")
        alice = stack.create_user("alice")
        ids = [  # all queued before any worker runs, so that the restarts always meet work in flight
            stack.upload(alice, clips(f"r{i}", width=480, height=360, seconds=CLIP_SECONDS, rate=25 + i)).json()["id"]
            for i in range(CLIPS)
        ]
        dynos = [stack.start_dyno("worker"), stack.start_dyno("worker")]
        deadline = time.monotonic() + 300
        restarts = 0
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            states = {video_id: stack.video(alice, video_id)["state"] for video_id in ids}
            if all(state in FINAL for state in states.values()):
                break
            time.sleep(2)
            index = restarts % len(dynos)  # in turn, so that each dyno lives long enough to finish jobs
            wait_busy(dynos[index])
            dynos[index] = restart(stack, dynos[index])
            restarts += 1
        handed_back = sum(log.read_text().count("handed back to queue") for log in tmp_path.glob("worker-*.log"))
        assert restarts >= 3 and handed_back >= 1, f"{restarts} restarts, {handed_back} hand-backs: nothing was tested"
        assert states == {video_id: "ready" for video_id in ids}
        for video_id in ids:
            folder = stack.storage / "videos" / video_id
            renditions = ["144p.mp4", "240p.mp4", "360p.mp4"]
            assert sorted(p.name for p in folder.iterdir()) == [*renditions, "poster.jpg", "source", "stream"]
            for name in renditions:
                info = streams(folder / name)
                video = next(s for s in info if s["codec_type"] == "video")
                assert float(video["duration"]) == pytest.approx(CLIP_SECONDS, abs=0.2), "a whole rendition, not a part"
            body = stack.video(alice, video_id)
            complete(body["playback_url"], body["duration"])  # each segment once, in order, however restarted
    finally:
        stack.stop()
