"""The chunk command alone, outside the stack: the product's own (app.domain.encoding.Outputs.plan_chunk
and media.command.build, as a chunk job builds it: every rung, the storyboard's thumbnails, the
poster, no audio), on a short clip, each run on one core (`taskset -c <core>`, at the niceness and
memory cap the worker gives ffmpeg). CPU from os.wait4; bytes of the segments.

- `ratio`: at 1920x1080 with RENDITIONS 360,720,1080 against 1280x720 with 360,720, the same
  content: what a chunk of a 1080p video costs against this benchmark's, for the extrapolation;
- `side_by_side`: the 720p command alone on core 0, then two at once on cores 0 and 1: how much
  slower a run is when both of this machine's cores are busy (the ceiling of a 2-worker speedup
  here, whatever the service does).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import replace

from app.config import from_environment
from app.domain.encoding import EngineSettings, Outputs
from bench.chunking.clip import source
from bench.common import median, scratch
from media import chunks, command, probe
from media.sandbox import limits

SIZES = {720: (1280, 720, [360, 720]), 1080: (1920, 1080, [360, 720, 1080])}


def chunk_command(height: int, seconds: float, name: str) -> tuple[list[str], dict]:
    """The chunk job's ffmpeg command for a clip of `seconds` at `height`, as one chunk; its folder."""
    width, _, heights = SIZES[height]
    clip = source(seconds, width, height)
    settings = EngineSettings.of(from_environment(str(scratch())))
    settings = replace(settings, heights=heights, encode=replace(settings.encode, preset="veryfast"))
    work = scratch() / f"ladder-{name}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    info = probe.probe(clip, settings.limits)
    chunk = chunks.plan(info.duration, 2 * info.duration + 8)[0]  # one chunk, the whole clip
    made = Outputs.plan_chunk(info, work, settings, False, chunk)
    return command.build(clip, info, made.all, chunk.span), {
        "work": work, "source": clip.stat().st_size, "memory_mb": settings.limits.memory_mb}


def _start(args: list[str], core: int, memory_mb: int) -> tuple[subprocess.Popen, float]:
    process = subprocess.Popen(["taskset", "-c", str(core), *args], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, preexec_fn=limits(memory_mb), start_new_session=True)
    return process, time.monotonic()


def _wait(process: subprocess.Popen, started: float) -> dict[str, float]:
    _, status, usage = os.wait4(process.pid, 0)  # not Popen.wait: that would lose the child's usage
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the chunk command exited with {os.waitstatus_to_exitcode(status)}")
    return {"wall": time.monotonic() - started, "cpu": usage.ru_utime + usage.ru_stime}


def chunk_run(height: int, seconds: float) -> dict[str, float]:
    args, made = chunk_command(height, seconds, f"{height}p")
    done = _wait(*_start(args, 0, made["memory_mb"]))
    stream = made["work"] / "stream"
    done["bytes"] = sum(f.stat().st_size for f in stream.rglob("*") if f.suffix in (".m4s", ".mp4"))
    done["source"] = made["source"]
    return done


def ratio(seconds: float, rounds: int) -> dict[str, float]:
    """1080p over 720p: a chunk's CPU, wall and bytes (median over alternating rounds)."""
    found: dict[int, list[dict]] = {720: [], 1080: []}
    for number in range(rounds):
        for height in (720, 1080) if number % 2 == 0 else (1080, 720):
            found[height].append(chunk_run(height, seconds))
    result = {"source_1080": found[1080][0]["source"], "seconds": seconds}
    for key in ("wall", "cpu", "bytes"):
        result[f"{key}_720"] = median([r[key] for r in found[720]])
        result[f"{key}_1080"] = median([r[key] for r in found[1080]])
        result[key] = median([b[key] / a[key] for a, b in zip(found[720], found[1080], strict=True)])
    return result


def side_by_side(seconds: float, rounds: int) -> dict[str, float]:
    """Wall and CPU of the 720p chunk command alone on core 0, and of each of two run at once on cores
    0 and 1 (medians; the pair's ratios to the run alone before it)."""
    alone, pair = [], []
    for _ in range(rounds):
        args, made = chunk_command(720, seconds, "alone")
        alone.append(_wait(*_start(args, 0, made["memory_mb"])))
        both = [chunk_command(720, seconds, f"pair-{core}") for core in (0, 1)]
        running = [_start(args, core, made["memory_mb"]) for core, (args, made) in enumerate(both)]
        pair.append([_wait(*r) for r in running])
    return {
        "alone": median([a["wall"] for a in alone]),
        "pair": median([max(p["wall"] for p in two) for two in pair]),
        "wall": median([max(p["wall"] for p in two) / a["wall"] for a, two in zip(alone, pair, strict=True)]),
        "cpu": median([sum(p["cpu"] for p in two) / 2 / a["cpu"] for a, two in zip(alone, pair, strict=True)]),
    }
