"""runner.run: progress, stopping on request, stalls, time limits, failures and the memory cap."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from media import command, runner
from media.binaries import find
from media.errors import BadMedia, Stalled
from media.ladder import Rung
from media.outputs import Mp4Rendition, Poster
from media.probe import Limits, probe
from media.runner import RunLimits, run
from tests.unit.media.conftest import FAST

# a source made while running: the stall and time tests use it, so ffmpeg never runs away
LIVE = "testsrc2=size=64x64:rate=10:duration=15"


class Cancelled(Exception):
    pass


@pytest.fixture
def started(monkeypatch) -> list[subprocess.Popen]:
    """The processes runner.run starts, to look at them afterwards."""
    processes: list[subprocess.Popen] = []

    class Recording(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            processes.append(self)

    monkeypatch.setattr(runner.subprocess, "Popen", Recording)
    return processes


def ffmpeg_args(*middle: str | Path, stats: float = 0.1) -> list[str]:
    return [find("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-nostats",
            "-progress", "pipe:1", "-stats_period", str(stats), *map(str, middle), "-f", "null", "-"]


def live_args() -> list[str]:
    """ffmpeg making a picture in real time: progress every 0.1 s for 15 s."""
    return ffmpeg_args("-re", "-f", "lavfi", "-i", LIVE)


def assert_gone(process: subprocess.Popen) -> None:
    """The child has exited and been reaped: no process with its id is left."""
    assert process.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)


def nothing() -> None:
    pass


def test_reports_growing_fractions_ending_near_one(source):
    """Reading at twice real speed, a 2 s clip reports several growing fractions, the last near 1.0."""
    fractions: list[float] = []
    run(ffmpeg_args("-readrate", "2", "-i", f"file:{source}"), 2.0, fractions.append, nothing, RunLimits(timeout=60))
    assert len(fractions) >= 3, fractions
    assert all(b > a for a, b in zip(fractions, fractions[1:], strict=False)), fractions
    assert all(0.0 <= f <= 1.0 for f in fractions), fractions
    assert fractions[-1] == pytest.approx(1.0, abs=0.05), fractions


def test_progress_ends_near_one_with_a_poster(source, tmp_path):
    """A conversion that also makes a poster still reports its end as (nearly) all done."""
    info = probe(source, Limits())
    outputs = [Mp4Rendition(Rung(160, 90), tmp_path / "90p.mp4", FAST),
               Poster.of(info, Rung(96, 54), tmp_path / "poster.jpg", 5.0)]
    fractions: list[float] = []
    run(command.build(source, info, outputs), info.duration, fractions.append, nothing, RunLimits(timeout=60))
    assert (tmp_path / "poster.jpg").stat().st_size > 0
    assert fractions and fractions[-1] >= 0.99, fractions


def test_check_raising_stops_ffmpeg(started):
    """When `check` raises (a cancel), ffmpeg is stopped and the exception reaches the caller."""
    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) >= 3:
            raise Cancelled

    with pytest.raises(Cancelled):
        run(live_args(), 15, lambda fraction: None, check, RunLimits(timeout=60))
    (process,) = started
    assert_gone(process)


def test_progress_callback_raising_stops_ffmpeg(started):
    """An error in the progress callback stops ffmpeg too."""

    def on_progress(fraction: float) -> None:
        raise Cancelled

    with pytest.raises(Cancelled):
        run(live_args(), 15, on_progress, nothing, RunLimits(timeout=60))
    assert_gone(started[0])


def test_stall_raises_stalled(started, tmp_path):
    """ffmpeg waiting on a FIFO nobody writes makes no progress: Stalled, and ffmpeg is gone."""
    fifo = tmp_path / "never"
    os.mkfifo(fifo)
    with pytest.raises(Stalled, match=r"^ffmpeg made no progress for 1 s$"):
        run(ffmpeg_args("-i", f"file:{fifo}"), 2.0, lambda fraction: None, nothing,
            RunLimits(timeout=60, stall_seconds=1))
    assert_gone(started[0])


def test_timeout_raises_stalled(started):
    """A run that keeps progressing but outlasts its time limit is stopped with Stalled."""
    fractions: list[float] = []
    with pytest.raises(Stalled, match=r"^the conversion took longer than its limit of 2 s$"):
        run(live_args(), 15, fractions.append, nothing, RunLimits(timeout=2, stall_seconds=60))
    assert fractions  # it was making progress: the time limit stopped it, not a stall
    assert_gone(started[0])


def test_failure_reports_ffmpegs_last_error_line(tmp_path):
    """ffmpeg failing on a missing input gives BadMedia with ffmpeg's own last line."""
    args = ffmpeg_args("-i", f"file:{tmp_path / 'missing.mp4'}")
    last = subprocess.run(args, capture_output=True, text=True).stderr.strip().splitlines()[-1]
    with pytest.raises(BadMedia) as failed:
        run(args, 2.0, lambda fraction: None, nothing, RunLimits(timeout=60))
    message = str(failed.value)
    assert message.startswith("The video could not be converted; the file may be damaged (")
    assert f"({last})" in message


def test_failure_detail_is_truncated():
    """A very long last error line is cut to 200 characters; the lines before it aren't shown."""
    script = "import sys; print('first line', file=sys.stderr); print('E' * 1000, file=sys.stderr); sys.exit(3)"
    with pytest.raises(BadMedia) as failed:
        run([sys.executable, "-c", script], 1.0, lambda fraction: None, nothing, RunLimits(timeout=60))
    message = str(failed.value)
    assert "E" * 200 in message and "E" * 201 not in message
    assert "first line" not in message


def test_killed_by_a_signal_is_stalled():
    """A child killed by a signal (the OOM killer, a shutdown) may succeed another time: Stalled."""
    script = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    with pytest.raises(Stalled, match="stopped by a signal"):
        run([sys.executable, "-c", script], 1.0, lambda fraction: None, nothing, RunLimits(timeout=60))


def test_memory_cap_is_applied(source, tmp_path):
    """A 50 MB address-space cap leaves ffmpeg unable to convert; with the default cap the same command works."""
    info = probe(source, Limits())
    args = command.build(source, info, [Mp4Rendition(Rung(160, 90), tmp_path / "90p.mp4", FAST)])
    with pytest.raises((BadMedia, Stalled)):
        run(args, info.duration, lambda fraction: None, nothing, RunLimits(timeout=60, memory_mb=50))
    run(args, info.duration, lambda fraction: None, nothing, RunLimits(timeout=60))
    assert (tmp_path / "90p.mp4").stat().st_size > 0
