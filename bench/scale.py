"""Scale: 8 short clips uploaded at once, converted by 1, 2 and 4 worker processes: videos per minute.

The clock runs from the first upload to the moment the last video is committed `ready`. The baseline
is ffmpeg alone converting the same clip (same renditions and poster), run once beside each batch:
60 / its median time is what back-to-back conversions would reach if Conveyor cost nothing.
On 2 cores, more workers than cores only share them.
"""

from __future__ import annotations

import time

from bench import pipeline
from bench.common import Figure, clip, log, main, median, scratch
from bench.harness import Running

VIDEOS = 8
WORKERS = (1, 2, 4)
FINAL = {"ready", "failed", "rejected", "cancelled"}


def settings(quick: bool) -> dict:
    return {"seconds": 4 if quick else 8, "repeats": 1 if quick else 2}


def batch(stack: Running, source, count: int) -> float:
    """Seconds from the first upload until the last video of the batch is committed `ready`.

    Progress is read from the database file, not the API, so that watching costs the 2 cores nothing.
    """
    started = time.time()
    ids = [stack.upload(source, title=f"scale {i}")["id"] for i in range(count)]
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        states = stack.states(ids)
        if all(s in FINAL for s in states.values()):
            if set(states.values()) != {"ready"}:
                raise RuntimeError(f"some videos did not convert: {states}")
            return max(stack.times(i)["finished"] for i in ids) - started
        time.sleep(0.25)
    raise RuntimeError("the batch did not finish in 900 s")


def run(quick: bool) -> list[Figure]:
    cfg = settings(quick)
    source = clip(cfg["seconds"], 1280, 720, 30)
    alone: list[float] = []
    rates: dict[int, list[float]] = {n: [] for n in WORKERS}
    with Running(workers=1) as stack:
        for attempt in range(cfg["repeats"]):
            for workers in WORKERS:
                stack.scale(workers)
                # the baseline beside each batch, so that both see the machine's load of the moment
                alone.append(pipeline.ffmpeg_alone(source, scratch() / "scale-baseline", heights=(360, 720)))
                seconds = batch(stack, source, VIDEOS)
                rates[workers].append(VIDEOS / seconds * 60)
                log(f"run {attempt + 1}: {workers} worker(s): {VIDEOS} videos in {seconds:.1f} s")
    log(f"ffmpeg alone, one clip: {', '.join(f'{t:.2f} s' for t in alone)}")
    floor = 60 / median(alone)
    return [
        Figure("scale", f"{n} worker{'s' if n > 1 else ''}: {VIDEOS} x {cfg['seconds']} s 720p30 clips",
               median(rates[n]), "videos/min", floor, "ffmpeg alone, back to back", samples=rates[n])
        for n in WORKERS
    ]


if __name__ == "__main__":
    main(run)
