"""Progress of the running job: into its RQ meta a few times a second, mirrored to a sink."""

from __future__ import annotations

import time
from collections.abc import Callable

from redis.exceptions import RedisError
from rq import get_current_job


class Progress:
    """Monotonic, throttled progress reporting; harmless outside a worker."""

    def __init__(
        self,
        on_write: Callable[[float], None],
        *,
        interval: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.fraction = 0.0
        self._on_write = on_write
        self._interval = interval
        self._clock = clock
        self._written_at = float("-inf")

    def update(self, fraction: float, *, force: bool = False) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if fraction <= self.fraction and not force:
            return
        self.fraction = max(self.fraction, fraction)
        now = self._clock()
        if force or now - self._written_at >= self._interval:
            self._written_at = now
            self._write()

    def stage(self, start: float, end: float) -> Callable[[float], None]:
        """Map a sub-task's own 0..1 onto [start, end] of the whole."""
        return lambda part: self.update(start + (end - start) * part)

    def _write(self) -> None:
        job = get_current_job()
        if job is not None:
            job.meta["progress"] = round(self.fraction, 4)
            try:
                job.save_meta()
            except RedisError:
                pass  # live progress pauses while Redis is away; the database mirror goes on
        self._on_write(self.fraction)
