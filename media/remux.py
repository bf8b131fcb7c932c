"""MP4 downloads from the HLS encode: a rung's fMP4 segments and the audio's, copied into one
faststart MP4. Stream copy only: no picture is decoded or encoded again."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from media import playlists
from media.binaries import find
from media.sandbox import GLOBAL_GUARDS, limits

# Reading HLS is what the sandbox forbids for uploads (a playlist can name any file or URL). Here it
# is allowed because the input is our own output, never an upload: playlists ffmpeg's HLS muxer
# wrote into our work folder, naming segments beside them. Still, only the file protocol, only the
# hls and mov demuxers, only .m4s/.mp4 segments, and `_check` refuses a playlist naming anything
# but plain file names in its own folder before ffmpeg opens it.
HLS_INPUT_GUARDS = {"protocol_whitelist": "file", "format_whitelist": "hls,mov", "allowed_extensions": "m4s,mp4"}


class RemuxFailed(RuntimeError):
    """ffmpeg could not copy the segments into an MP4: our own files are missing or damaged."""


def remux_args(video_playlist: Path, audio_playlist: Path | None, out_path: Path) -> list[str]:
    """ffmpeg's arguments: each playlist read once, every packet copied as it is, moov moved first."""
    args = [find("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", *GLOBAL_GUARDS]
    for playlist in [video_playlist, *([audio_playlist] if audio_playlist else [])]:
        for option, value in HLS_INPUT_GUARDS.items():
            args += [f"-{option}", value]
        args += ["-f", "hls", "-i", f"file:{playlist}"]
    args += ["-map", "0:v:0", *(["-map", "1:a:0"] if audio_playlist else [])]
    return [*args, "-c", "copy", "-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4", "-y", str(out_path)]


def mp4_from_hls(
    video_playlist: Path, audio_playlist: Path | None, out_path: Path, *, timeout: float = 600,
    memory_mb: int = 4096,
) -> Path:
    """Write `out_path` from final (VOD) media playlists: the video rung's and the audio's, if any.

    The file appears whole under its name (written beside it, then renamed).
    """
    for playlist in [video_playlist, *([audio_playlist] if audio_playlist else [])]:
        _check(playlist)
    partial = out_path.with_name(out_path.name + ".part")
    args = remux_args(video_playlist, audio_playlist, partial)
    try:
        done = subprocess.run(
            args, capture_output=True, timeout=timeout, preexec_fn=limits(memory_mb), stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        partial.unlink(missing_ok=True)
        raise RemuxFailed(f"copying the segments into {out_path.name} took longer than {timeout:g} s") from exc
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RemuxFailed(f"{out_path.name}: {done.stderr.decode(errors='replace').strip()[-300:]}")
    os.replace(partial, out_path)
    return out_path


def _check(playlist: Path) -> None:
    """A final playlist whose init segment and segments are files beside it, all present."""
    text = playlist.read_text(encoding="utf-8")
    if not playlists.is_final(text):
        # ffmpeg would read an open playlist as a live stream and wait for more segments
        raise ValueError(f"{playlist} is still growing: finalize it first")
    names = [uri for uri, _ in playlists.segments(text)]
    init = playlists.init_segment_uri(text)
    if not names:
        raise ValueError(f"{playlist} names no segment")
    for name in [*([init] if init else []), *names]:
        if "/" in name or "\\" in name or ":" in name or name.startswith(".") or not name:
            raise ValueError(f"{playlist} names {name!r}, not a file beside it")
        if not (playlist.parent / name).is_file():
            raise ValueError(f"{playlist} names {name}, which is missing")
