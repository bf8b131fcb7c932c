"""Ingest checks: which containers a file's first bytes announce, and which filenames are bare names."""

from __future__ import annotations

import re

import pytest

from app.domain.callback_urls import check as check_callback_url
from app.domain.errors import Refused
from app.domain.ingest import clean_filename, clean_text, container_of


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
        *[(f"clip{ch}.mp4", "control characters") for ch in "\u200b\u200e\u200f\u202a\u202d\u2060\u2066\u2069\ufeff"],
        ("\u061cclip.mp4", "control characters"),
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


@pytest.mark.parametrize("mark", ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2060",
                                  "\u2066", "\u2069", "\ufeff", "\u061c", "\u00ad"])
def test_titles_lose_invisible_and_direction_marks(mark):
    assert clean_text(f"Holi{mark}day 2024", 200, "title") == "Holiday 2024"


@pytest.mark.parametrize(
    "url",
    ["https://example.com/a b", "https://example.com/a\r\nX-Injected: 1", "https://example.com/\nx",
     "https://exa mple.com/", "https://example.com/\tx", "https://example.com/\x7f", "https://example.com/\u2028x",
     "https://example.com/\u00a0x", "https://example.com/\u200bx"],
)
def test_a_callback_url_with_spaces_or_controls_is_refused(url):
    with pytest.raises(Refused, match="spaces, line breaks or control characters"):
        check_callback_url(url)


def test_a_callback_url_is_trimmed_and_kept():
    assert check_callback_url(" https://example.com/hook?a=1%20b \n") == "https://example.com/hook?a=1%20b"
