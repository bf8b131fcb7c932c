"""`flask --app app videos convert FILE --user NAME [--wait]`: convert a local file."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import AppGroup

from app.domain import dispatch, ingest
from app.domain.errors import Refused
from app.domain.models import User, Video
from app.domain.presenters import video_json
from app.domain.states import State
from app.extensions import db
from app.platform.storage import get_storage

videos = AppGroup("videos", help="Convert videos from the command line.")


@videos.command("convert")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", required=True, help="Owner of the video.")
@click.option("--title", default=None)
@click.option("--wait", is_flag=True, help="Show progress until the conversion ends.")
@click.option("--normalize-loudness", is_flag=True, help="Bring the sound to EBU R128 loudness (-16 LUFS).")
def convert(file: Path, username: str, title: str | None, wait: bool, normalize_loudness: bool) -> None:
    """Enqueue a local video file for conversion."""
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    try:
        video = ingest.from_file(user, file, title=title, normalize_loudness=normalize_loudness)
    except Refused as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"queued video {video.id}")
    if wait:
        _follow(video.id)


def _follow(video_id: str) -> None:
    with click.progressbar(length=1000, label="converting", show_percent=True) as bar:
        while True:
            db.session.expire_all()
            video = db.session.get(Video, video_id)
            shown = video_json(video, dispatch.running_progress(video))
            bar.update(int(shown["status"] * 1000) - bar.pos)
            if State(video.state).is_final:
                break
            time.sleep(0.5)
    click.echo(f"{video.state}")
    if video.state == State.READY.value:
        for rendition in video.renditions:
            click.echo(f"{rendition.name}\t{rendition.width}x{rendition.height}\t{get_storage().uri(rendition.key)}")
    elif video.error:
        raise click.ClickException(video.error)
