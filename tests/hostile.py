"""Hostile media made by the tests: MP4 boxes patched in place, references to other files, lies."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

from media.binaries import find

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"dinf", b"stbl", b"edts", b"udta"}


def ffmpeg(*args: str) -> None:
    subprocess.run([find("ffmpeg"), "-y", "-hide_banner", "-loglevel", "error", *args], check=True)


def children(data: bytes, start: int, end: int):
    """(offset, size, type) of each box between `start` and `end`."""
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        elif size == 0:
            size = end - at
        if size < 8:
            return
        yield at, size, kind
        at += size


def find_boxes(data: bytes, path: list[bytes], start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(offset, size) of every box at `path`, e.g. [b"moov", b"trak", b"tkhd"]."""
    end = len(data) if end is None else end
    found = []
    for at, size, kind in children(data, start, end):
        if kind != path[0]:
            continue
        if len(path) == 1:
            found.append((at, size))
        else:
            found += find_boxes(data, path[1:], at + 8, at + size)
    return found


def patch(data: bytes, path: list[bytes], offset: int, fmt: str, *values, every: bool = True) -> bytes:
    """Overwrite a field `offset` bytes into the payload of the box(es) at `path`."""
    out = bytearray(data)
    targets = find_boxes(data, path)
    assert targets, f"no box {path}"
    for at, _ in targets if every else targets[:1]:
        struct.pack_into(fmt, out, at + 8 + offset, *values)
    return bytes(out)


def replace_payload(data: bytes, path: list[bytes], payload: bytes, index: int = 0) -> bytes:
    """Give one box a new payload, fixing the sizes of the boxes around it (moov must come after mdat)."""

    def rebuild(chunk: bytes, path: list[bytes], seen: list[int]) -> bytes:
        out = b""
        for at, size, kind in children(chunk, 0, len(chunk)):
            box = chunk[at : at + size]
            if kind == path[0] and len(path) == 1:
                seen[0] += 1
                if seen[0] - 1 == index:
                    box = struct.pack(">I4s", 8 + len(payload), kind) + payload
            elif kind == path[0]:
                inner = rebuild(box[8:], path[1:], seen)
                box = struct.pack(">I4s", 8 + len(inner), kind) + inner
            out += box
        return out

    return rebuild(data, path, [0])


def alias_dref(path: str, *, nlvl_from: int, nlvl_to: int) -> bytes:
    """A `dref` payload with one Macintosh alias: "this track's samples are in another file"."""
    volume = b"Macintosh HD"
    filename = path.rsplit("/", 1)[-1].encode()
    record = bytearray(10)
    record += bytes([len(volume)]) + volume.ljust(27, b"\0")
    record += bytes(12)
    record += bytes([len(filename)]) + filename.ljust(63, b"\0")
    record += bytes(16)
    record += struct.pack(">hh", nlvl_from, nlvl_to)
    record += bytes(16)
    encoded = volume + path.replace("/", ":").encode()  # the Mac OS form: volume, then ':' between folders
    padded = encoded + (b"\0" if len(encoded) % 2 else b"")
    record += struct.pack(">hH", 2, len(encoded)) + padded  # 2: the absolute path
    record += struct.pack(">hH", -1, 0)
    entry = struct.pack(">I4sI", 12 + len(record), b"alis", 0) + record  # flags 0: not in this file
    return struct.pack(">II", 0, 1) + entry


def riff_patch(data: bytes, chunk: bytes, offset: int, fmt: str, *values) -> bytes:
    """Overwrite a field `offset` bytes into the payload of the first RIFF chunk named `chunk`."""
    at = data.index(chunk)
    out = bytearray(data)
    struct.pack_into(fmt, out, at + 8 + offset, *values)
    return bytes(out)


def mjpeg_sof(data: bytes, width: int, height: int) -> bytes:
    """Make every JPEG picture's frame header (SOF0) claim another size; the container keeps its own."""
    out = bytearray(data)
    at = out.find(b"\xff\xc0")
    while at >= 0:
        struct.pack_into(">HH", out, at + 5, height, width)
        at = out.find(b"\xff\xc0", at + 2)
    return bytes(out)


def _track(kind: str) -> list[bytes]:
    return [b"moov", b"trak", b"mdia", b"minf", b"stbl", kind.encode()]


def external_track(folder: Path, secret: Path, *, levels_up: int | None) -> bytes:
    """A MOV whose video samples are the bytes of `secret`, by an alias reference, not in the file.

    With `levels_up`, the alias is relative: `levels_up - 1` folders above the MOV's own; without,
    it is the absolute path. The samples once copied in are zeroed, so the file holds none of them.
    """
    size = secret.stat().st_size
    assert size % (64 * 64) == 0, "whole 64x64 grey pictures"
    made = folder / f"raw-{secret.stem}.mov"
    ffmpeg("-f", "rawvideo", "-pix_fmt", "gray", "-s", "64x64", "-r", "10", "-i", str(secret),
           "-c:v", "rawvideo", "-f", "mov", str(made))
    data = made.read_bytes()
    mdat_at, mdat_size = find_boxes(data, [b"mdat"])[0]
    data = data[: mdat_at + 8] + bytes(mdat_size - 8) + data[mdat_at + mdat_size :]
    stco_at, _ = find_boxes(data, _track("stco"))[0]
    count = struct.unpack(">I", data[stco_at + 12 : stco_at + 16])[0]
    offsets = struct.unpack(f">{count}I", data[stco_at + 16 : stco_at + 16 + 4 * count])
    data = patch(data, _track("stco"), 8, f">{count}I", *[o - offsets[0] for o in offsets])  # from the start
    if levels_up is None:
        dref = alias_dref(str(secret), nlvl_from=-1, nlvl_to=-1)
    else:
        dref = alias_dref(f"/Users/someone/{secret.name}", nlvl_from=levels_up, nlvl_to=1)
    return replace_payload(data, [b"moov", b"trak", b"mdia", b"minf", b"dinf", b"dref"], dref)


def url_dref(clip: bytes, url: str) -> bytes:
    """An MP4 whose data reference says its samples are at `url`; its own media data is zeroed."""
    location = url.encode() + b"\0"
    entry = struct.pack(">I4sI", 12 + len(location), b"url ", 0) + location  # flags 0: elsewhere
    mdat_at, mdat_size = find_boxes(clip, [b"mdat"])[0]
    clip = clip[: mdat_at + 8] + bytes(mdat_size - 8) + clip[mdat_at + mdat_size :]
    for index in range(len(find_boxes(clip, [b"moov", b"trak"]))):
        clip = replace_payload(clip, [b"moov", b"trak", b"mdia", b"minf", b"dinf", b"dref"],
                               struct.pack(">II", 0, 1) + entry, index)
    return clip


def zero_duration(clip: bytes) -> bytes:
    trak = [b"moov", b"trak"]
    clip = patch(clip, [b"moov", b"mvhd"], 16, ">I", 0)
    clip = patch(clip, trak + [b"tkhd"], 20, ">I", 0)
    clip = patch(clip, trak + [b"mdia", b"mdhd"], 16, ">I", 0)
    clip = patch(clip, trak + [b"mdia", b"minf", b"stbl", b"stts"], 12, ">I", 0)
    return patch(clip, trak + [b"edts", b"elst"], 8, ">I", 0)


def many_streams(clip: bytes, copies: int) -> bytes:
    """The last track repeated `copies` times: thousands of streams in a small file."""
    moov_at, moov_size = find_boxes(clip, [b"moov"])[0]
    at, size = find_boxes(clip, [b"moov", b"trak"])[-1]
    inner = clip[moov_at + 8 : moov_at + moov_size] + clip[at : at + size] * copies
    return clip[:moov_at] + struct.pack(">I4s", 8 + len(inner), b"moov") + inner + clip[moov_at + moov_size :]


def avi_claiming(avi: bytes, *, width: int = 0, height: int = 0, frames: int = 0) -> bytes:
    """An AVI whose headers claim another picture size or frame count than its few tiny frames."""
    if width:
        avi = riff_patch(riff_patch(avi, b"avih", 32, "<II", width, height), b"strf", 4, "<ii", width, height)
    if frames:
        avi = riff_patch(riff_patch(avi, b"avih", 16, "<I", frames), b"strh", 32, "<I", frames)
    return avi


def growing_picture(path: Path, *, first: tuple[int, int] = (320, 240), then: tuple[int, int] = (640, 640)) -> Path:
    """An MPEG-TS whose H.264 picture size changes partway through: 2 s at `first`, then 1 s at `then`
    (two streams cut one after the other, as a broadcast's resolution change is). Its header and first
    pictures show `first` only."""
    parts = []
    for number, ((width, height), seconds) in enumerate(((first, 2), (then, 1))):
        part = path.with_name(f"{path.stem}-part{number}.ts")
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=25:duration={seconds}",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "mpegts", str(part))
        parts.append(part)
    path.write_bytes(b"".join(part.read_bytes() for part in parts))
    for part in parts:
        part.unlink()
    return path
