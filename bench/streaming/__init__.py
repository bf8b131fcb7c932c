"""Adaptive streaming (issue 13): how soon a video can be watched, what the HLS pipeline costs against
ffmpeg making the same ladder, what packaging and the storyboard cost, and what the ladder weighs.

The clip (clip.py): 30 s (10 s with --quick) of 1080p30 with new grain every frame, hard content.

Each round runs, in an order reversed every other round so that neither side always goes first:
- `ladder`, `null`, `mp4`, `storyboard`, `floor` (engine.py): hand-written ffmpeg commands making the
  HLS ladder the pipeline makes, the same encodes sent to the null muxer, today's MP4 ladder, the
  storyboard branch AMPLIFY times against the decode alone, and 360p alone;
- `stack` (stack.py): the clip through the service (tests/stack.py: redis, gunicorn, one worker.py),
  from the upload to `playable` and to `ready`.
After `ladder`, the work the pipeline adds to the encode is done on its output and its CPU taken
(packaging.py). The first round also makes the ladder with the forced GOPs and no cap, to tell what
each change costs in bytes (sizes.py). figures.py turns the samples into figures.

`python -m bench.streaming [--quick] [--commit COMMIT]`: with --commit the stack runs that commit's
tree (`git archive`, as bench/restructure.py does), e.g. HEAD while the working tree is mid-change.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.common import Figure, log, scratch
from bench.harness import Running
from bench.streaming import figures
from bench.streaming.clip import noisy_clip
from bench.streaming.engine import AMPLIFY, floor_args, ladder_args, storyboard_args, storyboard_layout, timed
from bench.streaming.figures import as_seconds
from bench.streaming.packaging import after_encode, check_settings
from bench.streaming.sizes import ladder_bytes
from bench.streaming.stack import through_stack


def settings(quick: bool) -> dict:
    return {"seconds": 10 if quick else 30, "rounds": 1 if quick else 3}


def one_round(number: int, run: Running, source: Path, seconds: float, found: dict[str, list]) -> None:
    out = scratch() / "streaming"
    layout = storyboard_layout(seconds)

    def fresh(name: str) -> Path:
        folder = out / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder

    def ladder() -> None:
        folder = fresh("hls")
        done = timed(ladder_args(source, folder, "hls"), watch=folder)
        found["ladder"].append(done["wall"])
        found["ladder_cpu"].append(done["cpu"])
        found["ladder_first_segments"].append(done["first_segments"])
        for key, value in after_encode(folder, seconds).items():
            found[key].append(value)

    def null() -> None:
        done = timed(ladder_args(source, fresh("null"), "null"))
        found["null"].append(done["wall"])
        found["null_cpu"].append(done["cpu"])

    def mp4() -> None:
        done = timed(ladder_args(source, fresh("mp4"), "mp4"))
        found["mp4"].append(done["wall"])
        found["mp4_cpu"].append(done["cpu"])

    def storyboard() -> None:
        folder = fresh("storyboard")
        alone = timed(storyboard_args(source, folder, layout, 0))["cpu"]
        many = timed(storyboard_args(source, folder, layout, AMPLIFY))["cpu"]
        found["storyboard_branch"].append((many - alone) / AMPLIFY)
        found["decode_cpu"].append(alone)

    def floor() -> None:
        found["floor"].append(timed(floor_args(source, fresh("floor")))["wall"])

    def stack() -> None:
        sample = through_stack(run, source)
        for key in found:
            if key in sample:
                found[key].append(sample[key])

    steps = [ladder, null, mp4, storyboard, floor, stack]
    for step in steps if number % 2 == 0 else reversed(steps):
        step()
    if number == 0:  # bytes: the same every round; the forced GOPs without the cap, once
        timed(ladder_args(source, fresh("gop"), "gop"))
        found["bytes"] = ladder_bytes(out / "hls", out / "mp4", out / "gop", seconds)
    log(f"round {number + 1}: ladder {found['ladder'][-1]:.2f} s (CPU {found['ladder_cpu'][-1]:.1f} s), "
        f"null {found['null'][-1]:.2f} s (CPU {found['null_cpu'][-1]:.1f} s), mp4 {found['mp4'][-1]:.2f} s, "
        f"360p alone {found['floor'][-1]:.2f} s; stack: upload to ready {found['upload_to_ready'][-1]:.2f} s, "
        f"upload end to playable {as_seconds(found['playable'][-1])}, to ready {found['ready'][-1]:.2f} s")


def run(quick: bool, commit: str | None = None) -> list[Figure]:
    cfg = settings(quick)
    seconds = cfg["seconds"]
    check_settings()
    source = noisy_clip(seconds)
    root = None
    if commit:
        from bench.restructure import baseline_tree

        root = baseline_tree(commit)
        log(f"the stack runs {commit}'s tree, {root}")
    found: dict[str, list] = {}
    keys = ("ladder", "ladder_cpu", "ladder_first_segments", "null", "null_cpu", "mp4", "mp4_cpu",
            "storyboard_branch", "decode_cpu", "floor", "remux", "playlists", "segmenting", "tile",
            "upload_to_ready", "ready", "playable", "playable_events", "master_in_storage", "reports_playable",
            "streams", "playback_check", "how", "upload", "to_encode", "encode", "encode_cpu", "after_encode",
            "after_encode_cpu", "encode_to_playable", "encode_to_first_segments")
    for key in keys:
        found[key] = []
    with Running(workers=1, root=root) as stack:
        for number in range(cfg["rounds"]):
            one_round(number, stack, source, seconds, found)
    return figures.figures(found, seconds)
