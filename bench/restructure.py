"""Before and after a change of structure: the same stack, run from another commit's tree and from
this one, in alternating rounds of one run, on the same clip; figures are medians and the median of
the paired ratios (this tree / that one).

`python -m bench.restructure [--quick] [--baseline COMMIT]`; the baseline's tree is exported with
`git archive` into the scratch folder and runs with this virtualenv (the same dependencies).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import requests

from bench.common import Figure, clip, log, main, median, scratch
from bench.harness import Running
from bench.pipeline import through_stack
from tests.stack import ROOT

BASELINE = "bace1d5"  # main before the layers (its next commit carried the first moves); it lacks only
# the HTTPS guard and app/unread_body.py, which cost a request without a body nothing
KEYS = {
    "ready": ("upload to ready", "s"),
    "upload": ("upload (POST until 202)", "s"),
    "dispatch": ("enqueue until the job starts", "s"),
    "ffmpeg": ("ffmpeg inside the job, wall", "s"),
    "ffmpeg_cpu": ("ffmpeg inside the job, CPU", "s"),
    "cpu_horse": ("CPU: the work horse (the job's Python)", "s"),
    "cpu_worker": ("CPU: worker.py and its scheduler", "s"),
    "cpu_web": ("CPU: gunicorn (upload, API polls 4/s)", "s"),
    "before_ffmpeg": ("work horse start until ffmpeg starts", "s"),
    "publish": ("ffmpeg exit until `ready` committed", "s"),
    "redis_commands": ("Redis commands in one conversion", ""),
    "show": ("GET /api/videos/<id>, median of 200", "s"),
}


def baseline_tree(commit: str) -> Path:
    """The commit's files, once per run, in the scratch folder."""
    target = scratch() / f"tree-{commit}"
    if not target.exists():
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
        target.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    return target


def show_latency(run: Running, video_id: str, times: int = 200) -> float:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {run.token}"
    found = []
    for _ in range(times):
        started = time.perf_counter()
        session.get(f"{run.url}/api/videos/{video_id}", timeout=10).raise_for_status()
        found.append(time.perf_counter() - started)
    return median(found)


def one_round(root: Path | None, source: Path) -> dict[str, float]:
    with Running(workers=1, root=root) as run:
        through_stack(run, source)  # warm: the first job imports the job modules
        sample = through_stack(run, source)
        video_id = run.stack.video(run.session, run.upload(source)["id"])["id"]
        sample["show"] = show_latency(run, video_id)
    return sample


def run(quick: bool, commit: str = BASELINE) -> list[Figure]:
    rounds = 2 if quick else 4
    source = clip(4 if quick else 8, 1280, 720, 30)
    before_root = baseline_tree(commit)
    before: dict[str, list[float]] = {}
    after: dict[str, list[float]] = {}
    for number in range(rounds):
        order = [(before_root, before), (None, after)]
        for root, into in order if number % 2 == 0 else reversed(order):  # neither side always goes first
            sample = one_round(root, source)
            for key in KEYS:
                into.setdefault(key, []).append(sample.get(key, float("nan")))
        log(f"round {number + 1}/{rounds}: ready {before['ready'][-1]:.2f} s before, {after['ready'][-1]:.2f} s after")
    figures = []
    for key, (label, unit) in KEYS.items():
        ratios = [a / b for a, b in zip(after[key], before[key], strict=True) if b]
        figures.append(
            Figure("restructure", label, median(after[key]), unit, median(before[key]), f"at {commit}",
                   note=f"median of paired ratios {median(ratios):.3f}" if ratios else "", samples=after[key])
        )
    return figures


if __name__ == "__main__":
    if "--baseline" in sys.argv:
        index = sys.argv.index("--baseline")
        os.environ["BENCH_BASELINE"] = sys.argv[index + 1]
        del sys.argv[index : index + 2]
    main(lambda quick: run(quick, os.environ.get("BENCH_BASELINE", BASELINE)))
