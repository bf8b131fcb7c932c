"""What the ladder weighs: bytes by rung, against today's MP4 ladder.

The first round also makes the ladder with the forced GOPs and no cap (video alone, in MP4), to
tell what each change costs in bytes: today's MP4 video -> closed 2 s GOPs -> the cap -> fMP4.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.common import Figure
from bench.streaming.engine import HEIGHTS, MAX_RATE
from media.binaries import find


def video_bytes(path: Path) -> int:
    """The H.264 in a file, packet by packet: no container, no audio."""
    done = subprocess.run(
        [find("ffprobe"), "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=size",
         "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True,
    )
    return sum(int(line.split(",")[0]) for line in done.stdout.split() if line.strip())


def folder_bytes(folder: Path, suffixes: tuple[str, ...] = (".mp4", ".m4s", ".m3u8")) -> int:
    return sum(f.stat().st_size for f in folder.iterdir() if f.suffix in suffixes and f.name != "event.m3u8")


def segment_rates(folder: Path) -> tuple[float, float]:
    """Average and highest whole-segment video rate of a rung, bits/s, from its playlist and files."""
    from media import playlists

    listed = playlists.segments((folder / "index.m3u8").read_text())
    rates = [(folder / uri).stat().st_size * 8 / duration for uri, duration in listed if duration >= 1]
    total = sum((folder / uri).stat().st_size for uri, _ in listed) * 8 / sum(d for _, d in listed)
    return total, max(rates or [total])


def ladder_bytes(hls: Path, mp4: Path, gop: Path, seconds: float) -> list[Figure]:
    figures = []
    for h in HEIGHTS:
        today = video_bytes(mp4 / f"{h}p.mp4")
        gops = video_bytes(gop / f"{h}p.mp4")
        capped = video_bytes(hls / "downloads" / f"{h}p.mp4")  # the rung's H.264, copied out of the segments
        packaged = folder_bytes(hls / f"{h}p")
        average, peak = segment_rates(hls / f"{h}p")
        figures.append(Figure(
            "streaming", f"bytes, {h}p video: HLS rung", packaged / 2**20, "MiB", today / 2**20,
            "MP4 rendition's video", note=(
                f"closed 2 s GOPs {100 * (gops / today - 1):+.1f} %, cap {100 * (capped / gops - 1):+.1f} %, "
                f"fMP4 (init, boxes, playlist) {100 * (packaged / capped - 1):+.2f} %; "
                f"{average / 1e6:.2f} Mbit/s average, {peak / 1e6:.2f} highest segment, cap {MAX_RATE[h] / 1e6:g}"),
        ))
    hls_total = sum(folder_bytes(hls / f"{h}p") for h in HEIGHTS) + folder_bytes(hls / "audio")
    mp4_total = sum((mp4 / f"{h}p.mp4").stat().st_size for h in HEIGHTS)
    downloads = sum((hls / "downloads" / f"{h}p.mp4").stat().st_size for h in HEIGHTS)
    audio = folder_bytes(hls / "audio")
    figures.append(Figure(
        "streaming", "bytes, whole ladder: HLS (3 rungs + audio once)", hls_total / 2**20, "MiB",
        mp4_total / 2**20, "today's 3 MP4s (audio in each)", note=(
            f"audio {audio / 2**20:.2f} MiB once instead of 3 times; stored at ready with the MP4 downloads "
            f"remuxed from it: {(hls_total + downloads) / 2**20:.1f} MiB, {(hls_total + downloads) / mp4_total:.2f}x"),
    ))
    return figures
