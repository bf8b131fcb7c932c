"""`flask --app app users ...`: accounts, their API tokens and their page logins."""

from __future__ import annotations

import re

import click
from flask.cli import AppGroup
from sqlalchemy import func

from app.domain import accounts, sessions
from app.domain.errors import Refused
from app.domain.models import User, Video
from app.extensions import db

users = AppGroup("users", help="Manage users and their API tokens.")

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
    try:  # the account page's and the API's rule
        email = accounts.check_email(email)
    except Refused as exc:
        raise click.BadParameter("not an e-mail address (one plain address, no display name)",
                                 param_hint="--email") from exc
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
    click.echo(f"password of {name} changed; every page login of {name} has ended")


@users.command("token")
@click.argument("name")
def token_command(name: str) -> None:
    """Issue a new API token, the last line printed; the old one stops working at once."""
    token = accounts.rotate_token(_find(name))
    click.echo(f"new API token of {name}; the old one no longer works:")
    click.echo(token)


@users.command("sessions")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="End them all: each of its browsers must log in again.")
def sessions_command(name: str, revoke: bool) -> None:
    """A user's page logins (started, last seen, from where); with --revoke, end them all."""
    user = _find(name)
    if revoke:
        ended = sessions.end_all(user)
        click.echo(f"{ended} session{'' if ended == 1 else 's'} of {name} ended")
        return
    live = sessions.of(user)
    if not live:
        click.echo(f"{name} is not logged in anywhere")
        return
    click.echo("started\tlast seen\tfrom")
    for record in live:
        started = record.created_at.isoformat(timespec="seconds")
        seen = record.last_seen_at.isoformat(timespec="seconds")
        click.echo(f"{started}\t{seen}\t{record.address or '?'}")


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
