"""A video's captions and subtitles: the text tracks of its upload (taken out by the conversion) and
the caption files its owner adds, each kept as WebVTT and offered in its HLS stream.

Each is a `Caption` row and two files of the stream, `subtitles/c<id>.vtt` (its cues, with the
X-TIMESTAMP-MAP header HLS asks for) and `subtitles/c<id>.m3u8` (its media playlist: one segment as
long as the video); an added caption is kept as well under `videos/<id>/captions/` (which a
withdrawn stream leaves alone: a rejected video released by an admin gets it back). The master
playlist names them as it is served (app/streams.py asks `in_master`): a caption added to a ready
video is in it at once, one added while processing by the time the video is ready, with nothing to
rewrite and no race with the job that writes the master. Deleting the video deletes them with every
other file of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import langcodes
from flask import current_app

from app.domain import streams
from app.domain.errors import Refused
from app.domain.models import Caption, Video
from app.domain.states import State
from app.extensions import db
from app.platform.storage import StorageError, get_storage
from media import cues, runner, subtitles
from media.probe import MediaInfo, SubtitleTrack

log = logging.getLogger(__name__)

UPLOAD, FILE = "upload", "file"
MAX_UPLOADED = 20  # caption files one video may have
MAX_LABEL = 80
MAX_LANGUAGE = 35
KINDS = {".vtt": "vtt", ".srt": "srt"}
TAKES_CAPTIONS = frozenset({State.QUEUED, State.PROCESSING, State.READY})


def stream_name(caption: Caption, ext: str) -> str:
    return f"{subtitles.FOLDER}/c{caption.id}.{ext}"


def kept_key(caption: Caption) -> str:
    return f"videos/{caption.video_id}/captions/c{caption.id}.vtt"


def limits(duration: float) -> cues.Limits:
    cfg = current_app.config
    return cues.Limits(max_bytes=cfg["MAX_CAPTION_KB"] * 1024, max_cues=cfg["MAX_CAPTION_CUES"], duration=duration)


def language_tag(raw: str | None) -> str:
    """A BCP 47 tag as its registry spells it (`pt-br` -> `pt-BR`, `eng` -> `en`); Refused (400) if it
    isn't one."""
    text = (raw or "").strip()
    if not text:
        raise Refused(400, "Say which language the captions are in: `language`, a tag such as en or pt-BR.")
    problem = "`language` must be a language tag such as en, fr or pt-BR (BCP 47)."
    if len(text) > MAX_LANGUAGE or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in text):
        raise Refused(400, problem)
    try:
        valid = langcodes.tag_is_valid(text)
        tag = langcodes.standardize_tag(text) if valid else ""
    except ValueError:  # langcodes' LanguageTagError: not even shaped like a tag
        tag = ""
    if not tag or tag in ("und", "zxx") or len(tag) > MAX_LANGUAGE:
        raise Refused(400, problem)
    return tag


def file_language(tagged: str) -> str:
    """An upload's track language (ISO 639-2 mostly, `eng`, `fre`) as BCP 47; "" when it isn't one."""
    try:
        return language_tag(tagged)
    except Refused:
        return ""


def clean_label(raw: str | None, fallback: str) -> str:
    """A label a player can show: one line, no quotes or control characters, not too long."""
    label = subtitles.quoted(raw or "", MAX_LABEL)
    return label or fallback


def add(video: Video, data: bytes, *, filename: str | None, language: str | None, label: str | None) -> Caption:
    """Check a caption file and add it to the video, in place of one in the same language. Refused
    (4xx) with what is wrong."""
    if State(video.state) not in TAKES_CAPTIONS:
        raise Refused(409, f"The video is {video.state}; captions can be added to a queued, processing or ready video.")
    if not video.duration:
        raise Refused(409, "The video's length isn't known yet: add captions once it is processing.")
    tag = language_tag(language)
    kind = _kind(filename)
    try:
        read = cues.parse(data, limits(video.duration), kind)
    except cues.CueError as exc:
        status = 413 if str(exc).startswith("The file is ") else 400
        raise Refused(status, f"The caption file was refused: {exc}") from exc
    earlier = _uploaded(video, tag)
    if earlier is None and sum(1 for c in video.captions if c.source == UPLOAD) >= MAX_UPLOADED:
        raise Refused(409, f"The video has {MAX_UPLOADED} caption files, the most it may; delete one first.")
    caption = Caption(source=UPLOAD, language=tag, label=clean_label(label, tag), cues=len(read))
    video.captions.append(caption)
    db.session.flush()  # its id names its files
    text = cues.to_webvtt(read, hls=True)
    storage = get_storage()
    try:
        storage.put_text(kept_key(caption), text)
        _publish(caption, text, video.duration)
    except (StorageError, OSError):
        db.session.rollback()
        _delete_files(caption)
        raise
    if earlier is not None:
        video.captions.remove(earlier)
    db.session.commit()
    if earlier is not None:
        _delete_files(earlier)
    log.info("video %s: captions %s added (%d cues)", video.id, tag, len(read))
    return caption


def remove(video: Video, language: str) -> None:
    """Delete the caption file in `language` the owner added; Refused (404) when there is none."""
    try:
        tag = language_tag(language)
    except Refused:
        tag = ""
    caption = _uploaded(video, tag) if tag else None
    if caption is None:
        raise Refused(404, "The video has no caption file in that language.")
    video.captions.remove(caption)
    db.session.commit()
    _delete_files(caption)


def take_out(
    video: Video, source: Path, info: MediaInfo, work: Path, run_limits: runner.RunLimits, check: Callable[[], None]
) -> None:
    """The upload's subtitle tracks, in a run of their own (no picture decoded): the text ones kept and
    published, the bitmap ones noted. Before `ready`, by the job that has the source."""
    if not info.subtitles:
        return
    extracted = subtitles.extract(source, info, work / subtitles.FOLDER, limits(info.duration), check, run_limits)
    keep_tracks(video, extracted, subtitles.bitmap_tracks(info))


def keep_tracks(video: Video, extracted: list[subtitles.Extracted], bitmaps: list[SubtitleTrack]) -> None:
    """What the conversion took out of the upload: each text track published (in place of an earlier
    attempt's), and a note for each one left out; then the added captions published again (a stream
    withdrawn and made anew keeps them)."""
    for old in [c for c in video.captions if c.source == FILE]:
        video.captions.remove(old)
        _delete_files(old)
    for number, found in enumerate(extracted, start=1):
        if found.problem:
            video.add_note(f"The {describe(found.track)} was left out: {found.problem}.")
            continue
        language = file_language(found.track.language)
        fallback = f"Subtitles {number}" if not language else language
        caption = Caption(
            source=FILE, language=language, label=clean_label(found.track.title, fallback),
            # an upload's "default" flag is not followed: Matroska sets it on nearly every track, which
            # would turn captions on for every viewer; "forced" (lines meant for everyone) is
            track=found.track.index, default=False, forced=found.track.forced, cues=len(found.cues),
        )
        video.captions.append(caption)
        db.session.flush()
        _publish(caption, cues.to_webvtt(list(found.cues), hls=True), video.duration or 0.0)
    for track in bitmaps:
        video.add_note(
            f"The {describe(track)} was left out: it is made of pictures, not text, so it can't become "
            "WebVTT captions. Add them as a .vtt or .srt caption file instead."
        )
    db.session.commit()
    storage = get_storage()
    for caption in [c for c in video.captions if c.source == UPLOAD]:
        try:
            text = storage.read_bytes(kept_key(caption)).decode("utf-8")
        except FileNotFoundError:
            log.warning("video %s: caption %s has no file; left out", video.id, caption.id)
            continue
        _publish(caption, text, video.duration or 0.0)


def describe(track: SubtitleTrack) -> str:
    """`DVB subtitle track #2 (language sv, "Signs")`, as a note shows it."""
    kind = subtitles.kind_of(track)
    language = file_language(track.language) or track.language
    said = [f"language {language}" if language else "no language given", *([f'"{track.title}"'] if track.title else [])]
    return f"{kind} subtitle track #{track.index} ({', '.join(said)})"


def in_master(video_id: str, master_text: str) -> str:
    """The master playlist as served: with the video's captions as its subtitle group."""
    rows = db.session.scalars(db.select(Caption).where(Caption.video_id == video_id).order_by(Caption.id)).all()
    renditions = [
        subtitles.Rendition(
            stream_name(c, "m3u8"), c.label or c.language or "Subtitles", c.language, c.default, c.forced
        )
        for c in rows
    ]
    return subtitles.in_master(master_text, renditions)


def _publish(caption: Caption, text: str, duration: float) -> None:
    storage = get_storage()
    storage.put_text(streams.key(caption.video_id, stream_name(caption, "vtt")), text)
    playlist = subtitles.media_playlist(f"c{caption.id}.vtt", duration)
    storage.put_text(streams.key(caption.video_id, stream_name(caption, "m3u8")), playlist)


def _delete_files(caption: Caption) -> None:
    """Best effort: storage that is away leaves them for the video's delete."""
    storage = get_storage()
    keys = [streams.key(caption.video_id, stream_name(caption, ext)) for ext in ("m3u8", "vtt")]
    for key in [*keys, *([kept_key(caption)] if caption.source == UPLOAD else [])]:
        try:
            storage.delete(key)
        except (StorageError, OSError) as exc:
            log.warning("caption %s: %s not removed (%s)", caption.id, key, exc)


def _uploaded(video: Video, tag: str) -> Caption | None:
    return next((c for c in video.captions if c.source == UPLOAD and c.language == tag), None)


def _kind(filename: str | None) -> str:
    name = (filename or "").lower()
    ext = name[name.rfind(".") :] if "." in name else ""
    if ext not in KINDS:
        raise Refused(415, "Send a WebVTT (.vtt) or SubRip (.srt) caption file.")
    return KINDS[ext]

