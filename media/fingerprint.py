"""Perceptual hashes of pictures, built the way PDQ builds them, on frames ffmpeg has shrunk.

PDQ's construction: 64x64 luma -> the 16x16 lowest non-constant DCT frequencies -> one bit per
coefficient, set when it is above their median. 256 bits, written as 64 hex digits in PDQ's
layout. Low frequencies survive re-encoding and resizing; each frame is hashed on its own, so
trimming a video leaves the frames that remain recognizable.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from media.binaries import find
from media.sandbox import GLOBAL_GUARDS, limits

SIZE = 64  # frames reach Python as SIZE x SIZE 8-bit luma
FRAME_BYTES = SIZE * SIZE
FRAMES_PER_SECOND = 2  # at least one sample in any second, with room to spare
# ffmpeg's part: sample, shrink with an averaging filter (PDQ's job too), keep luma. `eof_action=pass`
# keeps the one frame of a still image.
FILTERS = (
    ("fps", {"fps": FRAMES_PER_SECOND, "eof_action": "pass"}),
    ("scale", {"w": SIZE, "h": SIZE, "flags": "area"}),
    ("format", {"pix_fmts": "gray"}),
)
MIN_QUALITY = 50  # PDQ's advice: below this a picture is too plain (dark, flat) to hash reliably
HEX_DIGITS = 64
CHUNK_FRAMES = 256  # frames hashed at a time: memory stays small for long videos
PAIRS_AT_ONCE = 1 << 18  # frame-hash x listed-hash comparisons per numpy step (8 MB of distances)


class Unreadable(Exception):
    """ffmpeg could not decode the file as a picture or a video."""


@dataclass(frozen=True)
class Hashes:
    """Hashes of sampled frames: `words` (N, 4) uint64, and of their mirror images; where each frame is."""

    words: np.ndarray
    mirror_words: np.ndarray
    seconds: np.ndarray
    quality: np.ndarray  # 0-100

    def __len__(self) -> int:
        return len(self.words)

    def hex(self, index: int) -> str:
        return to_hex(self.words[index])


def filter_chain(stream):
    """Apply the sampling filters to an ffmpeg-python stream."""
    for name, options in FILTERS:
        stream = stream.filter(name, **options)
    return stream


def filter_string() -> str:
    return ",".join(name + "=" + ":".join(f"{k}={v}" for k, v in options.items()) for name, options in FILTERS)


@cache
def _dct() -> np.ndarray:
    """16x64 DCT-II rows 1..16: the lowest frequencies, without the constant one."""
    rows = np.arange(1, 17)[:, None]
    cols = np.arange(SIZE)[None, :]
    return np.sqrt(2.0 / SIZE) * np.cos(np.pi / (2 * SIZE) * rows * (2 * cols + 1))


def coefficients(frames: np.ndarray) -> np.ndarray:
    """(N, 64, 64) luma -> (N, 16, 16) DCT coefficients."""
    d = _dct()
    return d @ frames.astype(np.float64) @ d.T


def mirrored(coeffs: np.ndarray) -> np.ndarray:
    """The coefficients of the left-right mirror image: odd horizontal frequencies change sign."""
    sign = np.where(np.arange(1, 17) % 2 == 1, -1.0, 1.0)
    return coeffs * sign[None, None, :]


def to_words(coeffs: np.ndarray) -> np.ndarray:
    """(N, 16, 16) coefficients -> (N, 4) uint64: bit i*16+j set when coefficient (i, j) is above the median."""
    flat = coeffs.reshape(len(coeffs), 256)
    bits = flat > np.median(flat, axis=1, keepdims=True)
    return np.packbits(bits, axis=1, bitorder="little").view("<u8")


def quality(frames: np.ndarray) -> np.ndarray:
    """PDQ's quality: how many clear gradients a picture has, 0 (flat) to 100."""
    luma = frames.astype(np.float64)
    down = np.trunc((luma[:, :-1, :] - luma[:, 1:, :]) * 100 / 255)
    across = np.trunc((luma[:, :, :-1] - luma[:, :, 1:]) * 100 / 255)
    total = np.abs(down).sum(axis=(1, 2)) + np.abs(across).sum(axis=(1, 2))
    return np.minimum(100, (total // 90)).astype(np.int32)


def hash_frames(frames: np.ndarray, first_index: int = 0) -> Hashes:
    """Hash (N, 64, 64) uint8 frames sampled FRAMES_PER_SECOND apart."""
    seconds = (np.arange(len(frames)) + first_index) / FRAMES_PER_SECOND
    coeffs = coefficients(frames)
    return Hashes(to_words(coeffs), to_words(mirrored(coeffs)), seconds, quality(frames))


def frames_in(path: Path) -> int:
    """Whole frames in a file of raw frames (one still being written may end in part of one)."""
    return path.stat().st_size // FRAME_BYTES if path.exists() else 0


def read_chunks(path: Path, first: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(index of the first frame, frames) from a file of raw 64x64 gray frames, a chunk at a time:
    frames `first` to `stop` (the file's whole frames by default)."""
    count = frames_in(path) if stop is None else stop
    if count <= first:
        return
    frames = np.memmap(path, dtype=np.uint8, mode="r", shape=(count, SIZE, SIZE))
    for start in range(first, count, CHUNK_FRAMES):
        yield start, np.array(frames[start : min(start + CHUNK_FRAMES, count)])


def hash_file_of_frames(path: Path, first: int = 0, stop: int | None = None) -> Iterator[Hashes]:
    """Hashes of the frames the transcode wrote, a chunk at a time."""
    for start, frames in read_chunks(path, first, stop):
        yield hash_frames(frames, start)


def hash_media(path: Path, *, timeout: float | None = 600, memory_mb: int = 4096) -> Hashes:
    """Decode an image or a video with ffmpeg and hash its sampled frames (for the blocklist)."""
    args = [
        find("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", *GLOBAL_GUARDS,
        "-protocol_whitelist", "file", "-i", f"file:{path}",
        "-an", "-sn", "-dn", "-vf", filter_string(), "-f", "rawvideo", "pipe:1",
    ]
    try:
        done = subprocess.run(args, capture_output=True, timeout=timeout, preexec_fn=limits(memory_mb))
    except subprocess.TimeoutExpired as exc:
        raise Unreadable(f"decoding took longer than {timeout:.0f} s") from exc
    usable = len(done.stdout) // FRAME_BYTES * FRAME_BYTES
    if done.returncode != 0 or usable == 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise Unreadable(detail[-1] if detail else "no picture in it")
    frames = np.frombuffer(done.stdout[:usable], dtype=np.uint8).reshape(-1, SIZE, SIZE)
    return hash_frames(frames)


def to_hex(words: np.ndarray) -> str:
    """(4,) uint64 -> 64 hex digits, most significant first (PDQ's layout)."""
    return np.ascontiguousarray(words, dtype="<u8").tobytes()[::-1].hex()


def from_hex(text: str) -> np.ndarray:
    """64 hex digits -> (4,) uint64. Raises ValueError for anything else."""
    text = text.strip().lower()
    if len(text) != HEX_DIGITS or any(ch not in "0123456789abcdef" for ch in text):
        raise ValueError(f"{text[:80]!r} is not a 256-bit hash in hex (64 digits 0-9, a-f)")
    return np.frombuffer(bytes.fromhex(text)[::-1], dtype="<u8").copy()


def from_hex_many(texts: list[str]) -> np.ndarray:
    """Many stored (already checked) hex hashes -> (M, 4) uint64, in one step."""
    if not texts:
        return np.zeros((0, 4), dtype="<u8")
    raw = np.frombuffer(bytes.fromhex("".join(texts)), dtype=np.uint8).reshape(-1, 32)[:, ::-1]
    return np.ascontiguousarray(raw).view("<u8")


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between every row of a (N, 4) and of b (M, 4): an (N, M) array."""
    return np.bitwise_count(a[:, None, :] ^ b[None, :, :]).sum(axis=2, dtype=np.int32)


@dataclass(frozen=True)
class Closest:
    frame: int  # index into the Hashes
    listed: int  # row of the listed hashes
    distance: int
    mirrored: bool  # the frame matched once mirrored left to right
    words: np.ndarray  # the frame's hash, as it matched


def closest(hashes: Hashes, listed: np.ndarray) -> Closest | None:
    """The closest pair of a frame (as it is, or mirrored) and a listed hash (M, 4); None when either is empty."""
    best: Closest | None = None
    if not len(hashes) or not len(listed):
        return None
    rows = max(1, PAIRS_AT_ONCE // len(listed))
    for is_mirror, words in ((False, hashes.words), (True, hashes.mirror_words)):
        for start in range(0, len(words), rows):
            found = distances(words[start : start + rows], listed)
            frame, row = np.unravel_index(np.argmin(found), found.shape)
            if best is None or found[frame, row] < best.distance:
                best = Closest(start + int(frame), int(row), int(found[frame, row]), is_mirror, words[start + frame])
    return best
