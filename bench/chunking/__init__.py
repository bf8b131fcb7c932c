"""Chunked conversion: one long video spread over single-core workers, against one worker and
against the unchunked conversion, measured on the service (tests/stack.py, bench.harness.Running).

The clip (clip.py): 240 s (120 s with --quick) of 1280x720 at 30 fps, testsrc2 with light grain and
a sine, 3.8 Mbit/s; RENDITIONS=360,720, X264_PRESET=veryfast. Chunked with CHUNK_SECONDS=60 and the
default CHUNK_THRESHOLD_SECONDS=120 (--quick: 30 and 60): 4 chunks, the audio, a finish.

Each round runs three conversions of the same clip, in an order reversed every other round:
- `two`: 2 workers, each pinned to a core of its own (stack.py: `taskset -c <core> worker.py`);
- `one`: 1 pinned worker, chunked;
- `whole`: 1 pinned worker, CHUNK_THRESHOLD_SECONDS=0: the unchunked conversion, the baseline.
First, the Redis commands of 1 and of 2 idle workers are counted for 20 s (10 s with --quick), a
whole number of their 10 s maintenance passes: a rate taken off each conversion's count. After each
round, the segments' bytes by rung; after the first, the PSNR of the 720p downloads of `one` and
`whole` against the source (outputs.py). Then the product's chunk command alone (ladder.py): at 1080p
against 720p on one core, for the extrapolation in figures.py; and two of them side by side on the
two cores against one alone: what this machine allows a second worker, whatever the service does.

`python -m bench.chunking [--quick] [--commit COMMIT]`: with --commit the stack runs that commit's
tree (`git archive`, as bench/restructure.py does), e.g. HEAD while the working tree is mid-change.
"""

from __future__ import annotations

import time

from bench.chunking import figures, ladder, outputs
from bench.chunking.clip import source
from bench.chunking.stack import convert, idle_rate, renditions, use_workers
from bench.common import Figure, log
from bench.harness import Running

CONFIGS = {  # name: (workers, settings of the workers over the stack's)
    "two": (2, {}),
    "one": (1, {}),
    "whole": (1, {"CHUNK_THRESHOLD_SECONDS": "0"}),
}
WIDTH, HEIGHT = 1280, 720
SETTLE = 3.0  # seconds after the workers start before anything is counted


def settings(quick: bool) -> dict:
    if quick:
        return {"seconds": 120, "threshold": 60, "chunk": 30, "rounds": 1, "idle": 10, "ladder": (8, 1)}
    return {"seconds": 240, "threshold": 120, "chunk": 60, "rounds": 2, "idle": 20, "ladder": (12, 2)}


def idle_rates(run: Running, seconds: float) -> dict[int, float]:
    """Redis commands a second of 1 and of 2 idle workers, a few seconds after they start."""
    rates = {}
    for count in sorted({count for count, _ in CONFIGS.values()}):
        use_workers(run, count)
        time.sleep(SETTLE)
        rates[count] = idle_rate(run, seconds)
    log("Redis commands a second, idle: " + ", ".join(f"{c} worker(s) {r:.1f}" for c, r in rates.items()))
    return rates


def one_round(number: int, run: Running, clip, idle: dict[int, float], found: dict[str, list]) -> None:
    names = list(CONFIGS) if number % 2 == 0 else list(reversed(CONFIGS))
    for name in names:
        count, env = CONFIGS[name]
        use_workers(run, count, **env)
        time.sleep(SETTLE)  # past the new workers' first maintenance pass, as when the idle rate was taken
        sample = convert(run, clip, idle[count])
        sample["idle"] = idle[count]
        found[name].append(sample)
        log(f"round {number + 1}, {name}: upload end to playable {figures.seconds(sample['playable'])}, "
            f"to ready {sample['ready']:.1f} s; CPU {sample['cpu']:.1f} s (the rest of the machine "
            f"{sample['others']:.2f} cores); {sample['chunks']} chunks; "
            f"Redis commands {sample['commands_raw']} ({sample['commands']:.0f} less {idle[count]:.1f}/s idle; "
            + ", ".join(f"{k} {v}" for k, v in sample["top"]) + ")")
    run.scale(0)
    for name in CONFIGS:
        found[name][-1]["bytes"] = outputs.rung_bytes(run, found[name][-1]["video"])
    if number == 0:
        downloads = [renditions(run, found[name][-1]["video"])[HEIGHT] for name in ("one", "whole")]
        found["psnr"] = outputs.psnr([(path, clip) for path in downloads], WIDTH, HEIGHT)
        log(f"PSNR of the 720p download against the source: chunked {found['psnr'][0]['all']:.3f} dB, "
            f"unchunked {found['psnr'][1]['all']:.3f} dB")


def run(quick: bool, commit: str | None = None) -> list[Figure]:
    cfg = settings(quick)
    clip = source(cfg["seconds"], WIDTH, HEIGHT)
    root = None
    if commit:
        from bench.restructure import baseline_tree

        root = baseline_tree(commit)
        log(f"the stack runs {commit}'s tree, {root}")
    found: dict[str, list] = {name: [] for name in CONFIGS}
    with Running(workers=0, root=root, RENDITIONS="360,720", X264_PRESET="veryfast",
                 CHUNK_THRESHOLD_SECONDS=str(cfg["threshold"]), CHUNK_SECONDS=str(cfg["chunk"])) as stack:
        idle = idle_rates(stack, cfg["idle"])
        for number in range(cfg["rounds"]):
            one_round(number, stack, clip, idle, found)
    seconds, rounds = cfg["ladder"]
    cost = ladder.ratio(seconds, rounds)
    log(f"the chunk command on one core, {seconds} s: 1080p {cost['cpu_1080']:.1f} s CPU against 720p "
        f"{cost['cpu_720']:.1f} s (x{cost['cpu']:.2f}); bytes x{cost['bytes']:.2f}")
    cost["side_by_side"] = ladder.side_by_side(seconds, rounds)
    log(f"the 720p chunk command alone {cost['side_by_side']['alone']:.2f} s, two side by side "
        f"{cost['side_by_side']['pair']:.2f} s (x{cost['side_by_side']['wall']:.3f})")
    return figures.figures(found, cost, cfg, clip.stat().st_size)
