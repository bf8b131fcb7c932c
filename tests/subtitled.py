"""Clips with subtitle tracks, made with ffmpeg's own muxers and encoders: mov_text in MP4, ASS and
SRT in Matroska, and a bitmap track (DVB, encoded by ffmpeg's dvbsub from a tiny PGS picture written
here) in MPEG-TS."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

from media.binaries import find
from tests.media import make_clip

ENGLISH = "1\n00:00:00,200 --> 00:00:00,900\nHello <i>there</i>\n\n2\n00:00:01,000 --> 00:00:01,800\nSecond line\n"
FRENCH = "1\n00:00:00,300 --> 00:00:01,200\nBonjour & <b>salut</b>\n"
GERMAN = "1\n00:00:00,400 --> 00:00:01,500\nGuten Tag\n"


def _ffmpeg(*args: str) -> None:
    subprocess.run([find("ffmpeg"), "-y", "-loglevel", "error", *args], check=True)


def _srt(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.srt"
    path.write_text(text, encoding="utf-8")
    return path


def mp4_with_mov_text(path: Path, seconds: float = 2, audio: bool = True) -> Path:
    """Two mov_text tracks: English and French (streams 2 and 3 with audio, 1 and 2 without)."""
    video = make_clip(path.with_suffix(".plain.mp4"), seconds=seconds, width=320, height=240, audio=audio)
    en, fr = _srt(path.parent, "en", ENGLISH), _srt(path.parent, "fr", FRENCH)
    _ffmpeg("-i", str(video), "-i", str(en), "-i", str(fr), "-map", "0", "-map", "1", "-map", "2",
            "-c:v", "copy", *(["-c:a", "copy"] if audio else []), "-c:s", "mov_text",
            "-metadata:s:s:0", "language=eng",
            "-metadata:s:s:1", "language=fra", str(path))
    return path


def mkv_with_ass_and_srt(path: Path, seconds: float = 2) -> Path:
    """An ASS track (German) and an SRT track (English, titled), in Matroska."""
    video = make_clip(path.with_suffix(".plain.mkv"), seconds=seconds, width=320, height=240, container="matroska")
    de, en = _srt(path.parent, "de", GERMAN), _srt(path.parent, "en", ENGLISH)
    _ffmpeg("-i", str(video), "-i", str(de), "-i", str(en), "-map", "0", "-map", "1", "-map", "2",
            "-c:v", "copy", "-c:a", "copy", "-c:s:0", "ass", "-c:s:1", "srt",
            "-metadata:s:s:0", "language=ger", "-metadata:s:s:1", "language=eng",
            "-metadata:s:s:1", "title=English SDH", "-f", "matroska", str(path))
    return path


def ts_with_dvb(path: Path, seconds: float = 2) -> Path:
    """A DVB bitmap subtitle track (Swedish) in MPEG-TS, and no text track."""
    video = make_clip(path.with_suffix(".plain.mp4"), seconds=seconds, width=320, height=240)
    sup = path.with_suffix(".sup")
    sup.write_bytes(pgs_picture(320, 240, at=0.2, until=1.2))
    _ffmpeg("-i", str(video), "-i", str(sup), "-map", "0", "-map", "1", "-c:v", "copy", "-c:a", "copy",
            "-c:s", "dvbsub", "-metadata:s:s:0", "language=swe", "-f", "mpegts", str(path))
    return path


def pgs_picture(width: int, height: int, at: float, until: float) -> bytes:
    """A PGS (.sup) stream showing one 16x8 box from `at` to `until` seconds."""

    def segment(kind: int, pts: float, data: bytes) -> bytes:
        return b"PG" + struct.pack(">IIBH", round(pts * 90000), 0, kind, len(data)) + data

    def composition(number: int, objects: int) -> bytes:
        body = struct.pack(">HHBHBBBB", width, height, 0x10, number, 0x80 if objects else 0x00, 0, 0, objects)
        return body + (struct.pack(">HBBHH", 0, 0, 0, 16, height - 24) if objects else b"")

    window = struct.pack(">BBHHHH", 1, 0, 16, height - 24, 16, 8)
    palette = struct.pack(">BB", 0, 0) + bytes([1, 235, 128, 128, 255])
    lines = b"".join(bytes([0x00, 0x80 | 16, 0x01, 0x00, 0x00]) for _ in range(8))
    picture = struct.pack(">HBB", 0, 0, 0xC0) + (len(lines) + 4).to_bytes(3, "big") + struct.pack(">HH", 16, 8) + lines
    shown = [
        segment(0x16, at, composition(0, 1)), segment(0x17, at, window), segment(0x14, at, palette),
        segment(0x15, at, picture), segment(0x80, at, b""),
    ]
    cleared = [segment(0x16, until, composition(1, 0)), segment(0x17, until, window), segment(0x80, until, b"")]
    return b"".join(shown + cleared)
