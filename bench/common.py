"""What every benchmark shares: options, the machine, statistics, figures and their printing."""

from __future__ import annotations

import argparse
import atexit
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from media.binaries import find
from tests.media import make_clip


@dataclass
class Figure:
    """One measured figure, with the baseline it is compared to when there is one."""

    bench: str
    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    goal: str = ""
    met: bool | None = None
    note: str = ""
    samples: list[float] = field(default_factory=list, repr=False)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline


def quick_from(argv: list[str] | None = None) -> bool:
    """`--quick` or `BENCH_QUICK=1`: shorter clips and fewer repeats."""
    parser = argparse.ArgumentParser(add_help=True)
    parser.add_argument("--quick", action="store_true", help="shorter clips and fewer repeats")
    args, _ = parser.parse_known_args(argv)
    return args.quick or os.environ.get("BENCH_QUICK", "") not in ("", "0")


# -- statistics ---------------------------------------------------------------------------------


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least p % of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil without floats
    return ordered[int(rank) - 1]


# -- the machine --------------------------------------------------------------------------------


def _first_line(args: list[str]) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=10)
        return (done.stdout or done.stderr).splitlines()[0].strip()
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def machine() -> dict[str, str]:
    ffmpeg = _first_line([find("ffmpeg"), "-version"])
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": f"{_memory_gib():.1f} GiB",
        "ffmpeg": ffmpeg.removeprefix("ffmpeg version ").split(" Copyright")[0],
        "redis": _first_line([find("redis-server"), "--version"]).split(" sha=")[0],
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def print_machine(info: dict[str, str]) -> None:
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)


# -- figures ------------------------------------------------------------------------------------


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if unit in ("streams", "videos") or (unit == "" and float(value).is_integer()):
        text = f"{value:.0f}"
    elif unit in ("s", "ms", "MiB", "MB/s", "%"):
        text = f"{value:.3f}" if abs(value) < 10 and unit in ("s", "ms") else f"{value:.1f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def describe(figure: Figure) -> str:
    parts = [f"{figure.bench:<14} {figure.name:<44} {fmt(figure.value, figure.unit):>14}"]
    if figure.baseline is not None:
        parts.append(f"| {figure.baseline_name} {fmt(figure.baseline, figure.unit)}")
    if figure.ratio is not None:
        parts.append(f"| ratio {figure.ratio:.3f}")
    if figure.goal:
        verdict = {True: "met", False: "missed", None: "n/a"}[figure.met]
        parts.append(f"| goal {figure.goal}: {verdict}")
    if figure.note:
        parts.append(f"| {figure.note}")
    return " ".join(parts)


def report(figures: list[Figure]) -> list[Figure]:
    for figure in figures:
        print(describe(figure), flush=True)
    return figures


def table(figures: list[Figure]) -> str:
    """The figures as a Markdown table, for bench/README.md."""
    rows = [
        "| benchmark | figure | value | baseline | ratio | goal |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        baseline = f"{f.baseline_name} {fmt(f.baseline, f.unit)}" if f.baseline is not None else ""
        ratio = f"{f.ratio:.3f}" if f.ratio is not None else ""
        goal = f"{f.goal}: {'met' if f.met else 'missed'}" if f.goal and f.met is not None else f.goal
        value = fmt(f.value, f.unit) + (f" ({f.note})" if f.note else "")
        rows.append(f"| {f.bench} | {f.name} | {value} | {baseline} | {ratio} | {goal} |")
    return "\n".join(rows)


def main(run) -> None:
    """Run one benchmark module alone: `python -m bench.<name> [--quick]`."""
    quick = quick_from()
    print_machine(machine())
    print(f"mode: {'quick' if quick else 'full'}", flush=True)
    started = time.monotonic()
    report(run(quick))
    print(f"took {time.monotonic() - started:.0f} s", flush=True)


# -- scratch space and clips --------------------------------------------------------------------

_scratch: Path | None = None


def scratch() -> Path:
    """One temporary folder per process, removed at exit; on the same disk as the stack's storage."""
    global _scratch
    if _scratch is None:
        _scratch = Path(tempfile.mkdtemp(prefix="conveyor-bench-"))
        atexit.register(shutil.rmtree, _scratch, True)
    return _scratch


_clips: dict[tuple, Path] = {}


def clip(seconds: float, width: int, height: int, rate: int = 30) -> Path:
    """A generated H.264 + AAC MP4 clip, made once per process."""
    key = (seconds, width, height, rate)
    if key not in _clips:
        folder = scratch() / "clips"
        folder.mkdir(exist_ok=True)
        path = folder / f"clip-{width}x{height}-{rate}fps-{seconds:g}s.mp4"
        started = time.monotonic()
        _clips[key] = make_clip(path, seconds=seconds, width=width, height=height, rate=rate)
        print(f"  made {path.name} ({path.stat().st_size / 2**20:.1f} MiB) in {time.monotonic() - started:.1f} s",
              flush=True)
    return _clips[key]


def log(message: str) -> None:
    print(f"  {message}", file=sys.stdout, flush=True)
