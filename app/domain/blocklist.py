"""The blocklist, managed by admins: `flask --app app blocklist add|import|list|remove`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func

from app.extensions import db
from app.models import BlocklistEntry, BlocklistHash, ContentMatch

if TYPE_CHECKING:  # numpy costs every web process 16 MiB; only jobs and commands load it
    import numpy as np

    from jobs import fingerprint

blocklist = AppGroup("blocklist", help="Manage the hashes of pictures that must never be published.")

NOTE_LIMIT = 500
SAME_PICTURE = 8  # a video's frames closer than this to one kept already add nothing


class BlocklistError(Exception):
    """Input the blocklist can't take; the message says why."""


def distinct_hashes(hashes: fingerprint.Hashes) -> list[str]:
    """Hex hashes of the frames with enough detail to recognize, without near-repeats."""
    import numpy as np

    from jobs import fingerprint

    kept: list[np.ndarray] = []
    for index in np.flatnonzero(hashes.quality >= fingerprint.MIN_QUALITY):
        words = hashes.words[index]
        if not kept or fingerprint.distances(words[None, :], np.array(kept)).min() > SAME_PICTURE:
            kept.append(words)
    return [fingerprint.to_hex(words) for words in kept]


def add_file(path: Path, note: str = "") -> BlocklistEntry:
    """Hash an image, or every sampled frame of a video, into one entry."""
    from jobs import fingerprint

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
    from jobs import fingerprint

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


@blocklist.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--note", default="", help="Why it is listed, for admins reviewing a match.")
def add_command(file: Path, note: str) -> None:
    """Hash an image or a video (its frames, twice a second) into the blocklist."""
    try:
        entry = add_file(file, note)
    except BlocklistError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"added blocklist entry {entry.id}: {len(entry.hashes)} hash(es) from {file.name}")
    for item in entry.hashes:
        click.echo(item.hash)


@blocklist.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--note", default="", help="Note for hashes whose line has none.")
def import_command(file: Path, note: str) -> None:
    """Import 256-bit hashes in hex, one per line (`HEX [note]`; `#` starts a comment)."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file} is not a text file of hex hashes") from exc
    try:
        added, skipped = import_hashes(text.splitlines(), source=file.name, note=note)
    except BlocklistError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"imported {added} hash(es) from {file.name}" + (f"; {skipped} listed already" if skipped else ""))


@blocklist.command("list")
def list_command() -> None:
    """Every entry: id, when added, hashes, matches, source and note."""
    hashes = db.select(func.count(BlocklistHash.id)).where(BlocklistHash.entry_id == BlocklistEntry.id)
    matches = db.select(func.count(ContentMatch.id)).where(ContentMatch.entry_id == BlocklistEntry.id)
    rows = db.session.execute(
        db.select(BlocklistEntry, hashes.scalar_subquery(), matches.scalar_subquery()).order_by(BlocklistEntry.id)
    ).all()
    if not rows:
        click.echo("the blocklist is empty")
        return
    click.echo("id\tadded\thashes\tmatches\tsource\tnote")
    for entry, hash_count, match_count in rows:
        added = entry.created_at.isoformat(timespec="seconds")
        click.echo(f"{entry.id}\t{added}\t{hash_count}\t{match_count}\t{entry.source}\t{entry.note}")


@blocklist.command("remove")
@click.argument("entry_id", type=click.IntRange(min=1), metavar="ID")
def remove_command(entry_id: int) -> None:
    """Remove an entry and its hashes; videos it rejected stay rejected until released."""
    try:
        remove(entry_id)
    except BlocklistError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"removed blocklist entry {entry_id}")
