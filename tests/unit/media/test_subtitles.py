"""Subtitle tracks taken out of a source as WebVTT (an ffmpeg run mapping only them), their media
playlists, and the master playlist's subtitle group."""

from __future__ import annotations

from pathlib import Path

import pytest

from media import cues, runner, subtitles
from media.probe import Limits, SubtitleTrack, probe
from tests import subtitled

RUN = runner.RunLimits(timeout=60)


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("subtitled")
    return {
        "mp4": subtitled.mp4_with_mov_text(folder / "movtext.mp4"),
        "mkv": subtitled.mkv_with_ass_and_srt(folder / "assrt.mkv"),
        "ts": subtitled.ts_with_dvb(folder / "dvb.ts"),
    }


def extract(source: Path, folder: Path, **limits) -> list[subtitles.Extracted]:
    info = probe(source, Limits())
    return subtitles.extract(source, info, folder, cues.Limits(duration=info.duration, **limits), lambda: None, RUN)


def test_mov_text_tracks_come_out_as_cues_at_their_times(sources, tmp_path):
    english, french = extract(sources["mp4"], tmp_path)
    assert (english.track.language, english.problem) == ("eng", "")
    assert [(c.start, c.end, c.text) for c in english.cues] == [
        (0.2, 0.9, "Hello <i>there</i>"), (1.0, 1.8, "Second line")
    ]
    assert [(c.start, c.text) for c in french.cues] == [(0.3, "Bonjour &amp; <b>salut</b>")]


def test_ass_and_srt_in_matroska(sources, tmp_path):
    german, english = extract(sources["mkv"], tmp_path)
    assert (german.track.codec, [c.text for c in german.cues]) == ("ass", ["Guten Tag"])
    assert (english.track.codec, english.track.title, len(english.cues)) == ("subrip", "English SDH", 2)


def test_a_bitmap_track_is_not_run_and_is_told_apart(sources, tmp_path):
    info = probe(sources["ts"], Limits())
    assert subtitles.text_tracks(info) == []
    (dvb,) = subtitles.bitmap_tracks(info)
    assert (dvb.codec, dvb.language, subtitles.kind_of(dvb)) == ("dvb_subtitle", "swe", "DVB")
    assert extract(sources["ts"], tmp_path) == []


def test_a_track_over_the_limits_comes_back_with_its_problem(sources, tmp_path):
    english, _ = extract(sources["mp4"], tmp_path, max_cues=1)
    assert english.cues == () and "2 cues; the limit is 1" in english.problem


def test_the_command_maps_only_the_subtitle_streams_under_the_sandbox_guards(sources, tmp_path):
    info = probe(sources["mp4"], Limits())
    args = subtitles.command(sources["mp4"], info, subtitles.text_tracks(info), tmp_path, 1024)
    joined = " ".join(args)
    assert "-protocol_whitelist file" in joined and "-enable_drefs 0" in joined and "-max_alloc" in joined
    assert f"-f mov -i file:{sources['mp4']}" in joined
    assert [args[i + 1] for i, a in enumerate(args) if a == "-map"] == ["0:2", "0:3"]
    assert "-c:s webvtt" in joined and "-vn" not in joined and "libx264" not in joined


def test_the_media_playlist_is_one_segment_as_long_as_the_video():
    text = subtitles.media_playlist("c3.vtt", 9.5)
    assert text.splitlines() == [
        "#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:10", "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD", "#EXTINF:9.500,", "c3.vtt", "#EXT-X-ENDLIST",
    ]


MASTER = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=100,AVERAGE-BANDWIDTH=90,RESOLUTION=256x144,CODECS="avc1.64000C,mp4a.40.2",AUDIO="audio"
144p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=200,AVERAGE-BANDWIDTH=180,RESOLUTION=426x240,CODECS="avc1.640015,mp4a.40.2",AUDIO="audio"
240p/index.m3u8
"""


def test_the_master_names_the_subtitle_group_on_every_variant_and_stays_valid_for_hostile_names():
    renditions = [
        subtitles.Rendition("subtitles/c1.m3u8", "English", "en"),
        subtitles.Rendition("subtitles/c2.m3u8", 'English"\n#EXT-X-X', "en", default=True),
        subtitles.Rendition("subtitles/c3.m3u8", "Signs", "", forced=True),
    ]
    text = subtitles.in_master(MASTER, renditions)
    media = [line for line in text.splitlines() if line.startswith("#EXT-X-MEDIA:TYPE=SUBTITLES")]
    assert media == [
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=YES,'
        'FORCED=NO,URI="subtitles/c1.m3u8"',
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English #EXT-X-X",LANGUAGE="en",DEFAULT=YES,'
        'AUTOSELECT=YES,FORCED=NO,URI="subtitles/c2.m3u8"',
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Signs",DEFAULT=NO,AUTOSELECT=YES,FORCED=YES,'
        'URI="subtitles/c3.m3u8"',
    ]
    variants = [line for line in text.splitlines() if line.startswith("#EXT-X-STREAM-INF")]
    assert len(variants) == 2 and all(line.endswith(',SUBTITLES="subs"') for line in variants)
    assert text.index("TYPE=SUBTITLES") < text.index("#EXT-X-STREAM-INF")
    assert subtitles.in_master(text, renditions) == text  # idempotent
    assert subtitles.in_master(text, []) == MASTER


def test_names_within_the_group_are_unique():
    same = [subtitles.Rendition(f"subtitles/c{i}.m3u8", "English", "en") for i in range(3)]
    text = subtitles.in_master(MASTER, same)
    assert 'NAME="English"' in text and 'NAME="English (2)"' in text and 'NAME="English (3)"' in text


def test_track_kinds_as_people_know_them():
    assert subtitles.kind_of(SubtitleTrack(3, "hdmv_pgs_subtitle")) == "PGS (Blu-ray)"
    assert subtitles.kind_of(SubtitleTrack(3, "mov_text")) == "MP4 text"
