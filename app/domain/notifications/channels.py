"""The one small interface every notification channel has; the channels are registered in
`app.domain.notifications.CHANNELS`, in one place."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum

from app.domain.models import Delivery, Video
from app.domain.states import State

RETRY = "retry"  # an attempt's outcome that is not final
ERROR_CHARS = 200


class Status(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # a final no from the receiver, or no attempt left
    REFUSED = "refused"  # Conveyor does not send there: no connection was made


@dataclass(frozen=True)
class Outcome:
    status: str  # a delivery Status value, or RETRY
    code: int | None = None
    error: str | None = None


class Channel(ABC):
    kind: str

    @abstractmethod
    def target(self, video: Video, state: State) -> str | None:
        """Where this channel tells of the video reaching `state`, if anywhere."""

    @abstractmethod
    def send(self, delivery: Delivery) -> Outcome:
        """One attempt; network trouble is an Outcome (RETRY), never an exception."""


class UnknownChannel(Exception):
    """A delivery of a kind no channel sends (a row from a newer or older Conveyor)."""


def short(text: str, limit: int = ERROR_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def network_error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc) or type(exc).__name__
    return short(f"{type(exc).__name__}: {text}")
