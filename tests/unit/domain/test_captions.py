"""The domain's side of captions: language tags, labels, notes, and what a retry of the conversion
does to the tracks it took out."""

from __future__ import annotations

import json

import pytest

from app.domain import captions
from app.domain.errors import Refused
from app.domain.models import Caption
from app.extensions import db
from media import cues, subtitles
from media.probe import SubtitleTrack


@pytest.mark.parametrize(
    ("raw", "tag"),
    [("en", "en"), ("pt-br", "pt-BR"), (" EN-gb ", "en-GB"), ("eng", "en"), ("zh-hant-tw", "zh-Hant-TW")],
)
def test_language_tags_are_spelled_as_the_registry_has_them(raw, tag):
    assert captions.language_tag(raw) == tag


@pytest.mark.parametrize("raw", ["", "english", "xx-QQ", "en-", "und", "<b>", "en_US", "a" * 40, "\u00e9n"])
def test_what_is_not_a_language_tag_is_refused(raw):
    with pytest.raises(Refused) as refused:
        captions.language_tag(raw)
    assert refused.value.status == 400


def test_file_languages_become_tags_or_nothing():
    assert (captions.file_language("fre"), captions.file_language("ger"), captions.file_language("q!")) == (
        "fr", "de", ""
    )


def test_labels_are_one_quotable_line():
    assert captions.clean_label(' Fran\u00e7ais "CA"\r\n#EXT ', "fr") == "Fran\u00e7ais CA #EXT"
    assert captions.clean_label("  ", "fr") == "fr"
    assert len(captions.clean_label("x" * 500, "fr")) == captions.MAX_LABEL


def test_a_note_says_which_track_its_language_and_why(app, video):
    track = SubtitleTrack(4, "hdmv_pgs_subtitle", "swe", "Signs")
    captions.keep_tracks(video, [], [track])
    (note,) = json.loads(video.notes)
    assert note.startswith('The PGS (Blu-ray) subtitle track #4 (language sv, "Signs") was left out: it is made of')


def test_a_retry_replaces_the_tracks_an_earlier_attempt_took_out(app, video):
    video.duration = 2.0
    found = subtitles.Extracted(SubtitleTrack(2, "subrip", "eng"), (cues.Cue(0.0, 1.0, "Hi"),))
    captions.keep_tracks(video, [found], [])
    first = [c.id for c in video.captions]
    captions.keep_tracks(video, [found], [])
    rows = db.session.scalars(db.select(Caption)).all()
    assert len(rows) == 1 and rows[0].id not in first and (rows[0].language, rows[0].label) == ("en", "en")


def test_a_track_that_could_not_be_read_is_noted(app, video):
    video.duration = 2.0
    broken = subtitles.Extracted(SubtitleTrack(3, "ass", ""), problem="it holds no text")
    captions.keep_tracks(video, [broken], [])
    assert json.loads(video.notes) == ["The ASS subtitle track #3 (no language given) was left out: it holds no text."]
    assert video.captions == []
