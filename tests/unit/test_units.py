"""Small pieces: settings, the rendition ladder, progress, container sniffing."""

from __future__ import annotations

import re

import pytest

from app.config import database_url, parse_renditions
from app.domain.errors import Refused
from app.domain.ingest import clean_filename, container_of
from app.workers.progress import Progress
from media.ladder import plan
from media.probe import MediaInfo


def test_postgres_urls_from_add_ons_are_accepted():
    assert database_url("postgres://u:p@h:5432/d", "/x") == "postgresql+psycopg://u:p@h:5432/d"
    assert database_url("postgresql://u@h/d", "/x") == "postgresql+psycopg://u@h/d"
    assert database_url(None, "/inst") == "sqlite:////inst/conveyor.db"


@pytest.mark.parametrize(("raw", "heights"), [("360,720,1080", [360, 720, 1080]), ("1080p, 360p", [360, 1080])])
def test_renditions_setting(raw, heights):
    assert parse_renditions(raw) == heights


@pytest.mark.parametrize("raw", ["", "abc", "0", "99999", ","])
def test_bad_renditions_setting_is_refused(raw):
    with pytest.raises(RuntimeError, match="RENDITIONS"):
        parse_renditions(raw)


def info(width: int, height: int) -> MediaInfo:
    return MediaInfo("mov", 2.0, width, height, 25.0, True)


def test_ladder_never_goes_above_the_source():
    targets = plan(info(1280, 720), [360, 720, 1080])
    assert [(t.name, t.width, t.height) for t in targets] == [("360p", 640, 360), ("720p", 1280, 720)]


def test_small_source_still_gets_one_rendition_at_its_own_size():
    targets = plan(info(320, 181), [360, 720])
    assert [(t.name, t.width, t.height) for t in targets] == [("180p", 318, 180)]


def test_portrait_keeps_aspect_with_even_width():
    targets = plan(info(1080, 1920), [360, 720])
    assert [(t.width, t.height) for t in targets] == [(202, 360), (404, 720)]
    assert all(t.width % 2 == 0 for t in targets)


def test_progress_only_grows_and_is_throttled():
    now = [0.0]
    writes: list[float] = []
    progress = Progress(writes.append, interval=0.25, clock=lambda: now[0])
    progress.update(0.1)
    progress.update(0.05)  # lower: ignored
    progress.update(0.2)  # too soon: kept, not written
    now[0] = 0.3
    progress.update(0.3)
    assert writes == [0.1, 0.3] and progress.fraction == 0.3


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x00\x00\x00\x20ftypisom" + b"\x00" * 20, "mp4"),
        (b"\x1a\x45\xdf\xa3" + b"\x00" * 20, "matroska"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "avi"),
        (b"FLV\x01", "flv"),
        (b"OggS\x00", "ogg"),
        ((b"\x47" + b"\x00" * 187) * 5, "mpegts"),
        (b"#EXTM3U\n#EXTINF:1,\nhttp://x/a.ts\n", None),
        (b"ffconcat version 1.0\nfile /etc/passwd\n", None),
        (b"hello world", None),
    ],
)
def test_container_sniffing(head, kind):
    assert container_of(head) == kind


@pytest.mark.parametrize(
    ("raw", "refusal"),
    [
        ("C:\\Users\\me\\clip.mp4", "without folders"),
        ("../../x.mp4", "without folders"),
        ("..", "not `.` or `..`"),
        ("a\x00b.mp4", "NUL"),
        ("clip\x1b[2J.mp4", "control characters"),
        ("evil\u202egpj.mp4", "control characters"),
    ],
)
def test_a_filename_that_is_not_a_bare_name_is_refused(raw, refusal):
    with pytest.raises(Refused, match=re.escape(refusal)):
        clean_filename(raw)


@pytest.mark.parametrize(
    "name", ["clip.mp4", " clip.mp4 ", "<img src=x onerror=alert(1)>.mp4", "été 👨\u200d👩\u200d👧.mov", None]
)
def test_a_bare_name_is_kept_as_it_is(name):
    assert clean_filename(name) == (name or "").strip()
