"""The worker process: `python worker.py [--processes N]` runs RQ workers on Conveyor's queues."""

from __future__ import annotations

import argparse
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description="Conveyor's RQ workers.")
    parser.add_argument(
        "--processes", type=int, default=int(os.environ.get("WORKER_PROCESSES", "1")),
        help="worker processes in this dyno; any that die are replaced (default: $WORKER_PROCESSES or 1)",
    )
    parser.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)  # set by the supervisor
    args = parser.parse_args()
    if args.processes < 1:
        parser.error("--processes must be at least 1")

    from app import create_app
    from app.workers.runtime import run_one, supervise

    if args.processes == 1:
        run_one(create_app(), args.index)
        return 0
    return supervise(args.processes, [os.path.abspath(__file__), "--processes", "1"])


if __name__ == "__main__":
    sys.exit(main())
