"""`flask --app app blocklist add|import|list|remove`: the content check's list, for admins."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func

from app.domain.blocklist import BlocklistError, add_file, import_hashes, remove
from app.domain.models import BlocklistEntry, BlocklistHash, ContentMatch
from app.extensions import db

blocklist = AppGroup("blocklist", help="Manage the hashes of pictures that must never be published.")


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
