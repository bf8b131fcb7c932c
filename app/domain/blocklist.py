"""The blocklist, managed by admins (the commands are `flask --app app blocklist ...`, in app/cli/blocklist.py)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app

from app.domain.models import BlocklistEntry, BlocklistHash
from app.extensions import db

if TYPE_CHECKING:  # numpy costs every web process 16 MiB; only jobs and commands load it
    import numpy as np

    from media import fingerprint


NOTE_LIMIT = 500
SAME_PICTURE = 8  # a video's frames closer than this to one kept already add nothing


class BlocklistError(Exception):
    """Input the blocklist can't take; the message says why."""


def distinct_hashes(hashes: fingerprint.Hashes) -> list[str]:
    """Hex hashes of the frames with enough detail to recognize, without near-repeats."""
    import numpy as np

    from media import fingerprint

    kept: list[np.ndarray] = []
    for index in np.flatnonzero(hashes.quality >= fingerprint.MIN_QUALITY):
        words = hashes.words[index]
        if not kept or fingerprint.distances(words[None, :], np.array(kept)).min() > SAME_PICTURE:
            kept.append(words)
    return [fingerprint.to_hex(words) for words in kept]


def add_file(path: Path, note: str = "") -> BlocklistEntry:
    """Hash an image, or every sampled frame of a video, into one entry."""
    from media import fingerprint

    try:
        # an admin at a terminal waits for a long video as long as it takes (Ctrl-C stops it)
        hashes = fingerprint.hash_media(path, timeout=None, memory_mb=current_app.config["FFMPEG_MEMORY_MB"])
    except fingerprint.Unreadable as exc:
        raise BlocklistError(f"{path} is not an image or a video ffmpeg can read: {exc}") from exc
    found = distinct_hashes(hashes)
    if not found:
        raise BlocklistError(
            f"{path} has no picture with enough detail to recognize (quality under {fingerprint.MIN_QUALITY} "
            "of 100: too dark, flat or small); its hash would match unrelated videos or none"
        )
    entry = BlocklistEntry(note=_note(note), source=path.name[:255], hashes=[BlocklistHash(hash=h) for h in found])
    db.session.add(entry)
    db.session.commit()
    return entry


def parse_lines(lines: Iterable[str]) -> list[tuple[str, str]]:
    """`HEX [note]` lines -> (hash, note); blank lines and `#` comments are skipped. All or nothing."""
    from media import fingerprint

    parsed, problems = [], []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        text, _, note = line.partition(" ")
        try:
            fingerprint.from_hex(text)
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        parsed.append((text.lower(), note.strip()))
    if problems:
        shown = "\n".join(problems[:10]) + (f"\n... and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise BlocklistError(f"nothing imported; fix these lines first:\n{shown}")
    if not parsed:
        raise BlocklistError("no hashes found: write one 64-digit hex hash per line, optionally followed by a note")
    return parsed


def import_hashes(lines: Iterable[str], source: str, note: str = "") -> tuple[int, int]:
    """One entry per new hash; hashes listed already are skipped. Returns (added, skipped)."""
    listed = set(db.session.scalars(db.select(BlocklistHash.hash)))
    added = skipped = 0
    for value, line_note in parse_lines(lines):
        if value in listed:
            skipped += 1
            continue
        listed.add(value)
        entry = BlocklistEntry(note=_note(line_note or note), source=source[:255], hashes=[BlocklistHash(hash=value)])
        db.session.add(entry)
        added += 1
    db.session.commit()
    return added, skipped


def remove(entry_id: int) -> BlocklistEntry:
    entry = db.session.get(BlocklistEntry, entry_id)
    if entry is None:
        raise BlocklistError(f"no blocklist entry {entry_id}; `flask --app app blocklist list` shows them")
    db.session.delete(entry)  # its past matches stay, with the hash that matched
    db.session.commit()
    return entry


def _note(note: str) -> str:
    if len(note) > NOTE_LIMIT:
        raise BlocklistError(f"the note is longer than {NOTE_LIMIT} characters")
    return note
