"""Captions in the page, as a viewer sees them in Chromium: the player's Captions choice lists the
upload's subtitle tracks, off by default, and shows a track's cue when chosen; a caption file added
through the page's form joins it; a bad file comes back as the page's message; nothing of a hostile
label runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import subtitled
from tests.browser.conftest import XSS, ensure_worker

pytestmark = pytest.mark.browser

CHOICE = '.player select[aria-label="Captions"]'


def test_the_player_offers_the_captions_and_the_page_adds_them(stack, visitor, tmp_path: Path):
    ensure_worker(stack)
    clip = subtitled.mkv_with_ass_and_srt(tmp_path / "subtitled.mkv", seconds=3)
    alice = visitor("alice")
    page = alice.page
    video_id = alice.upload(clip, title="With subtitles")
    page.wait_for_selector('[data-role="state"]:text-is("ready")', timeout=180_000)
    page.goto(f"/videos/{video_id}")
    page.wait_for_selector(f"{CHOICE}", state="visible", timeout=30_000)
    options = page.locator(f"{CHOICE} option")
    assert options.all_text_contents() == ["Off", "de", "English SDH (en)"]
    assert page.locator(CHOICE).input_value() == "off"
    assert page.evaluate("[...document.querySelector('.player video').textTracks].map(t => t.mode)") == [
        "disabled", "disabled"
    ]

    # chosen: the English track shows its first cue at 0.5 s
    page.locator(CHOICE).select_option(label="English SDH (en)")
    page.evaluate("() => { const v = document.querySelector('.player video'); v.muted = true; v.currentTime = 0.5; }")
    page.wait_for_function(
        "() => [...document.querySelector('.player video').textTracks].some(t => t.mode === 'showing' && t.cues"
        " && t.cues.length === 2 && t.activeCues && t.activeCues.length === 1)",
        timeout=15_000,
    )
    shown = page.evaluate(
        "[...document.querySelector('.player video').textTracks].find(t => t.mode === 'showing').activeCues[0].text"
    )
    assert shown == "Hello <i>there</i>"

    # a caption file through the page's form, with a hostile label; then a bad one
    page.set_input_files('input[name="file"]', files=[{
        "name": "fr.vtt", "mimeType": "text/vtt", "buffer": b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nSalut\n",
    }])
    page.fill('input[name="language"]', "fr-ca")
    page.fill('input[name="label"]', XSS)
    page.click('button:text-is("Add captions")')
    page.wait_for_selector(".flash-info:has-text('Captions added')")
    page.wait_for_selector(f"{CHOICE} option:has-text('(fr-CA)')", state="attached", timeout=30_000)
    assert page.locator('[data-role="caption-list"] li').count() == 3
    page.set_input_files('input[name="file"]', files=[{
        "name": "bad.srt", "mimeType": "application/x-subrip", "buffer": b"1\n00:00:01,000 -> 00:00:02,000\nx\n",
    }])
    page.fill('input[name="language"]', "en")
    page.click('button:text-is("Add captions")')
    message = page.locator(".flash-error").text_content()
    assert "line 2: expected a timing line" in message
    assert alice.dialogs == [] and alice.errors == []
