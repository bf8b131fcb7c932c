"""One long video cut into chunks that separate ffmpeg runs (on separate workers) encode, whose HLS
segments join into one stream as if one run had made them.

A chunk starts and ends on a segment boundary of the whole video (a multiple of SEGMENT_SECONDS
from its start), so segment numbers, IDR frames (every GOP_SECONDS) and timestamps run straight
across chunk boundaries: a chunk's run seeks to its start (decoding only its part of the source),
forces IDRs on the same 2 s grid, numbers its segments from where the chunk before ends, and shifts
its timestamps to its place in the whole video (`Span`, applied by `command.build` and HlsRung).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from media.hls import SEGMENT_SECONDS
from media.outputs import Span


@dataclass(frozen=True)
class Chunk:
    number: int  # from 0
    count: int  # chunks of the video
    span: Span
    first_segment: int  # the number of its first HLS segment (the video's first is 1)

    @property
    def last(self) -> bool:
        return self.number == self.count - 1

    @property
    def segments(self) -> int:
        """Its segments: the last chunk's last one may be short."""
        return max(1, math.ceil(round(self.span.duration / SEGMENT_SECONDS, 6)))


def plan(duration: float, chunk_seconds: float) -> list[Chunk]:
    """Chunks of about `chunk_seconds` (rounded to whole segments, at least one) covering `duration`.

    The last chunk takes what is left; a remainder shorter than half a chunk joins the chunk
    before, so no run is spent on a sliver.
    """
    per_chunk = max(1, round(chunk_seconds / SEGMENT_SECONDS))
    total = max(1, math.ceil(round(duration / SEGMENT_SECONDS, 6)))
    count = max(1, total // per_chunk + (1 if total % per_chunk * 2 >= per_chunk else 0))
    chunks = []
    for number in range(count):
        first = number * per_chunk
        start = first * SEGMENT_SECONDS
        end = duration if number == count - 1 else (first + per_chunk) * SEGMENT_SECONDS
        chunks.append(Chunk(number, count, Span(float(start), round(end - start, 6)), first + 1))
    return chunks
