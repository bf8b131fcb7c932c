"""The platform is stopping this process: the job in flight goes back to the queue.

`request` runs inside a signal handler, and the signal often comes twice (the platform signals
every process, and the worker passes it on to its job): it must take no lock, so a plain flag.
"""

from __future__ import annotations

_requested = False


def request() -> None:
    global _requested
    _requested = True


def requested() -> bool:
    return _requested


class HandOff(Exception):
    """Raised in a job when the worker is shutting down: the job goes back to its queue."""
