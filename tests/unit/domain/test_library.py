"""The library: a user's videos found by a part of the title, newest first, a page at a time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from app.domain import library
from app.domain.models import Caption, Rendition, Video
from app.extensions import db

TITLES = [
    "Holiday in Rome", "rome by night", "100% pure", "a_b test", "aXb test", "back\\slash", "Lisbon", "ÉTÉ À SÉVILLE",
    "Ωμέγα",
]


@pytest.fixture
def owners(make_user):
    """Alice's videos, one a minute, titled as TITLES (the last the newest); and Bob's, of the same titles."""
    alice, bob = make_user("alice")[0], make_user("bob")[0]
    start = datetime(2026, 1, 1)
    for user in (alice, bob):
        for minute, title in enumerate(TITLES):
            db.session.add(Video(user_id=user.id, title=title, created_at=start + timedelta(minutes=minute)))
    db.session.commit()
    return alice.id, bob.id


def titles(user_id: int, query: str | None, **paging) -> tuple[list[str], int]:
    found, total = library.find(user_id, query=query, limit=paging.get("limit", 50), offset=paging.get("offset", 0))
    return [video.title for video in found], total


def test_every_video_newest_first_without_a_query(owners):
    alice, _ = owners
    assert titles(alice, None) == (TITLES[::-1], len(TITLES))
    assert titles(alice, "") == (TITLES[::-1], len(TITLES))


def test_a_part_of_the_title_in_any_case(owners):
    alice, _ = owners
    assert titles(alice, "ROME") == (["rome by night", "Holiday in Rome"], 2)
    assert titles(alice, "lisb") == (["Lisbon"], 1)
    assert titles(alice, "Paris") == ([], 0)


def test_any_case_beyond_a_to_z(owners):
    """Accents and other scripts too, on SQLite as on PostgreSQL (SQLite's own lower() folds A-Z only)."""
    alice, _ = owners
    assert titles(alice, "été à sé") == (["ÉTÉ À SÉVILLE"], 1)
    assert titles(alice, "ΩΜΈΓΑ") == (["Ωμέγα"], 1)
    assert titles(alice, "ete") == ([], 0)  # an accent is not dropped, only its case


@pytest.mark.parametrize(
    ("query", "found"),
    [("%", ["100% pure"]), ("_", ["a_b test"]), ("a_b", ["a_b test"]), ("\\", ["back\\slash"]), ("0%", ["100% pure"])],
)
def test_wildcards_are_plain_text(owners, query, found):
    alice, _ = owners
    assert titles(alice, query) == (found, len(found))


def test_another_users_videos_are_never_found(owners):
    alice, bob = owners
    mine, _ = library.find(alice, query="rome", limit=50)
    assert {video.user_id for video in mine} == {alice}
    everything, total = library.find(alice, limit=200)
    assert total == len(TITLES) and {video.user_id for video in everything} == {alice}


def test_pages_and_the_total_of_every_match(owners):
    alice, _ = owners
    newest = TITLES[::-1]
    assert titles(alice, None, limit=3) == (newest[:3], len(TITLES))
    assert titles(alice, None, limit=3, offset=3) == (newest[3:6], len(TITLES))
    assert titles(alice, None, limit=3, offset=6) == (newest[6:], len(TITLES))
    assert titles(alice, None, limit=3, offset=100) == ([], len(TITLES))
    assert titles(alice, "test", limit=1, offset=1) == (["a_b test"], 2)


def test_a_page_is_a_few_queries_whatever_its_size(app, owners):
    alice, _ = owners
    for video in db.session.scalars(db.select(Video).where(Video.user_id == alice)):
        db.session.add(Rendition(video_id=video.id, name="144p", width=256, height=144, size=1, key="k"))
        db.session.add(Caption(video_id=video.id, source="upload", language="en", label="English", cues=1))
    db.session.commit()
    db.session.expire_all()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        found, _ = library.find(alice, limit=50)
        shown = [(len(video.renditions), len(video.captions), len(video.deliveries)) for video in found]
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert shown == [(1, 1, 0)] * len(TITLES)
    assert len(statements) <= 5  # the count, the page, its renditions, deliveries and captions
