"""What a file holds, from ffprobe, and whether Conveyor will convert it."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from media import sandbox
from media.binaries import find
from media.errors import BadMedia
from media.sandbox import ALLOWED_DEMUXERS, EXTERNAL_TRACK, GLOBAL_GUARDS, INPUT_GUARDS, limits

ACCEPTED = "MP4, MOV, 3GP, Matroska, WebM, AVI, MPEG-TS, MPEG-PS, FLV or Ogg"


@dataclass(frozen=True)
class Limits:
    max_duration: float = 4 * 3600
    max_width: int = 7680
    max_height: int = 4320
    max_pixels: int = 7680 * 4320
    max_frame_rate: float = 240
    max_streams: int = 16
    memory_mb: int = 4096


# transfer characteristics of high dynamic range video: PQ (HDR10, Dolby Vision's base layer, most
# Android phones) and HLG (iPhones' default)
PQ, HLG = "smpte2084", "arib-std-b67"
TEXT_SUBTITLES = frozenset({"mov_text", "subrip", "srt", "webvtt", "ass", "ssa", "text"})


@dataclass(frozen=True)
class Colour:
    """How the video's pixel values are to be read, as its stream says (empty: it doesn't say)."""

    transfer: str = ""
    primaries: str = ""
    matrix: str = ""
    range: str = ""  # tv (limited) or pc (full)
    peak_nits: float = 0.0  # brightest light in the content (MaxCLL, else the mastering display's peak)

    @property
    def hdr(self) -> bool:
        return self.transfer in (PQ, HLG)


@dataclass(frozen=True)
class SubtitleTrack:
    """A subtitle stream of the upload: `index` in the file; text ones are kept as WebVTT."""

    index: int
    codec: str
    language: str = ""  # as the file tags it (ISO 639-2 mostly: "eng", "fra"); empty: untagged
    title: str = ""
    default: bool = False  # the file says: show it unless the viewer chose otherwise
    forced: bool = False  # the file says: always show it (foreign lines in a film, say)

    @property
    def text(self) -> bool:
        return self.codec in TEXT_SUBTITLES


@dataclass(frozen=True)
class MediaInfo:
    demuxer: str
    duration: float
    width: int
    height: int
    frame_rate: float
    has_audio: bool
    frames: int = 0  # as the container declares it; 0 when it doesn't say
    stream: int = 0  # index of the video stream
    colour: Colour = Colour()
    audio_channels: int = 0  # of the first audio stream
    subtitles: tuple[SubtitleTrack, ...] = ()
    # the picture-size limits it was probed under: every picture a conversion decodes keeps to them
    # (media/command.py), not only the first ones the probe saw; 0: no limit
    max_pixels: int = 0
    max_side: int = 0
    video_codec: str = ""  # ffprobe's codec names (`h264`, `aac`); audio: "" when there is none
    audio_codec: str = ""


def probe(path: Path, limits_: Limits) -> MediaInfo:
    """Read the container and streams, refusing what isn't a video Conveyor can convert.

    Only headers are read, then the first few pictures are decoded under the memory cap: a file
    whose header claims one size while its pictures claim another is judged by the pictures too.
    """
    report = _ffprobe(path, limits_, ["-show_format", "-show_streams"])
    info = _interpret(report)
    _enforce(info, report, limits_)
    first = ["-select_streams", str(info.stream), "-read_intervals", "%+#4", "-show_entries", "frame=width,height"]
    pictures = _ffprobe(path, limits_, first).get("frames") or []
    _enforce_pictures(info, pictures, limits_)
    return replace(info, max_pixels=limits_.max_pixels, max_side=max(limits_.max_width, limits_.max_height))


def _ffprobe(path: Path, lim: Limits, what: list[str]) -> dict:
    args = [find("ffprobe"), "-v", "warning", "-hide_banner", *GLOBAL_GUARDS, "-max_streams", str(lim.max_streams)]
    guards = {**INPUT_GUARDS, **sandbox.picture_guards(lim.max_pixels, max(lim.max_width, lim.max_height))}
    for option, value in guards.items():
        args += [f"-{option}", value]
    args += [*what, "-of", "json", f"file:{path}"]
    try:
        done = subprocess.run(
            args, capture_output=True, timeout=60, preexec_fn=limits(lim.memory_mb), stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise BadMedia("Reading the file took too long; it may be damaged. Upload it again.") from exc
    stderr = done.stderr.decode(errors="replace")
    if EXTERNAL_TRACK in stderr.lower():
        raise BadMedia(
            "The file refers to media stored in other files, which Conveyor never opens. "
            "Export it as one self-contained file and upload that."
        )
    oversized = sandbox.oversized_picture(stderr)
    if oversized:  # the decoder skipped it: judged here, as the header's size is
        _enforce_size(*oversized, lim)
    if done.returncode != 0:
        raise BadMedia(_explain(stderr, lim))
    try:
        return json.loads(done.stdout or b"{}")
    except ValueError as exc:
        raise BadMedia("The file could not be read as a video.") from exc


def _explain(stderr: str, lim: Limits) -> str:
    """Turn ffprobe's complaint into a sentence an uploader can act on."""
    text = stderr.lower()
    if "exceeds max_streams" in text:
        return f"The file has more than {lim.max_streams} streams; the limit is {lim.max_streams}."
    if "moov atom not found" in text:
        return "The file is incomplete or damaged (its MP4 index is missing). Upload the whole file again."
    if "not on whitelist" in text or "invalid data found" in text:
        return f"This file is not a video Conveyor can read. Upload {ACCEPTED}."
    return "The file could not be read as a video; it may be damaged. Upload it again or convert it first."


def _interpret(report: dict) -> MediaInfo:
    fmt = report.get("format") or {}
    demuxer = str(fmt.get("format_name", ""))
    if not set(demuxer.split(",")) & set(ALLOWED_DEMUXERS):
        raise BadMedia(f"Unsupported container. Upload {ACCEPTED}.")
    streams = report.get("streams") or []
    video = next((s for s in streams if s.get("codec_type") == "video" and not _is_cover_art(s)), None)
    if video is None:
        if any(s.get("codec_type") == "audio" for s in streams):
            raise BadMedia("The file holds sound only, no video. Conveyor converts videos.")
        raise BadMedia("The file has no video stream.")
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    width = _display_width(video, width, height)  # the stored picture's shape first, then its turn
    if _rotation(video) in (90, 270):
        width, height = height, width
    duration = _float(fmt.get("duration")) or _float(video.get("duration"))
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    return MediaInfo(
        demuxer=demuxer.split(",")[0],
        duration=duration,
        width=width,
        height=height,
        frame_rate=_rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")),
        has_audio=audio is not None,
        frames=int(_float(video.get("nb_frames"))),
        stream=int(video.get("index") or 0),
        colour=_colour(video),
        audio_channels=int(_float((audio or {}).get("channels"))),
        subtitles=tuple(_subtitle(s) for s in streams if s.get("codec_type") == "subtitle"),
        video_codec=str(video.get("codec_name") or "unknown"),
        audio_codec=str((audio or {}).get("codec_name") or ("unknown" if audio else "")),
    )


def _colour(stream: dict) -> Colour:
    def tag(name: str) -> str:
        value = str(stream.get(name) or "")
        return "" if value in ("unknown", "unspecified", "reserved") else value

    peak = 0.0
    for side in stream.get("side_data_list") or []:
        if "max_content" in side:  # content light level: MaxCLL, cd/m2
            peak = _float(side["max_content"]) or peak
        elif "max_luminance" in side and not peak:  # mastering display: "1000/1" or "10000000/10000"
            peak = _rate(side["max_luminance"])
    return Colour(tag("color_transfer"), tag("color_primaries"), tag("color_space"), tag("color_range"), peak)


def _subtitle(stream: dict) -> SubtitleTrack:
    tags = {str(k).lower(): str(v) for k, v in (stream.get("tags") or {}).items()}
    language = tags.get("language", "")
    disposition = stream.get("disposition") or {}
    return SubtitleTrack(
        index=int(stream.get("index") or 0),
        codec=str(stream.get("codec_name") or "unknown"),
        language="" if language in ("und", "unk") else language,
        title=tags.get("title", ""),
        default=bool(disposition.get("default")),
        forced=bool(disposition.get("forced")),
    )


def _enforce(info: MediaInfo, report: dict, lim: Limits) -> None:
    if info.width < 2 or info.height < 2:
        raise BadMedia("The video stream has no usable picture size; the file is damaged or claims an impossible one.")
    if info.duration <= 0:
        raise BadMedia("The video has no duration; the file may be damaged or empty.")
    if info.duration > lim.max_duration:
        raise BadMedia(f"The video is longer than the limit of {span(lim.max_duration)}.")
    _enforce_size(info.width, info.height, lim)
    if info.frame_rate > lim.max_frame_rate:
        raise BadMedia(f"The frame rate is {info.frame_rate:.0f} fps; the limit is {lim.max_frame_rate:.0f}.")
    if info.frames > lim.max_duration * lim.max_frame_rate:
        raise BadMedia(f"The video claims {info.frames} frames, more than the limits on length and frame rate allow.")
    if len(report.get("streams") or []) > lim.max_streams:
        raise BadMedia(f"The file has more than {lim.max_streams} streams; the limit is {lim.max_streams}.")


def _enforce_size(width: int, height: int, lim: Limits) -> None:
    if width > lim.max_width or height > lim.max_height:
        raise BadMedia(f"The picture is {width}x{height}; the limit is {lim.max_width}x{lim.max_height}.")
    if width * height > lim.max_pixels:
        raise BadMedia(
            f"The picture is {width}x{height}, {width * height:,} pixels; the limit is {lim.max_pixels:,} pixels."
        )


def _enforce_pictures(info: MediaInfo, pictures: list[dict], lim: Limits) -> None:
    """What the first pictures really are: there must be some, more than one, no bigger than allowed."""
    if not pictures:
        raise BadMedia("No picture in the file could be decoded; it is damaged or holds no video frames.")
    for picture in pictures:
        _enforce_size(int(picture.get("width") or 0), int(picture.get("height") or 0), lim)
    if len(pictures) == 1:
        raise BadMedia("The file holds a single picture, not a moving video. Upload a video clip.")


def _is_cover_art(stream: dict) -> bool:
    return bool((stream.get("disposition") or {}).get("attached_pic"))


def _rotation(stream: dict) -> int:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return int(abs(_float(side["rotation"]))) % 360
    return int(abs(_float((stream.get("tags") or {}).get("rotate")))) % 360


def _display_width(stream: dict, width: int, height: int) -> int:
    """Apply a non-square sample aspect ratio so the picture keeps its shape."""
    sar = _rate(stream.get("sample_aspect_ratio"), sep=":")
    return round(width * sar) if sar and abs(sar - 1) > 0.01 else width


def span(seconds: float) -> str:
    """`14400` -> "4 hours", `90` -> "90 seconds": a limit as a person would say it, never rounded."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:g} second{'s' if seconds != 1 else ''}"


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _rate(value, sep: str = "/") -> float:
    try:
        num, den = str(value).split(sep)
        return float(Fraction(int(num), int(den))) if int(den) else 0.0
    except (ValueError, ZeroDivisionError):
        return 0.0
