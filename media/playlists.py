"""HLS playlists around what ffmpeg's HLS muxer writes: the master playlist naming every rung, the
codec strings it declares, the bit rates measured from the segments, and the step that turns a
growing (EVENT) media playlist into a final (VOD) one.

A media playlist is ffmpeg's; it is read here, and only `finalize` writes one, after ffmpeg is done
with it (ffmpeg rewrites its playlist whole at each segment).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from media.binaries import find
from media.hls import HlsAudio, HlsLadder, HlsRung
from media.sandbox import GLOBAL_GUARDS, limits

VERSION = 7  # fMP4 segments (EXT-X-MAP) in a playlist that isn't I-frames only need 6; ffmpeg writes 7
AUDIO_GROUP = "audio"
AAC_LC = "mp4a.40.2"
ENDLIST = "#EXT-X-ENDLIST"
# profile_idc and the usual constraint flags, for when the init segment holds no avcC record
PROFILES = {
    "constrained baseline": (0x42, 0xC0), "baseline": (0x42, 0x00), "main": (0x4D, 0x40),
    "extended": (0x58, 0x00), "high": (0x64, 0x00), "high 10": (0x6E, 0x00), "high 4:2:2": (0x7A, 0x00),
    "high 4:4:4 predictive": (0xF4, 0x00),
}


@dataclass(frozen=True)
class Bitrates:
    """A media playlist's bit rates, bits/s, as RFC 8216 defines them (4.3.4.2)."""

    peak: int  # the highest of any run of segments lasting 0.5 to 1.5 target durations
    average: int  # all its segments' bits over all their time


@dataclass(frozen=True)
class Variant:
    """One `#EXT-X-STREAM-INF` entry: a video rung, with the audio group's figures not yet added."""

    uri: str  # relative to the master playlist
    width: int
    height: int
    frame_rate: float
    codecs: str  # "avc1.PPCCLL"
    bandwidth: int
    average_bandwidth: int


@dataclass(frozen=True)
class AudioRendition:
    """The `#EXT-X-MEDIA` audio rendition every variant plays with."""

    uri: str
    bandwidth: int
    average_bandwidth: int
    codecs: str = AAC_LC
    channels: int = 2
    name: str = "Audio"


def master(rungs: Sequence[Variant], audio: AudioRendition | None) -> str:
    """The master playlist: the audio group when there is audio, then each rung as given.

    A variant's BANDWIDTH and AVERAGE-BANDWIDTH are its video's plus the audio's: what a player
    fetches to play it.
    """
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{VERSION}", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if audio is not None:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="{audio.name}",DEFAULT=YES,AUTOSELECT=YES,'
            f'CHANNELS="{audio.channels}",URI="{audio.uri}"'
        )
    for rung in rungs:
        codecs = rung.codecs if audio is None else f"{rung.codecs},{audio.codecs}"
        attributes = [
            f"BANDWIDTH={rung.bandwidth + (audio.bandwidth if audio else 0)}",
            f"AVERAGE-BANDWIDTH={rung.average_bandwidth + (audio.average_bandwidth if audio else 0)}",
            f"RESOLUTION={rung.width}x{rung.height}",
            f'CODECS="{codecs}"',
        ]
        if rung.frame_rate > 0:  # unknown for a few odd sources: better unsaid than wrong
            attributes.append(f"FRAME-RATE={rung.frame_rate:.3f}")
        if audio is not None:
            attributes.append(f'AUDIO="{AUDIO_GROUP}"')
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), rung.uri]
    return "\n".join(lines) + "\n"


def variant(rung: HlsRung, root: Path, measured: bool = False) -> Variant:
    """A rung's entry, once its init segment is written. BANDWIDTH is its rate cap's ceiling for a whole
    segment (never below what was measured); AVERAGE-BANDWIDTH is measured from the segments written
    when `measured`, else the cap (the long-run average can't pass it)."""
    bandwidth, average = rung.peak_rate, rung.max_rate
    if measured:
        found = measure(rung.path)
        bandwidth, average = max(bandwidth, found.peak), found.average
    return Variant(
        rung.path.relative_to(root).as_posix(), rung.rung.width, rung.rung.height, rung.frame_rate,
        codec_string(rung.init_segment), bandwidth, average,
    )


def audio_rendition(audio: HlsAudio, root: Path, measured: bool = False) -> AudioRendition:
    bandwidth, average = audio.peak_rate, audio.bitrate
    if measured:
        found = measure(audio.path)
        bandwidth, average = max(bandwidth, found.peak), found.average
    return AudioRendition(audio.path.relative_to(root).as_posix(), bandwidth, average)


def write_master(ladder: HlsLadder, measured: bool = False) -> Path:
    """Write the ladder's master playlist whole, after every rung has its init segment."""
    audio = audio_rendition(ladder.audio, ladder.root, measured) if ladder.audio else None
    text = master([variant(rung, ladder.root, measured) for rung in ladder.rungs], audio)
    return _replace(ladder.master_path, text)


def codec_string(init_segment: Path) -> str:
    """The RFC 6381 string of the H.264 in an init segment, `avc1.PPCCLL`: profile, constraint flags,
    level, as its avcC record (what ffprobe shows as the stream's extradata) says.

    Read from the box itself when the init segment has one (our own muxer's file, a few hundred
    bytes: no ffprobe run, which would cost tens of milliseconds before a video is playable)."""
    data = init_segment.read_bytes()
    box = data.find(b"avcC")
    if box >= 4 and len(data) >= box + 8 and data[box + 4] == 1:  # an AVCDecoderConfigurationRecord, version 1
        return "avc1.{:02X}{:02X}{:02X}".format(*data[box + 5 : box + 8])
    (stream,) = _ffprobe(init_segment, ["-select_streams", "v:0", "-show_streams", "-show_data"])["streams"]
    record = _hexdump(stream.get("extradata", ""))
    if len(record) >= 4 and record[0] == 1:  # an AVCDecoderConfigurationRecord, version 1
        return "avc1.{:02X}{:02X}{:02X}".format(*record[1:4])
    profile, flags = PROFILES[str(stream.get("profile", "")).lower()]
    return f"avc1.{profile:02X}{flags:02X}{int(stream['level']):02X}"


def segments(playlist_text: str) -> list[tuple[str, float]]:
    """(URI, duration in s) of each media segment of a media playlist, in order."""
    found, duration = [], None
    for line in playlist_text.splitlines():
        line = line.strip()
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:"):].split(",", 1)[0])
        elif line and not line.startswith("#") and duration is not None:
            found.append((line, duration))
            duration = None
    return found


def first_segments(playlist_text: str, count: int) -> str:
    """The playlist naming only its first `count` segments: its header tags, then each segment with
    the tags before it. What may be published of a playlist ffmpeg is still writing."""
    kept, block, taken = [], [], 0
    for line in playlist_text.splitlines():
        stripped = line.strip()
        if stripped == ENDLIST:
            continue
        if not stripped.startswith("#") and stripped:
            if taken < count:
                kept += [*block, line]
            taken += 1
            block = []
        elif taken == 0 and not block and not stripped.startswith("#EXTINF"):
            kept.append(line)  # a header tag
        else:
            block.append(line)
    return "\n".join(kept) + "\n"


def joined(playlist_texts: Sequence[str]) -> str:
    """One media playlist of several runs' (a chunked video's, in order): the first's header, then
    every run's segments, left open (`final` closes it). The runs' segments are numbered and timed
    as one (media/chunks.py) and play from the first run's init segment."""
    if not playlist_texts:
        raise ValueError("no playlist to join")
    header = first_segments(playlist_texts[0], 0).splitlines()
    body = []
    for text in playlist_texts:
        lines = first_segments(text, len(segments(text))).splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith("#EXTINF")), len(lines))
        body += lines[start:]
    return "\n".join([*header, *body]) + "\n"


def init_segment_uri(playlist_text: str) -> str | None:
    """The URI of the `#EXT-X-MAP` (the init segment), if the playlist has one."""
    match = re.search(r'^#EXT-X-MAP:.*?URI="([^"]*)"', playlist_text, re.MULTILINE)
    return match.group(1) if match else None


def is_final(playlist_text: str) -> bool:
    return any(line.strip() == ENDLIST for line in playlist_text.splitlines())


def final(playlist_text: str) -> str:
    """The text of an EVENT media playlist made final: `#EXT-X-PLAYLIST-TYPE:VOD` and `#EXT-X-ENDLIST`."""
    lines = playlist_text.splitlines()
    if not lines or lines[0].strip() != "#EXTM3U":
        raise ValueError("not an HLS playlist")
    kept, typed = [], False
    for line in lines:
        if line.strip() == ENDLIST:
            continue
        if line.startswith("#EXT-X-PLAYLIST-TYPE:"):
            if typed:
                continue
            line, typed = "#EXT-X-PLAYLIST-TYPE:VOD", True
        kept.append(line)
    if not typed:  # with the header tags, before the first segment's
        first = next((i for i, line in enumerate(kept) if line.startswith(("#EXTINF", "#EXT-X-MAP"))), len(kept))
        kept.insert(first, "#EXT-X-PLAYLIST-TYPE:VOD")
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join([*kept, ENDLIST]) + "\n"


def finalize(playlist_path: Path) -> bool:
    """Make an EVENT media playlist final: `#EXT-X-PLAYLIST-TYPE:VOD` and `#EXT-X-ENDLIST`.

    Idempotent: a final playlist is left as it is. Returns whether it changed. Call it once ffmpeg has
    ended: ffmpeg rewrites the whole file at each segment and would drop the change.
    """
    text = playlist_path.read_text(encoding="utf-8")
    try:
        done = final(text)
    except ValueError as exc:
        raise ValueError(f"{playlist_path} is not an HLS playlist") from exc
    if done == text:
        return False
    _replace(playlist_path, done)
    return True


def measure(playlist_path: Path) -> Bitrates:
    """The bit rates of a media playlist's segments as written, from their sizes on disk."""
    text = playlist_path.read_text(encoding="utf-8")
    listed = segments(text)
    if not listed:
        raise ValueError(f"{playlist_path} names no segment yet")
    sizes = [(playlist_path.parent / uri).stat().st_size * 8 for uri, _ in listed]
    times = [duration for _, duration in listed]
    target = _target_duration(text) or math.ceil(max(times))
    peak = 0.0
    for first in range(len(listed)):  # every run of segments 0.5 to 1.5 target durations long
        spent = length = 0.0
        for size, duration in zip(sizes[first:], times[first:], strict=True):
            spent, length = spent + size, length + duration
            if length > 1.5 * target:
                break
            if length >= 0.5 * target:
                peak = max(peak, spent / length)
    if peak == 0:  # no run fits: a video shorter than half a segment
        peak = max(size / max(duration, 1e-3) for size, duration in zip(sizes, times, strict=True))
    return Bitrates(math.ceil(peak), math.ceil(sum(sizes) / max(sum(times), 1e-3)))


def _target_duration(text: str) -> int:
    match = re.search(r"^#EXT-X-TARGETDURATION:(\d+)", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _hexdump(dump: str) -> bytes:
    """The bytes of ffprobe's `-show_data` dump ("00000000: 0142 c00d ...  .B..")."""
    found = bytearray()
    for line in dump.splitlines():
        if ":" in line:
            hex_part = line.split(":", 1)[1][:41]  # 8 groups of 4 digits and their spaces, then text
            found += bytes.fromhex(hex_part.replace(" ", ""))
    return bytes(found)


def _ffprobe(path: Path, what: list[str]) -> dict:
    """ffprobe on a file of our own making (an init segment): local files, MP4 demuxer, no more."""
    args = [
        find("ffprobe"), "-v", "error", "-hide_banner", *GLOBAL_GUARDS, "-protocol_whitelist", "file",
        "-format_whitelist", "mov", *what, "-of", "json", f"file:{path}",
    ]
    done = subprocess.run(args, capture_output=True, timeout=60, preexec_fn=limits(1024), stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"ffprobe could not read {path}: {done.stderr.decode(errors='replace')[-300:]}")
    return json.loads(done.stdout)


def _replace(path: Path, text: str) -> Path:
    """Write `path` whole: a reader (or an upload to storage) sees the old file or the new one."""
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return path

