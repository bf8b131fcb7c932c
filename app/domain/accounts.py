"""Account upkeep shared by `flask --app app users ...` and the account page: one rule for each."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func

from app.domain import sessions
from app.domain.errors import Refused
from app.domain.models import User, hash_token
from app.extensions import db

MIN_PASSWORD = 8
MAX_PASSWORD = 256  # the login form takes no more: a longer password could never log in
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")  # one plain address
MAX_EMAIL = 254


class AccountError(Exception):
    """A change refused, with a sentence saying why and what to do instead."""


def find(username: str) -> User:
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        raise AccountError(f"no user {username!r}; `flask --app app users list` shows them")
    return user


def password_problem(password: str) -> str | None:
    """Why `password` can't be used, or None when it can."""
    if len(password) < MIN_PASSWORD:
        return f"must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"must be at most {MAX_PASSWORD} characters"
    if not password.strip():
        return "must not be only spaces"  # the login form would take it for no password at all
    return None


def set_password(user: User, password: str, keep_session: str | None = None) -> None:
    """A new password; every page login of the user ends but `keep_session` (the one that changed it)."""
    problem = password_problem(password)
    if problem:
        raise AccountError(f"the password {problem}")
    user.set_password(password)
    sessions.end_all(user, keep=keep_session)  # commits both at once


def rotate_token(user: User) -> str:
    """A new API token; the old one stops working with this commit, since only one hash is kept."""
    token = user.new_token()
    db.session.commit()
    return token


def check_email(value: str | None) -> str | None:
    """The address notifications go to, trimmed; None for none. One plain address, no display name."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > MAX_EMAIL or not EMAIL.match(value):
        raise Refused(400, "`email` is not an e-mail address.")
    return value


def set_admin(user: User, admin: bool) -> bool:
    """Make or unmake an admin; False when it was so already. Someone must stay able to administer."""
    if user.is_admin == admin:
        return False
    if not admin and _other_admins(user) == 0:
        raise AccountError(
            f"{user.username} is the last admin; make another user an admin first "
            "(`flask --app app users admin NAME --on`)"
        )
    user.is_admin = admin
    db.session.commit()
    return True


def _other_admins(user: User) -> int:
    return db.session.scalar(db.select(func.count(User.id)).where(User.is_admin, User.id != user.id))


def saved_credentials_current(saved: Path) -> bool:
    """Whether the password and token `make run` wrote to `saved` still open the account they name.

    Once either was changed the file shows credentials that no longer work, and the admin has
    chosen their own: `make run` removes it rather than print it.
    """
    fields = dict(line.split(": ", 1) for line in saved.read_text().splitlines() if ": " in line)
    username, password, token = fields.get("user"), fields.get("password"), fields.get("API token")
    if not (username and password and token):
        return False
    user = db.session.scalar(db.select(User).filter_by(username=username))
    return user is not None and user.token_hash == hash_token(token) and user.check_password(password)
