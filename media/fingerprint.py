"""Perceptual hashes of pictures and of a video's frames: PDQ's (media/pdq.py), from ffmpeg's decode.

ffmpeg samples a video twice a second (a still image gives its one frame) and turns each frame
into full-range luma the way PDQ does (from RGB, 0.299 / 0.587 / 0.114), 16 bits deep so that no
rounding moves a bit. For the content check it also shrinks frames to at most WORKING_SIZE pixels
along each axis (bilinear), so that a long video's samples stay small, and notes the picture's
own size beside them, which the hash needs to lay PDQ's filter where it lies on the original. A
picture hashed for the blocklist is read whole: its hash is the reference's.

Low frequencies survive re-encoding and resizing; each frame is hashed on its own, so trimming a
video leaves the frames that remain recognizable.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import ffmpeg
import numpy as np

from media import pdq
from media.binaries import find
from media.sandbox import GLOBAL_GUARDS, limits

FRAMES_PER_SECOND = 2  # at least one sample in any second, with room to spare
WORKING_SIZE = 512  # the content check's frames reach Python at most this many pixels along each axis
SAMPLE_BYTES = 2  # 16-bit luma
MIN_QUALITY = 50  # PDQ's advice: below this a picture is too plain (dark, flat) to hash reliably
HEX_DIGITS = 64
CHUNK_BYTES = 32 << 20  # luma hashed at a time: memory stays small for long videos
PAIRS_AT_ONCE = 1 << 18  # frame-hash x listed-hash comparisons per numpy step (8 MB of distances)
_DIMENSIONS = re.compile(rb"^#dimensions 0: (\d+)x(\d+)$", re.MULTILINE)


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


def _luma_filters(shrink: bool = False) -> list[tuple[str, dict]]:
    """Sample (`eof_action=pass` keeps the one frame of a still image); shrink for the content check;
    then luma as PDQ takes it: from RGB, full range, 16 bits (the red plane of the mixer), alone."""
    return [
        ("fps", {"fps": FRAMES_PER_SECOND, "eof_action": "pass"}),
        *([("scale", _shrink())] if shrink else []),
        ("format", {"pix_fmts": "gbrp16le"}),
        ("colorchannelmixer", {"rr": pdq.LUMA[0], "rg": pdq.LUMA[1], "rb": pdq.LUMA[2]}),
        ("extractplanes", {"planes": "r"}),
    ]


def _shrink() -> dict:
    """At most WORKING_SIZE along each axis, before the colours become luma: the shrink and the colour
    matrix are both linear, so their order changes nothing but the cost (the conversion to RGB works
    on a tenth of a 1080p picture's pixels)."""
    return {"w": f"min(iw,{WORKING_SIZE})", "h": f"min(ih,{WORKING_SIZE})", "flags": "bilinear"}


def filter_string(pixel_format: str = "gray16le", shrink: bool = False) -> str:
    """The filters for ffmpeg's -vf: sampled luma, whole (or shrunk as for the content check)."""
    chain = [*_luma_filters(shrink), ("format", {"pix_fmts": pixel_format})]
    escaped = [(name, [f"{k}={v}".replace(",", "\\,") for k, v in opts.items()]) for name, opts in chain]
    return ",".join(f"{name}={':'.join(options)}" for name, options in escaped)


def size_file(frames: Path) -> Path:
    """Where the sampled picture's own size is noted, beside its frames."""
    return frames.with_name(frames.name + ".size")


def sample_outputs(picture, frames: Path):
    """The content check's ffmpeg-python outputs: the sampled luma, shrunk, as raw 16-bit samples, each
    frame written as it is made; and the picture's own size, from its first sampled frame (whole) in
    ffmpeg's framecrc text, flushed as it is written: the check can't start before it."""
    split = picture.filter("fps", fps=FRAMES_PER_SECOND, eof_action="pass").filter_multi_output("split", 2)
    sampled, whole = split[0], split[1]
    luma = sampled
    for name, options in _luma_filters(shrink=True)[1:]:  # sampled already
        luma = luma.filter(name, **options)
    return ffmpeg.merge_outputs(
        ffmpeg.output(luma.filter("format", "gray16le"), str(frames), f="rawvideo", flush_packets=1),
        ffmpeg.output(whole, str(size_file(frames)), f="framecrc", vframes=1, flush_packets=1),
    )


@dataclass(frozen=True)
class Layout:
    """Frames sampled from a `width` x `height` picture, each `rows` x `columns` of 16-bit luma."""

    width: int
    height: int

    @property
    def rows(self) -> int:
        return min(self.height, WORKING_SIZE)

    @property
    def columns(self) -> int:
        return min(self.width, WORKING_SIZE)

    @property
    def frame_bytes(self) -> int:
        return self.rows * self.columns * SAMPLE_BYTES


def layout_of(frames: Path) -> Layout | None:
    """The frames' layout, once ffmpeg has noted the picture's size (None before)."""
    try:
        found = _DIMENSIONS.search(size_file(frames).read_bytes())
    except FileNotFoundError:
        return None
    return Layout(int(found.group(1)), int(found.group(2))) if found else None


def hash_frames(luma: np.ndarray, width: int | None = None, height: int | None = None, first_index: int = 0) -> Hashes:
    """Hash (N, h, w) luma (0-255) of frames sampled FRAMES_PER_SECOND apart from a `width` x `height`
    picture (by default, h x w: not shrunk)."""
    height = luma.shape[-2] if height is None else height
    width = luma.shape[-1] if width is None else width
    small = pdq.downscale(luma, width, height)
    coeffs = pdq.coefficients(small)
    seconds = (np.arange(len(luma)) + first_index) / FRAMES_PER_SECOND
    return Hashes(pdq.to_words(coeffs), pdq.to_words(pdq.mirrored(coeffs)), seconds, pdq.quality(small))


def _luma(raw: np.ndarray) -> np.ndarray:
    """16-bit samples -> luma on PDQ's 0-255 scale."""
    return raw.astype(np.float32) * np.float32(1 / 257)


def frames_in(path: Path) -> int:
    """Whole frames in a file of sampled frames (one still being written may end in part of one)."""
    layout = layout_of(path)
    if layout is None or not path.exists():
        return 0
    return path.stat().st_size // layout.frame_bytes


def read_chunks(path: Path, first: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray, Layout]]:
    """(index of the first frame, their luma, layout) from a file of sampled frames, a chunk at a time:
    frames `first` to `stop` (the file's whole frames by default)."""
    count = frames_in(path) if stop is None else stop
    layout = layout_of(path)
    if count <= first or layout is None:
        return
    frames = np.memmap(path, dtype="<u2", mode="r", shape=(count, layout.rows, layout.columns))
    step = max(1, CHUNK_BYTES // layout.frame_bytes)
    for start in range(first, count, step):
        yield start, _luma(frames[start : min(start + step, count)]), layout


def hash_file_of_frames(path: Path, first: int = 0, stop: int | None = None) -> Iterator[Hashes]:
    """Hashes of the frames the transcode wrote, a chunk at a time."""
    for start, luma, layout in read_chunks(path, first, stop):
        yield hash_frames(luma, layout.width, layout.height, start)


def _read_pgm(stream: IO[bytes]) -> np.ndarray | None:
    """The next 16-bit PGM picture of ffmpeg's image2pipe (None at the end) as (h, w) uint16."""
    fields: list[bytes] = []
    while len(fields) < 4:
        token = b""
        while True:
            byte = stream.read(1)
            if not byte:
                if fields or token:
                    raise Unreadable("ffmpeg's output ended in the middle of a frame")
                return None
            if byte.isspace():
                if token:
                    break
                continue
            token += byte
        fields.append(token)
    magic, width, height, top = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic != b"P5" or top != 65535:
        raise Unreadable("ffmpeg gave no 16-bit gray frames")
    data = stream.read(width * height * 2)
    if len(data) < width * height * 2:
        raise Unreadable("ffmpeg's output ended in the middle of a frame")
    return np.frombuffer(data, dtype=">u2").reshape(height, width)


def _hash_stream(stream: IO[bytes]) -> list[Hashes]:
    """Hash every frame of a PGM stream, whole (no shrinking), a bounded batch at a time."""
    done: list[Hashes] = []
    batch: list[np.ndarray] = []
    count = 0

    def flush() -> None:
        nonlocal count
        if batch:
            done.append(hash_frames(_luma(np.stack(batch)), first_index=count))
            count += len(batch)
            batch.clear()

    while (frame := _read_pgm(stream)) is not None:
        if batch and (frame.shape != batch[0].shape or (len(batch) + 1) * frame.nbytes > CHUNK_BYTES):
            flush()
        batch.append(frame)
    flush()
    return done


def _joined(parts: list[Hashes]) -> Hashes:
    return Hashes(*(np.concatenate([getattr(part, name) for part in parts]) for name in Hashes.__dataclass_fields__))


def hash_media(path: Path, *, timeout: float | None = 600, memory_mb: int = 4096) -> Hashes:
    """Decode an image or a video with ffmpeg and hash its sampled frames whole (for the blocklist)."""
    args = [
        find("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", *GLOBAL_GUARDS,
        "-protocol_whitelist", "file", "-i", f"file:{path}",
        "-an", "-sn", "-dn", "-vf", filter_string("gray16be"), "-f", "image2pipe", "-c:v", "pgm", "pipe:1",
    ]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errors, preexec_fn=limits(memory_mb))
        timer = threading.Timer(timeout, process.kill) if timeout is not None else None
        if timer:
            timer.start()
        try:
            parts = _hash_stream(process.stdout)
        finally:
            process.stdout.close()
            returncode = process.wait()
            if timer:
                timer.cancel()
        if timer and not timer.is_alive() and returncode < 0:
            raise Unreadable(f"decoding took longer than {timeout:.0f} s")
        if returncode != 0 or not parts:
            errors.seek(0)
            detail = errors.read().decode(errors="replace").strip().splitlines()
            raise Unreadable(detail[-1] if detail else "no picture in it")
    return _joined(parts)


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
