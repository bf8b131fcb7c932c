"""Run one ffmpeg command, reading its progress, and stop it when asked, stalled, late or too big."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from media.errors import BadMedia, Stalled
from media.sandbox import limits, oversized_picture

POLL_SECONDS = 0.1  # between checks: cancel, shutdown, and what the stream may publish
FFMPEG_INTERRUPTED = 255  # ffmpeg's exit status after SIGTERM or SIGINT


@dataclass(frozen=True)
class RunLimits:
    timeout: float  # seconds for the whole run
    stall_seconds: float = 60  # seconds without progress
    memory_mb: int = 4096  # address-space cap


def run(
    args: list[str],
    duration: float,
    on_progress: Callable[[float], None],
    check: Callable[[], None],
    limits_: RunLimits,
) -> None:
    """Run ffmpeg to the end, reporting the fraction of `duration` done.

    `check` is called a few times a second and raises to stop the run (cancel, shutdown). A picture
    over the decoder's `-max_pixels` stops it at once, with a message saying so (ffmpeg itself would
    skip such pictures and go on).
    """
    timeout, stall_seconds = limits_.timeout, limits_.stall_seconds
    process = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=limits(limits_.memory_mb),
    )
    lines: queue.Queue[bytes | None] = queue.Queue()
    errors: deque[str] = deque(maxlen=20)
    oversized: list[tuple[int, int]] = []
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, lines.put), daemon=True),
        threading.Thread(target=_collect, args=(process.stderr, errors, oversized), daemon=True),
    ]
    for reader in readers:
        reader.start()
    started = last_change = last_check = time.monotonic()
    done_us = 0
    try:
        while True:
            try:
                line = lines.get(timeout=POLL_SECONDS)
            except queue.Empty:
                line = b""
            if line is None:
                break
            now = time.monotonic()
            if line.startswith(b"out_time_us="):
                value = _int(line.split(b"=", 1)[1])
                if value > done_us:
                    done_us, last_change = value, now
                    on_progress(min(1.0, done_us / 1e6 / duration) if duration > 0 else 0.0)
            elif line == b"progress=end" and done_us < duration * 1e6:  # its last report may name a short
                done_us, last_change = int(duration * 1e6), now  # output's time (the poster's): it is all done
                on_progress(1.0)
            if now - last_check >= POLL_SECONDS:  # ffmpeg writes dozens of lines a second; Redis needs no more
                check()
                last_check = now
            if oversized:
                raise BadMedia(picture_too_large(*oversized[0]))
            if now - started > timeout:
                raise Stalled(f"the conversion took longer than its limit of {timeout:g} s")
            if now - last_change > stall_seconds:
                raise Stalled(f"ffmpeg made no progress for {stall_seconds:g} s")
        code = process.wait()
    finally:
        _stop(process)
        for reader in readers:
            reader.join(timeout=5)
        process.stdout.close()
        process.stderr.close()
    if oversized:
        raise BadMedia(picture_too_large(*oversized[0]))
    if code < 0 or code == FFMPEG_INTERRUPTED:
        raise Stalled("ffmpeg was stopped by a signal")
    if code != 0:
        detail = errors[-1] if errors else f"exit status {code}"
        raise BadMedia(f"The video could not be converted; the file may be damaged ({detail[:200]}).")


def _pump(stream, put: Callable[[bytes | None], None]) -> None:
    for line in stream:
        put(line.strip())
    put(None)


def picture_too_large(width: int, height: int) -> str:
    """What the uploader is told when a picture partway through the video is over the size limit."""
    return (
        f"A picture partway through the video is {width}x{height}, over the limit on picture size: the video "
        "changes its picture size after its first pictures. Convert it to one picture size within the limit "
        "and upload it again."
    )


def _collect(stream, into: deque[str], oversized: list[tuple[int, int]]) -> None:
    for line in stream:
        text = line.decode(errors="replace").strip()
        if text:
            into.append(text)
            if not oversized and (size := oversized_picture(text)):
                oversized.append(size)


def _stop(process: subprocess.Popen) -> None:
    """Make sure ffmpeg is gone: ask, then insist."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _int(raw: bytes) -> int:
    try:
        return int(raw)
    except ValueError:
        return 0
