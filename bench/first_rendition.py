"""Time to the first watchable rendition against time to `ready`, for the pipeline's clip.

"Watchable" is the first `<height>p.mp4` whole in storage (writes are atomic, so a file that is
there is complete). The floor is ffmpeg making the smallest rendition alone from the same file:
what a pipeline that published the small rendition first could approach.
"""

from __future__ import annotations

from bench import pipeline
from bench.common import Figure, clip, log, main, median, scratch


def run(quick: bool) -> list[Figure]:
    found = pipeline.samples(quick)  # measured once when `python -m bench` runs both
    seconds = int(found["seconds"][0])
    source = clip(seconds, 1920, 1080, 30)
    smallest = min(pipeline.HEIGHTS)
    floor = [
        pipeline.ffmpeg_alone(source, scratch() / "floor", heights=(smallest,), poster=False)
        for _ in range(pipeline.settings(quick)["repeats"])
    ]
    log("ffmpeg making 360p alone: " + ", ".join(f"{t:.2f} s" for t in floor))
    first, ready = median(found["first_rendition"]), median(found["ready"])
    return [
        Figure("first watchable", f"upload to first rendition in storage, {seconds} s clip", first, "s",
               ready, "upload to ready", samples=found["first_rendition"],
               note="every rendition is published after the one ffmpeg run ends"),
        Figure("first watchable", f"ffmpeg making {smallest}p alone (the floor)", median(floor), "s",
               median(found["ffmpeg_alone"]), "ffmpeg, all renditions", samples=floor),
    ]


if __name__ == "__main__":
    main(run)
