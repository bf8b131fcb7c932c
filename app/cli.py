"""`flask --app app users ...` and `flask --app app videos ...`."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func

from app import accounts, queueing
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
    _check_password(password)
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


@users.command("password")
@click.argument("name")
@click.option(
    "--password",
    prompt="New password (at least 8 characters)",
    hide_input=True,
    confirmation_prompt=True,
    help="At least 8 characters; leave it out to be asked twice, hidden (it stays out of the shell's history).",
)
def password_command(name: str, password: str) -> None:
    """Set a user's password."""
    user = _find(name)
    _check_password(password)
    accounts.set_password(user, password)
    click.echo(f"password of {name} changed")


@users.command("token")
@click.argument("name")
def token_command(name: str) -> None:
    """Issue a new API token, the last line printed; the old one stops working at once."""
    token = accounts.rotate_token(_find(name))
    click.echo(f"new API token of {name}; the old one no longer works:")
    click.echo(token)


@users.command("list")
def list_command() -> None:
    """Every user: name, admin or not, e-mail, when created, number of videos."""
    videos_of = db.select(func.count(Video.id)).where(Video.user_id == User.id).scalar_subquery()
    rows = db.session.execute(db.select(User, videos_of).order_by(User.username)).all()
    if not rows:
        click.echo("no users yet; add one with `flask --app app users create NAME --password PW`")
        return
    click.echo("name\tadmin\temail\tcreated\tvideos")
    for user, count in rows:
        created = user.created_at.isoformat(timespec="seconds")
        click.echo(f"{user.username}\t{'yes' if user.is_admin else 'no'}\t{user.email or ''}\t{created}\t{count}")


@users.command("admin")
@click.argument("name")
@click.option("--on/--off", "admin", default=None, help="--on makes NAME an admin, --off makes it a plain user.")
def admin_command(name: str, admin: bool | None) -> None:
    """Make a user an admin (--on) or a plain user (--off); the last admin stays one."""
    if admin is None:
        raise click.UsageError("say --on to make the user an admin, or --off to make it a plain user")
    user = _find(name)
    try:
        changed = accounts.set_admin(user, admin)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    state = "an admin" if admin else "a plain user"
    click.echo(f"{name} is {state} now" if changed else f"{name} is {state} already")


def _find(name: str) -> User:
    try:
        return accounts.find(name)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc


def _check_password(password: str) -> None:
    problem = accounts.password_problem(password)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")


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
