"""Timed text as Conveyor keeps it: WebVTT or SubRip (SRT) read into cues, checked, their text
cleaned, and written back as WebVTT, the one format a stream's players read.

Everything here is hostile input (a user's caption file, a subtitle track of an upload), so the
reader is strict and says where a file goes wrong (`line 12: ...`), and the writer emits only
WebVTT's own markup: the cue tags `c`, `i`, `b`, `u`, `v`, `lang`, `ruby`, `rt` and timestamp tags,
character references, and the standard cue settings. Any other `<...>` is kept as text (`&lt;...`),
STYLE and REGION blocks, comments and cue identifiers are dropped.

Written by hand rather than with a library: webvtt-py (0.6, the maintained one) drops a malformed
cue without a word, reports no line numbers, reads cue times as whole seconds and takes SRT times
with a digit missing; a caption file refused here must say what is wrong and where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SLACK_SECONDS = 1.0  # a cue may end this long after the video does (a caption fading out)
HLS_TIMESTAMP_MAP = "X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000"  # cue time 0 is the stream's time 0

_VTT_TIME = re.compile(r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})")
_SRT_TIME = re.compile(r"(\d{1,3}):([0-5]\d):([0-5]\d)[,.](\d{3})")
_TIMING = re.compile(r"^(\S+)[ \t]+-->[ \t]+(\S+)(?:[ \t]+(.*))?$")
_SETTINGS = {
    "vertical": re.compile(r"rl|lr"),
    "line": re.compile(r"(?:-?\d+|(?:\d{1,2}(?:\.\d+)?|100)%)(?:,(?:start|center|end))?"),
    "position": re.compile(r"(?:\d{1,2}(?:\.\d+)?|100)%(?:,(?:line-left|center|line-right))?"),
    "size": re.compile(r"(?:\d{1,2}(?:\.\d+)?|100)%"),
    "align": re.compile(r"start|center|end|left|right"),
}
_TAG = re.compile(r"<([^<>]*)>")
_OPEN_TAG = re.compile(r"(c|i|b|u|ruby|rt|v|lang)((?:\.[A-Za-z0-9_-]+)*)(?:[ \t]+([^<>]*))?")
_CLOSE_TAG = re.compile(r"/(c|i|b|u|ruby|rt|v|lang)")
_REFERENCE = re.compile(r"&(?:amp|lt|gt|nbsp|lrm|rlm|quot|apos|#\d{1,7}|#[xX][0-9A-Fa-f]{1,6});")
_SRT_FONT = re.compile(r"</?font(?:\s[^<>]*)?>", re.IGNORECASE)
_ASS_OVERRIDE = re.compile(r"\{\\[^{}]*\}")  # `{\an8}` and the like, left in SRT files by converters
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class CueError(ValueError):
    """The text is not usable timed text; the message says what and, where it can, on which line."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 1024 * 1024
    max_cues: int = 20_000
    duration: float = 0.0  # the video's, s: no cue may end after it (+ SLACK_SECONDS); 0: not checked


@dataclass(frozen=True)
class Cue:
    start: float  # s
    end: float
    text: str  # WebVTT cue text, cleaned
    settings: str = ""  # WebVTT cue settings, cleaned
    line: int = 0  # where its timing line was in the file read


def parse(data: bytes, limits: Limits, kind: str = "") -> list[Cue]:
    """The cues of a WebVTT or SRT file, checked against `limits`, in order of start time. Which of the
    two it is, its first line tells (a `.srt` that is really WebVTT is read as WebVTT); `kind` "vtt"
    insists on WebVTT. Raises CueError."""
    if len(data) > limits.max_bytes:
        raise CueError(f"The file is {_kb(len(data))}; the limit is {_kb(limits.max_bytes)}.")
    lines = _lines(_decode(data))
    webvtt = _is_webvtt(lines[0] if lines else "")
    if kind == "vtt" and not webvtt:
        raise CueError("line 1: a WebVTT file starts with the line WEBVTT.")
    cues = _parse_vtt(lines) if webvtt else _parse_srt(lines)
    if not cues:
        raise CueError("The file holds no cues.")
    if len(cues) > limits.max_cues:
        raise CueError(f"The file holds {len(cues)} cues; the limit is {limits.max_cues}.")
    if limits.duration > 0:
        for cue in cues:
            if cue.end > limits.duration + SLACK_SECONDS:
                raise CueError(
                    f"line {cue.line}: the cue ends at {timestamp(cue.end)}, after the video's end at "
                    f"{timestamp(limits.duration)}."
                )
    return sorted(cues, key=lambda cue: (cue.start, cue.end))


def to_webvtt(cues: list[Cue], hls: bool = False) -> str:
    """The cues as a WebVTT file; `hls`: with the header line HLS asks of a subtitle segment."""
    head = ["WEBVTT", *([HLS_TIMESTAMP_MAP] if hls else []), ""]
    body = []
    for cue in cues:
        timing = f"{timestamp(cue.start)} --> {timestamp(cue.end)}" + (f" {cue.settings}" if cue.settings else "")
        body += [timing, *cue.text.split("\n"), ""]
    return "\n".join(head + body) + "\n"


def timestamp(seconds: float) -> str:
    """`3.5` -> `00:00:03.500`."""
    ms = round(seconds * 1000)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _kb(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} bytes"


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CueError(f"line {line}: the file is not UTF-8 text; save it as UTF-8 and send it again.") from exc
    return text.removeprefix("\ufeff").replace("\x00", "\ufffd")


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _is_webvtt(first: str) -> bool:
    return first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t"))


def _blocks(lines: list[str], first: int) -> list[tuple[int, list[str]]]:
    """(1-based number of its first line, its lines) of each run of non-blank lines from `first`."""
    found, block, start = [], [], 0
    for number, line in enumerate(lines[first:], start=first + 1):
        if line.strip():
            if not block:
                start = number
            block.append(line)
        elif block:
            found.append((start, block))
            block = []
    if block:
        found.append((start, block))
    return found


def _parse_vtt(lines: list[str]) -> list[Cue]:
    header_end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    for number, line in enumerate(lines[1:header_end], start=2):
        if "-->" in line:
            raise CueError(f"line {number}: a blank line must come between the WEBVTT line and the first cue.")
    cues = []
    for start, block in _blocks(lines, header_end):
        first = block[0]
        if first.startswith("NOTE") and (len(first) == 4 or first[4] in " \t"):
            continue
        if first in ("STYLE", "REGION") or first.startswith(("STYLE ", "REGION ", "STYLE\t", "REGION\t")):
            continue
        timing_at = 0 if "-->" in first else 1
        if timing_at >= len(block) or "-->" not in block[timing_at]:
            raise CueError(f"line {start}: expected a cue timing line like 00:00:01.000 --> 00:00:04.000.")
        number = start + timing_at
        for offset, text_line in enumerate(block[timing_at + 1 :], start=number + 1):
            if "-->" in text_line:
                raise CueError(f"line {offset}: a cue's text can't hold '-->'; put a blank line before the next cue.")
        begin, end, settings = _timing(block[timing_at], number, _VTT_TIME, "00:00:01.000")
        cues.append(Cue(begin, end, _clean_text(block[timing_at + 1 :]), _clean_settings(settings), number))
    return cues


def _parse_srt(lines: list[str]) -> list[Cue]:
    cues = []
    for start, block in _blocks(lines, 0):
        timing_at = 1 if len(block) > 1 and block[0].strip().isdigit() else 0
        if "-->" not in block[timing_at]:
            what = "a cue number, then a timing line" if timing_at == 0 else "a timing line"
            raise CueError(f"line {start + timing_at}: expected {what} like 00:00:01,000 --> 00:00:04,000.")
        number = start + timing_at
        begin, end, _ = _timing(block[timing_at], number, _SRT_TIME, "00:00:01,000")
        text = [_ASS_OVERRIDE.sub("", _SRT_FONT.sub("", line)) for line in block[timing_at + 1 :]]
        cues.append(Cue(begin, end, _clean_text(text), "", number))
    return cues


def _timing(line: str, number: int, pattern: re.Pattern, example: str) -> tuple[float, float, str]:
    match = _TIMING.match(line.strip())
    if not match:
        raise CueError(f"line {number}: expected a cue timing line like {example} --> {example[:-5]}4{example[-4:]}.")
    begin, end = (_seconds(part, number, pattern, example) for part in match.group(1, 2))
    if end <= begin:
        raise CueError(f"line {number}: the cue ends ({timestamp(end)}) before it starts ({timestamp(begin)}).")
    return begin, end, match.group(3) or ""


def _seconds(text: str, number: int, pattern: re.Pattern, example: str) -> float:
    match = pattern.fullmatch(text)
    if not match:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise CueError(f"line {number}: {shown!r} is not a time like {example}.")
    hours, minutes, seconds, ms = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds + ms / 1000


def _clean_settings(raw: str) -> str:
    """The standard cue settings, each once; anything else (a region, a typo) dropped."""
    kept: dict[str, str] = {}
    for part in raw.split():
        name, _, value = part.partition(":")
        if name in _SETTINGS and name not in kept and _SETTINGS[name].fullmatch(value):
            kept[name] = value
    return " ".join(f"{name}:{value}" for name, value in kept.items())


def _clean_text(lines: list[str]) -> str:
    """Cue text with only WebVTT's own tags and character references; the rest as text."""
    text = _CONTROL.sub("", "\n".join(line.rstrip() for line in lines))
    out, opened, at = [], [], 0
    for match in _TAG.finditer(text):
        out.append(_escape_text(text[at : match.start()]))
        out.append(_tag(match.group(1), opened))
        at = match.end()
    out.append(_escape_text(text[at:]))
    return "".join(out).strip("\n")


def _tag(inner: str, opened: list[str]) -> str:
    if _VTT_TIME.fullmatch(inner):
        return f"<{inner}>"  # a karaoke-style timestamp
    if match := _OPEN_TAG.fullmatch(inner):
        name, classes, annotation = match.groups()
        if name in ("v", "lang") and annotation:
            opened.append(name)
            return f"<{name}{classes} {_escape_text(annotation.strip())}>"
        if name not in ("v", "lang"):
            opened.append(name)
            return f"<{name}{classes}>"
    if (match := _CLOSE_TAG.fullmatch(inner)) and match.group(1) in opened:
        del opened[len(opened) - 1 - opened[::-1].index(match.group(1))]
        return f"<{inner}>"
    return _escape_text(f"<{inner}>")


def _escape_text(text: str) -> str:
    """`<`, `>` and a bare `&` as character references; references already there kept."""
    out, at = [], 0
    for match in _REFERENCE.finditer(text):
        out.append(_escape_plain(text[at : match.start()]))
        out.append(match.group(0))
        at = match.end()
    out.append(_escape_plain(text[at:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
