"""`python -m bench [--quick] [--only NAME,...]`: every benchmark, then a table of the figures.

Each benchmark module has `run(quick) -> list[Figure]` and runs alone too: `python -m bench.pipeline`.
A module that fails is reported and the others still run.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import subprocess
import sys
import time
import traceback

from bench.common import Figure, machine, print_machine, quick_from, report, table

MODULES = ("pipeline", "dispatch", "polling", "upload", "events", "scale", "hotspots")
OPTIONAL = ("notify_latency", "content_check", "restructure", "streaming", "chunking")  # run with `--only NAME`


def run_module(name: str, quick: bool) -> list[Figure]:
    module = importlib.import_module(f"bench.{name}")
    figures = module.run(quick)
    if not all(isinstance(f, Figure) for f in figures):
        raise TypeError(f"bench.{name}.run must return Figures")
    return figures


def run_external(name: str, quick: bool) -> list[Figure]:
    """A module without `run(quick)`: run it as a program and pass its output through."""
    args = [sys.executable, "-m", f"bench.{name}"] + (["--quick"] if quick else [])
    done = subprocess.run(args, timeout=900, env={**os.environ, "BENCH_QUICK": "1" if quick else ""})
    if done.returncode != 0:
        raise RuntimeError(f"bench.{name} exited with {done.returncode}")
    return [Figure(name, "see its output above", None, "", note="printed by the module itself")]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="shorter clips and fewer repeats (or BENCH_QUICK=1)")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    args = parser.parse_args()
    quick = quick_from(["--quick"] if args.quick else [])
    wanted = [n for n in args.only.split(",") if n] or [*MODULES, *OPTIONAL]
    info = machine()
    print_machine(info)
    print(f"mode: {'quick' if quick else 'full'}", flush=True)
    started = time.monotonic()
    figures: list[Figure] = []
    for name in wanted:
        if name in OPTIONAL and importlib.util.find_spec(f"bench.{name}") is None:
            continue
        print(f"\n== {name}", flush=True)
        began = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            found = run_module(name, quick) if hasattr(module, "run") else run_external(name, quick)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            found = [Figure(name, "failed", None, "", note=f"{type(exc).__name__}: {str(exc)[:200]}")]
        report(found)
        figures += found
        print(f"   ({time.monotonic() - began:.0f} s)", flush=True)
    print(f"\nall benchmarks took {time.monotonic() - started:.0f} s; load average now {os.getloadavg()[0]:.2f}")
    mode = "quick" if quick else "full"
    print("\nMachine: " + ", ".join(f"{k} {v}" for k, v in info.items()) + f"; mode {mode}")
    print("\n" + table(figures), flush=True)


if __name__ == "__main__":
    main()
