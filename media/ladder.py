"""The rendition ladder: one rung per height asked for, never above the source, never none."""

from __future__ import annotations

from dataclasses import dataclass

from media.probe import MediaInfo


@dataclass(frozen=True)
class Rung:
    width: int
    height: int

    @property
    def name(self) -> str:
        return f"{self.height}p"


def even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def plan(info: MediaInfo, heights: list[int]) -> list[Rung]:
    """Rungs for the heights not above the source's, smallest first, aspect kept, even sizes.

    A source smaller than the smallest height gets one rung at its own size: never upscaled.
    """
    fitting = [h for h in sorted(heights) if h <= info.height]
    if not fitting:
        fitting = [min(even(info.height), min(heights))]
    return [Rung(even(info.width * h / info.height), h) for h in fitting]
