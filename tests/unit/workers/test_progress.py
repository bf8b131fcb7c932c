"""Progress of the running job: it only grows, and is written a few times a second at most."""

from __future__ import annotations

from app.workers.progress import Progress


def test_progress_only_grows_and_is_throttled():
    now = [0.0]
    writes: list[float] = []
    progress = Progress(writes.append, interval=0.25, clock=lambda: now[0])
    progress.update(0.1)
    progress.update(0.05)  # lower: ignored
    progress.update(0.2)  # too soon: kept, not written
    now[0] = 0.3
    progress.update(0.3)
    assert writes == [0.1, 0.3] and progress.fraction == 0.3
