"""`flask --app app users ...` and `flask --app app videos ...`."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from app import queueing
from app.blocklist import blocklist
from app.extensions import db
from app.models import User, Video
from app.presenters import video_json
from app.states import State
from app.storage import get_storage
from app.uploads import container_of

users = AppGroup("users", help="Manage users and their API tokens.")
videos = AppGroup("videos", help="Convert videos from the command line.")

_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@users.command("create")
@click.argument("name")
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--email", default=None, help="Where to send notifications.")
@click.option("--admin", is_flag=True, help="May open /rq and manage the service.")
def create_user(name: str, password: str, email: str | None, admin: bool) -> None:
    """Create a user; the API token is the last line printed."""
    if not _USERNAME.match(name):
        raise click.BadParameter("use 1 to 64 letters, digits, '.', '_' or '-'", param_hint="NAME")
    if len(password) < 8:
        raise click.BadParameter("must be at least 8 characters", param_hint="--password")
    if email is not None and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
        raise click.BadParameter("not an e-mail address", param_hint="--email")
    if db.session.scalar(db.select(User).filter_by(username=name)):
        raise click.ClickException(f"user {name!r} exists already")
    user = User(username=name, email=email, is_admin=admin)
    user.set_password(password)
    token = user.new_token()
    db.session.add(user)
    db.session.commit()
    click.echo(f"created {'admin' if admin else 'user'} {name}; API token:")
    click.echo(token)


@videos.command("convert")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", required=True, help="Owner of the video.")
@click.option("--title", default=None)
@click.option("--wait", is_flag=True, help="Show progress until the conversion ends.")
def convert(file: Path, username: str, title: str | None, wait: bool) -> None:
    """Enqueue a local video file for conversion."""
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    with file.open("rb") as source:
        if container_of(source.read(4096)) is None:
            raise click.ClickException(f"{file} is not a video in a container Conveyor accepts")
        source.seek(0)
        video = Video(user_id=user.id, title=(title or file.stem)[:200], filename=file.name[:255])
        db.session.add(video)
        db.session.flush()
        storage = get_storage()
        staged = storage.staging_file()
        with staged:
            shutil.copyfileobj(source, staged, 1024 * 1024)
            video.size = storage.save_staged(video.source_key, staged)
    db.session.commit()
    queueing.enqueue_conversion(video.id)
    click.echo(f"queued video {video.id}")
    if wait:
        _follow(video.id)


def _follow(video_id: str) -> None:
    with click.progressbar(length=1000, label="converting", show_percent=True) as bar:
        while True:
            db.session.expire_all()
            video = db.session.get(Video, video_id)
            live = queueing.live_progress(video_id) if video.state == State.PROCESSING.value else None
            shown = video_json(video, live)
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


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(videos)
    app.cli.add_command(blocklist)
