"""What a conversion made, chunked against unchunked: the bytes of each rung's HLS segments, and the
picture of the largest MP4 download against the source (ffmpeg's psnr filter, the download scaled
to the source's size: a no-op for the 720p download of a 720p source)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from bench.harness import Running
from media.binaries import find


def rung_bytes(run: Running, video_id: str) -> dict[str, int]:
    """Bytes of the published segments (init segment and `seg_*.m4s`) of every rung and the audio."""
    root = run.stack.storage / "videos" / video_id / "stream"
    return {
        folder.name: sum(f.stat().st_size for f in folder.iterdir() if f.suffix in (".m4s", ".mp4"))
        for folder in sorted(root.iterdir()) if folder.is_dir() and folder.name != "storyboard"
    }


def psnr_args(output: Path, source: Path, width: int, height: int) -> list[str]:
    return [find("ffmpeg"), "-nostdin", "-hide_banner", "-i", str(output), "-i", str(source),
            "-lavfi", f"[0:v]scale={width}:{height}[a];[a][1:v]psnr", "-f", "null", "-"]


def psnr(pairs: list[tuple[Path, Path]], width: int, height: int) -> list[dict[str, float]]:
    """The average PSNR (y, u, v, all; dB) of each output against its source, the runs side by side."""
    runs = [subprocess.Popen(psnr_args(out, src, width, height), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for out, src in pairs]
    found = []
    for process in runs:
        _, err = process.communicate(timeout=900)
        match = re.search(r"PSNR y:([\d.]+) u:([\d.]+) v:([\d.]+) average:([\d.]+)", err)
        if process.returncode != 0 or match is None:
            raise RuntimeError(f"psnr failed: {err[-800:]}")
        found.append(dict(zip(("y", "u", "v", "all"), map(float, match.groups()), strict=True)))
    return found
