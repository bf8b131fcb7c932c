"""Page logins kept on the server: the signed cookie carries a random key, the database its hash.

A session ends for good when it is revoked (logout, a new password, an admin's
`flask --app app users sessions NAME --revoke`), when it was idle for `SESSION_IDLE_MINUTES`, or
`SESSION_MAX_HOURS` after its login, whatever its cookie says. The API's Bearer tokens are not
sessions: they live until rotated.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app

from app.domain.models import User, UserSession, hash_token, utcnow
from app.extensions import db

# last_seen_at is written at most this often: not one write per request (event streams, segments)
TOUCH_EVERY = timedelta(seconds=60)


def start(user: User, address: str | None) -> str:
    """A new session for `user`; the key returned goes into the cookie and nowhere else."""
    _prune(user)
    key = secrets.token_urlsafe(32)
    db.session.add(UserSession(key_hash=hash_token(key), user_id=user.id, address=(address or "")[:45]))
    db.session.commit()
    return key


def find(key: object, user_id: str) -> UserSession | None:
    """The live session with this key of the user `user_id`, seen now; None when it ended or never was."""
    if not isinstance(key, str) or not key or len(key) > 128:
        return None
    record = db.session.scalar(db.select(UserSession).filter_by(key_hash=hash_token(key)))
    if record is None or str(record.user_id) != user_id or not live(record):
        return None
    now = utcnow()
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
        db.session.commit()
    return record


def live(record: UserSession, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (
        record.revoked_at is None
        and now - record.last_seen_at < idle_limit()
        and now - record.created_at < lifetime()
    )


def end(key: object) -> None:
    """Revoke the session with this key (logout): its cookie, wherever it was copied, stops working."""
    if isinstance(key, str) and key:
        db.session.execute(
            db.update(UserSession)
            .where(UserSession.key_hash == hash_token(key), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        db.session.commit()


def end_all(user: User, keep: object = None) -> int:
    """Revoke every live session of `user` but the one with key `keep`; how many ended."""
    query = db.update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if isinstance(keep, str) and keep:
        query = query.where(UserSession.key_hash != hash_token(keep))
    ended = db.session.execute(query.values(revoked_at=utcnow())).rowcount
    db.session.commit()
    return ended


def of(user: User) -> list[UserSession]:
    """The user's live sessions, newest first."""
    records = db.session.scalars(
        db.select(UserSession).filter_by(user_id=user.id).order_by(UserSession.created_at.desc())
    ).all()
    now = utcnow()
    return [record for record in records if live(record, now)]


def idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def lifetime() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_MAX_HOURS"])


def _prune(user: User) -> None:
    """Forget the user's sessions that can never come back (revoked or past their lifetime)."""
    cutoff = utcnow() - lifetime()
    db.session.execute(
        db.delete(UserSession).where(
            UserSession.user_id == user.id,
            (UserSession.revoked_at.is_not(None)) | (UserSession.created_at < cutoff),
        )
    )
