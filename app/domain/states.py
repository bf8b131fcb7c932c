"""The video lifecycle, declared once: queued -> processing -> ready | failed | rejected; cancelled;
failed -> queued (converted again) and rejected -> queued (released after review).

`app.domain.videos.move` is the only writer of a video's state, and it allows only these moves.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({State.READY, State.FAILED, State.REJECTED, State.CANCELLED})
CANCELLABLE_STATES = frozenset({State.QUEUED, State.PROCESSING})

TRANSITIONS: dict[State, frozenset[State]] = {
    # failed from queued: its job broke before it could start, with no attempt left
    State.QUEUED: frozenset({State.PROCESSING, State.CANCELLED, State.FAILED}),
    # back to queued: handed back on a restart, or its worker died; processing again: a new attempt
    State.PROCESSING: frozenset(
        {State.QUEUED, State.PROCESSING, State.READY, State.FAILED, State.REJECTED, State.CANCELLED}
    ),
    # processing: an operator retried its failed job from /rq; queued: the uploader converts it again
    # (only when the failure was not the file's: app/domain/videos.py `retry`)
    State.FAILED: frozenset({State.PROCESSING, State.QUEUED}),
    State.REJECTED: frozenset({State.QUEUED}),  # an admin released it after review
    State.READY: frozenset(),
    State.CANCELLED: frozenset(),
}


def allowed(source: State, target: State) -> bool:
    return target in TRANSITIONS[source]
