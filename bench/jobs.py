"""Trivial job functions for the dispatch benchmark; worker.py imports them by name."""

from __future__ import annotations

import time

from rq import get_current_job


def mark_start(key: str) -> None:
    """Record, in Redis, the moment the job began to run."""
    get_current_job().connection.rpush(key, repr(time.time()))


def empty() -> None:
    """Nothing at all: what remains is RQ's own cost."""
