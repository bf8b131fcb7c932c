"""Subtitles in the stream: the upload's text subtitle tracks taken out as WebVTT by an ffmpeg run of
their own (the subtitle streams only: nothing decoded but their text), a WebVTT media playlist per
track (one segment: the whole cue file), and the master playlist's subtitle group.

Bitmap subtitles (PGS, DVB, DVD, XSUB) are pictures of text: no WebVTT can be made of them without
reading the pictures, so they are left out and the caller says so (`bitmap_tracks`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from media import cues, runner
from media.binaries import find
from media.errors import BadMedia
from media.probe import MediaInfo, SubtitleTrack
from media.sandbox import GLOBAL_GUARDS, INPUT_GUARDS

GROUP = "subs"
FOLDER = "subtitles"
KIND_NAMES = {
    "hdmv_pgs_subtitle": "PGS (Blu-ray)", "dvb_subtitle": "DVB", "dvd_subtitle": "DVD (VobSub)",
    "xsub": "XSUB (DivX)", "dvb_teletext": "DVB teletext", "mov_text": "MP4 text", "subrip": "SubRip",
    "srt": "SubRip", "ass": "ASS", "ssa": "SSA", "webvtt": "WebVTT", "text": "plain text",
}
_UNQUOTABLE = re.compile(r'["\x00-\x1f\x7f]')  # an HLS quoted-string holds none of these


@dataclass(frozen=True)
class Extracted:
    """One text track, as WebVTT cues; or why it was left out (`problem`)."""

    track: SubtitleTrack
    cues: tuple[cues.Cue, ...] = ()
    problem: str = ""


@dataclass(frozen=True)
class Rendition:
    """One `#EXT-X-MEDIA:TYPE=SUBTITLES` entry of the master playlist."""

    uri: str  # relative to the master playlist: `subtitles/c12.m3u8`
    name: str
    language: str = ""  # a BCP 47 tag, or "" when unknown
    default: bool = False
    forced: bool = False


def text_tracks(info: MediaInfo) -> list[SubtitleTrack]:
    return [track for track in info.subtitles if track.text]


def bitmap_tracks(info: MediaInfo) -> list[SubtitleTrack]:
    return [track for track in info.subtitles if not track.text]


def kind_of(track: SubtitleTrack) -> str:
    """`hdmv_pgs_subtitle` -> "PGS (Blu-ray)": the format as a person knows it."""
    return KIND_NAMES.get(track.codec, track.codec)


def command(source: Path, info: MediaInfo, tracks: Sequence[SubtitleTrack], folder: Path, max_bytes: int) -> list[str]:
    """ffmpeg's arguments: the source under the sandbox's guards (as media/command.py reads it), each
    track mapped alone to a WebVTT file `<index>.vtt` in `folder`, at most about `max_bytes` each."""
    guards = dict(INPUT_GUARDS, enable_drefs="0") if info.demuxer == "mov" else dict(INPUT_GUARDS)
    args = [find("ffmpeg"), "-nostdin", "-hide_banner", *GLOBAL_GUARDS, "-loglevel", "error", "-nostats",
            "-progress", "pipe:1", "-stats_period", "0.5"]
    for option, value in guards.items():
        args += [f"-{option}", str(value)]
    args += ["-f", info.demuxer, "-i", f"file:{source}"]
    for track in tracks:
        args += ["-map", f"0:{track.index}", "-c:s", "webvtt", "-fs", str(max_bytes + 65536),
                 "-f", "webvtt", "-y", f"file:{folder / f'{track.index}.vtt'}"]
    return args


def extract(
    source: Path, info: MediaInfo, folder: Path, limits: cues.Limits, check: Callable[[], None],
    run_limits: runner.RunLimits,
) -> list[Extracted]:
    """The text tracks of the source as cues, read in one ffmpeg run; a track that can't be read or
    breaks the limits comes back with its `problem`. Raises what `check` raises, and Stalled."""
    tracks = text_tracks(info)
    if not tracks:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    try:
        runner.run(command(source, info, tracks, folder, limits.max_bytes), info.duration, lambda _: None, check,
                   run_limits)
    except BadMedia as exc:  # one broken track fails the run: then none is kept, each says why
        return [Extracted(track, problem=f"it could not be read ({exc})") for track in tracks]
    found = []
    for track in tracks:
        path = folder / f"{track.index}.vtt"
        try:
            read = cues.parse(path.read_bytes() if path.is_file() else b"", limits, "vtt")
        except cues.CueError as exc:
            message = str(exc)
            found.append(Extracted(track, problem="it holds no text" if "no cues" in message else message))
            continue
        found.append(Extracted(track, tuple(read)))
    return found


def media_playlist(vtt_name: str, duration: float) -> str:
    """A subtitle track's media playlist: one segment, the whole cue file, as long as the video."""
    length = max(duration, 0.001)
    return "\n".join([
        "#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{max(1, math.ceil(length))}",
        "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD", f"#EXTINF:{length:.3f},", vtt_name,
        "#EXT-X-ENDLIST",
    ]) + "\n"


def quoted(text: str, limit: int = 100) -> str:
    """Text fit for an HLS quoted-string: no double quote, no control character, not too long."""
    return " ".join(_UNQUOTABLE.sub(" ", text).split())[:limit]


def in_master(master_text: str, renditions: Sequence[Rendition]) -> str:
    """The master playlist with exactly `renditions` as its subtitle group, named by every variant.

    Idempotent: a subtitle group already there is replaced."""
    lines = [line for line in master_text.splitlines() if not line.startswith("#EXT-X-MEDIA:TYPE=SUBTITLES")]
    lines = [_strip_group(line) if line.startswith("#EXT-X-STREAM-INF:") else line for line in lines]
    if not renditions:
        return "\n".join(lines) + "\n"
    media = []
    names: set[str] = set()
    for rendition in renditions:
        name = _unique(quoted(rendition.name) or "Subtitles", names)
        attributes = [f'TYPE=SUBTITLES,GROUP-ID="{GROUP}",NAME="{name}"']
        if rendition.language:
            attributes.append(f'LANGUAGE="{quoted(rendition.language, 35)}"')
        attributes.append(f"DEFAULT={'YES' if rendition.default else 'NO'}")
        chosen = rendition.default or rendition.forced or rendition.language  # by a player, for its viewer
        attributes.append(f"AUTOSELECT={'YES' if chosen else 'NO'}")
        attributes.append(f"FORCED={'YES' if rendition.forced else 'NO'}")
        attributes.append(f'URI="{quoted(rendition.uri, 200)}"')
        media.append("#EXT-X-MEDIA:" + ",".join(attributes))
    first_variant = next((i for i, line in enumerate(lines) if line.startswith("#EXT-X-STREAM-INF:")), len(lines))
    lines[first_variant:first_variant] = media
    lines = [f'{line},SUBTITLES="{GROUP}"' if line.startswith("#EXT-X-STREAM-INF:") else line for line in lines]
    return "\n".join(lines) + "\n"


def _strip_group(line: str) -> str:
    return line.replace(f',SUBTITLES="{GROUP}"', "")


def _unique(name: str, taken: set[str]) -> str:
    """Names are unique within a group (RFC 8216 4.3.4.1.1): a second "English" is "English (2)"."""
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name} ({number})"
    taken.add(candidate)
    return candidate
