"""The video lifecycle: queued -> processing -> ready | failed | rejected; cancelled."""

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
