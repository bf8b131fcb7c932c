"""The rendition ladder: which sizes a source is converted to."""

from __future__ import annotations

from media.ladder import plan
from media.probe import MediaInfo


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
