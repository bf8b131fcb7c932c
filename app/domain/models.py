"""Durable state: users, videos, their work items, renditions and deliveries, the blocklist.

The database is the source of truth.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.domain.states import State
from app.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_video_id() -> str:
    """128 random bits, URL-safe: ids can't be guessed or enumerated."""
    return secrets.token_urlsafe(16)


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(256))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    webhook_secret: Mapped[str] = mapped_column(String(64), default=new_webhook_secret)
    callback_url: Mapped[str | None] = mapped_column(String(2048))  # used when an upload names none

    videos: Mapped[list[Video]] = relationship(back_populates="owner", cascade="all, delete-orphan")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def new_token(self) -> str:
        """Make a fresh API token; only its hash is kept."""
        token = secrets.token_urlsafe(32)
        self.token_hash = hash_token(token)
        return token

    @classmethod
    def by_token(cls, token: str) -> User | None:
        return db.session.execute(db.select(cls).filter_by(token_hash=hash_token(token))).scalar_one_or_none()


class Video(db.Model):
    __tablename__ = "videos"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key", name="uq_videos_user_id_idempotency_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_video_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16), default=State.QUEUED.value, index=True)
    status: Mapped[float] = mapped_column(default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    duration: Mapped[float | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    poster_key: Mapped[str | None] = mapped_column(String(255))
    # its HLS stream is published (every rung has segments): watchable while processing, and at ready
    playable: Mapped[bool] = mapped_column(default=False, server_default=false())
    attempts: Mapped[int] = mapped_column(default=0)
    # the uploader asked for the sound at EBU R128 loudness (-16 LUFS, as streaming services play it)
    normalize_loudness: Mapped[bool] = mapped_column(default=False, server_default=false())
    # what of the upload was left out, for its owner: ["a PGS subtitle track (bitmap) ..."]; JSON, or None
    notes: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))  # the upload's, unique per user
    # failed, and not for the file's sake (its attempts ran out: a worker lost, a timeout, storage
    # down): its owner may convert it again. Bad media or a work budget would fail the same way again
    retryable: Mapped[bool] = mapped_column(default=False, server_default=false())
    # when a final video was queued again (retried, released): its turn among its owner's queued
    # videos counts from then, not from its upload (app/domain/quotas.py)
    requeued_at: Mapped[datetime | None]
    # the source's codecs as ffprobe names them (`h264`, `aac`), once probed; no audio: audio_codec None
    video_codec: Mapped[str | None] = mapped_column(String(32))
    audio_codec: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    owner: Mapped[User] = relationship(back_populates="videos")
    renditions: Mapped[list[Rendition]] = relationship(
        back_populates="video", cascade="all, delete-orphan", order_by="Rendition.height"
    )
    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="video", cascade="all, delete-orphan", order_by="Delivery.created_at"
    )
    work_items: Mapped[list[WorkItem]] = relationship(
        back_populates="video", cascade="all, delete-orphan", order_by="WorkItem.id"
    )
    content_matches: Mapped[list[ContentMatch]] = relationship(  # admins only: see app/domain/content.py
        back_populates="video", cascade="all, delete-orphan", order_by="ContentMatch.matched_at"
    )

    def add_note(self, note: str) -> None:
        """Say, in the video's JSON, what of the upload was left out (and why)."""
        notes = json.loads(self.notes) if self.notes else []
        if note not in notes:
            self.notes = json.dumps([*notes, note])

    @property
    def source_key(self) -> str:
        return f"videos/{self.id}/source"

    @property
    def prefix(self) -> str:
        return f"videos/{self.id}/"

    @property
    def largest_rendition(self) -> Rendition | None:
        return self.renditions[-1] if self.renditions else None

    @classmethod
    def queued_since(cls):
        """When it joined its owner's line: its upload, or when it was queued again."""
        return func.coalesce(cls.requeued_at, cls.created_at)



class WorkItem(db.Model):
    """One piece of a video's conversion, run as one RQ job (see app/domain/plan.py)."""

    __tablename__ = "work_items"
    __table_args__ = (UniqueConstraint("video_id", "kind", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    # what its job does: `whole` (the video in one go); or, for a long video, `chunk` (a part of it),
    # `audio` (all its audio) and `finish` (once all of those are done)
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[int] = mapped_column(default=0)  # its place among the items of its kind, from 0
    weight: Mapped[float] = mapped_column(default=1.0)  # its share of the video's work; a plan's add up to 1
    progress: Mapped[float] = mapped_column(default=0.0)  # 0..1 of its own work, mirrored from its job
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    start: Mapped[float | None]  # a chunk's span of the source, s (media/chunks.py)
    duration: Mapped[float | None]
    result: Mapped[str | None] = mapped_column(Text)  # JSON: what a done chunk made (its playlists)

    video: Mapped[Video] = relationship(back_populates="work_items")


class Rendition(db.Model):
    __tablename__ = "renditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(16))
    width: Mapped[int]
    height: Mapped[int]
    size: Mapped[int]
    key: Mapped[str] = mapped_column(String(255))

    video: Mapped[Video] = relationship(back_populates="renditions")


class Delivery(db.Model):
    """One notification of one event: a signed callback or an e-mail, tried until it lands or gives up."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("video_id", "kind", "event"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_video_id)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # callback | email
    event: Mapped[str] = mapped_column(String(32))  # video.ready, video.failed, ...
    target: Mapped[str] = mapped_column(String(2048))  # the URL or the address, as it was when the event happened
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed | refused
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    video: Mapped[Video] = relationship(back_populates="deliveries")
    log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="delivery", cascade="all, delete-orphan", order_by="DeliveryAttempt.number", lazy="selectin"
    )


class DeliveryAttempt(db.Model):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    code: Mapped[int | None]  # HTTP status for callbacks, SMTP reply code for e-mail
    error: Mapped[str | None] = mapped_column(String(300))

    delivery: Mapped[Delivery] = relationship(back_populates="log")


class BlocklistEntry(db.Model):
    """Something that must never be published: the hashes of a picture, or of a video's frames."""

    __tablename__ = "blocklist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(255), default="")  # the file hashed, or the list imported
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    hashes: Mapped[list[BlocklistHash]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="BlocklistHash.id"
    )
    matches: Mapped[list[ContentMatch]] = relationship(back_populates="entry")  # kept when the entry goes


class BlocklistHash(db.Model):
    __tablename__ = "blocklist_hashes"
    __table_args__ = (UniqueConstraint("entry_id", "hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("blocklist_entries.id", ondelete="CASCADE"), index=True)
    hash: Mapped[str] = mapped_column(String(64), index=True)  # 256 bits, 64 hex digits (media/fingerprint.py)

    entry: Mapped[BlocklistEntry] = relationship(back_populates="hashes")


class ContentMatch(db.Model):
    """Why a video was rejected, for admins' eyes only; releasing it lets the video through."""

    __tablename__ = "content_matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("blocklist_entries.id", ondelete="SET NULL"))
    entry_hash: Mapped[str] = mapped_column(String(64))  # the listed hash, kept if the entry is removed
    frame_hash: Mapped[str] = mapped_column(String(64))
    distance: Mapped[int]
    at_seconds: Mapped[float]  # where in the video the frame is
    mirrored: Mapped[bool] = mapped_column(default=False)  # the frame matched once mirrored left to right
    matched_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    video: Mapped[Video] = relationship(back_populates="content_matches")
    entry: Mapped[BlocklistEntry | None] = relationship(back_populates="matches")
    released_by: Mapped[User | None] = relationship()


class Caption(db.Model):
    """A timed-text track of a video, kept as WebVTT: one of its upload's subtitle tracks (`file`), or a
    caption file its owner added (`upload`; one per language). See app/domain/captions.py."""

    __tablename__ = "captions"

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(8))  # upload | file
    language: Mapped[str] = mapped_column(String(35), default="")  # BCP 47 (`en`, `pt-BR`); "": untagged
    label: Mapped[str] = mapped_column(String(100), default="")
    track: Mapped[int | None]  # the stream's index in the upload (`file`)
    default: Mapped[bool] = mapped_column(default=False)  # shown unless the viewer turns it off
    forced: Mapped[bool] = mapped_column(default=False)  # only the parts in another language (signs, asides)
    cues: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    video: Mapped[Video] = relationship(
        backref=backref("captions", cascade="all, delete-orphan", order_by="Caption.id")
    )


class UserSession(db.Model):
    """A login to the pages: the signed session cookie names it by a random key (only its hash is
    kept here), so that it can be ended for good (logout, a new password, an admin) and expire."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    address: Mapped[str] = mapped_column(String(45), default="")  # where it logged in from, for `users sessions`

    user: Mapped[User] = relationship(backref=backref("sessions", cascade="all, delete-orphan"))
