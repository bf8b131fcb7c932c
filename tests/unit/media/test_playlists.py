"""Playlists: the master names every rung truthfully, codec strings come from the encode, finalize
closes a growing playlist once and for all, and the parser reads what ffmpeg writes."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import pytest

from media import playlists
from media.hls import HlsRung
from media.playlists import AudioRendition, Variant
from tests.unit.media.test_hls import HLS_RUNGS, ffprobe, joined, listed


def attributes(text: str) -> dict[str, str]:
    """An HLS attribute list (`A=1,B="x,y"`) as a dict, quotes removed."""
    return {key: value.strip('"') for key, value in re.findall(r'([A-Z0-9-]+)=("[^"]*"|[^",]*)', text)}


def parse_master(text: str) -> tuple[list[str], list[dict[str, str]], list[tuple[dict[str, str], str]]]:
    """(header tags, EXT-X-MEDIA attribute lists, (EXT-X-STREAM-INF attributes, URI) pairs)."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0] == "#EXTM3U", lines[:1]
    media, variants, header = [], [], []
    for number, line in enumerate(lines):
        if line.startswith("#EXT-X-MEDIA:"):
            media.append(attributes(line.split(":", 1)[1]))
        elif line.startswith("#EXT-X-STREAM-INF:"):
            uri = lines[number + 1]
            assert not uri.startswith("#"), uri
            variants.append((attributes(line.split(":", 1)[1]), uri))
        elif line.startswith("#") and not variants:
            header.append(line)
    return header, media, variants


def peak(playlist: Path) -> float:
    """The playlist's peak segment bit rate, as RFC 8216 defines it: the highest bit rate of any run of
    consecutive segments lasting 0.5 to 1.5 target durations."""
    target = int(re.search(r"#EXT-X-TARGETDURATION:(\d+)", playlist.read_text()).group(1))
    found = [((playlist.parent / uri).stat().st_size * 8, duration) for uri, duration in listed(playlist)]
    rates = []
    for first in range(len(found)):
        for last in range(first, len(found)):
            bits = sum(size for size, _ in found[first : last + 1])
            seconds = sum(duration for _, duration in found[first : last + 1])
            if 0.5 * target <= seconds <= 1.5 * target:
                rates.append(bits / seconds)
    return max(rates)


def average(playlist: Path) -> float:
    found = [((playlist.parent / uri).stat().st_size * 8, duration) for uri, duration in listed(playlist)]
    return sum(size for size, _ in found) / sum(duration for _, duration in found)


@pytest.fixture(scope="module")
def masters(converted) -> dict[str, str]:
    """The master playlist as written while processing (estimates) and at the end (measured)."""
    early = playlists.write_master(converted.ladder).read_text()
    final = playlists.write_master(converted.ladder, measured=True).read_text()
    return {"estimated": early, "measured": final}


@pytest.mark.parametrize("which", ["estimated", "measured"])
def test_master_names_every_rung(converted, masters, which):
    """Version 7, independent segments, the audio group, and for each rung in ladder order its playlist,
    BANDWIDTH, AVERAGE-BANDWIDTH, RESOLUTION, CODECS (H.264 + AAC), FRAME-RATE and the audio group."""
    header, media, variants = parse_master(masters[which])
    assert "#EXT-X-VERSION:7" in header and "#EXT-X-INDEPENDENT-SEGMENTS" in header
    (audio,) = media
    assert (audio["TYPE"], audio["GROUP-ID"], audio["URI"]) == ("AUDIO", "audio", "audio/index.m3u8")
    assert (converted.ladder.root / audio["URI"]).is_file()
    assert [uri for _, uri in variants] == [f"{rung.name}/index.m3u8" for rung in HLS_RUNGS]
    for (found, uri), rung in zip(variants, converted.ladder.rungs, strict=True):
        assert (converted.ladder.root / uri).is_file()
        assert int(found["BANDWIDTH"]) >= int(found["AVERAGE-BANDWIDTH"]) > 0
        assert found["RESOLUTION"] == f"{rung.rung.width}x{rung.rung.height}"
        assert found["CODECS"] == f"{playlists.codec_string(rung.init_segment)},mp4a.40.2"
        assert re.fullmatch(r"avc1\.[0-9A-F]{6},mp4a\.40\.2", found["CODECS"])
        assert found["FRAME-RATE"] == "25.000"
        assert found["AUDIO"] == "audio"


@pytest.mark.parametrize("which", ["estimated", "measured"])
def test_bandwidth_is_never_below_a_measured_peak(converted, masters, which):
    """BANDWIDTH covers the rung's peak segment bit rate plus the audio's, measured from the files, both
    while processing (from the rate cap) and at the end."""
    _, _, variants = parse_master(masters[which])
    audio_peak = peak(converted.ladder.audio.path)
    for (found, _), rung in zip(variants, converted.ladder.rungs, strict=True):
        assert int(found["BANDWIDTH"]) >= peak(rung.path) + audio_peak, rung.rung.name


def test_measured_average_bandwidth_is_what_the_segments_hold(converted, masters):
    """At the end AVERAGE-BANDWIDTH is the rung's and the audio's bits over their time (within 1 %)."""
    _, _, variants = parse_master(masters["measured"])
    for (found, _), rung in zip(variants, converted.ladder.rungs, strict=True):
        expected = average(rung.path) + average(converted.ladder.audio.path)
        assert int(found["AVERAGE-BANDWIDTH"]) == pytest.approx(expected, rel=0.01)


def test_measure_follows_the_rfc_definition(tmp_path):
    """A short last segment isn't a run of its own: it counts with the one before it."""
    sizes = {"a.m4s": 400_000, "b.m4s": 500_000, "c.m4s": 200_000}  # 0.8, 1.0, 1.6 Mbit/s
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"\0" * size)
    playlist = tmp_path / "index.m3u8"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\na.m4s\n#EXTINF:4.0,\nb.m4s\n#EXTINF:1.0,\nc.m4s\n"
    )
    found = playlists.measure(playlist)
    assert found.peak == math.ceil((500_000 + 200_000) * 8 / 5)  # b+c: 1.12 Mbit/s; c alone is too short
    assert found.average == math.ceil(1_100_000 * 8 / 9)


def test_codec_string_matches_the_encoded_stream(converted, tmp_path):
    """avc1.PPCCLL: the profile and level ffprobe reads from the rung's pictures, with the constraint
    flags of the profile (Constrained Baseline: constraint_set1 set)."""
    names = {66: "Baseline", 77: "Main", 100: "High"}
    for rung in converted.ladder.rungs:
        code = playlists.codec_string(rung.init_segment)
        (video,) = ffprobe(joined(rung.path, tmp_path / "rung.mp4"), "-show_streams")["streams"]
        profile, flags, level = int(code[5:7], 16), int(code[7:9], 16), int(code[9:11], 16)
        assert video["profile"].endswith(names[profile]), (code, video["profile"])
        assert level == video["level"]
        if video["profile"] == "Constrained Baseline":
            assert flags & 0x40


def test_master_without_audio_names_no_audio(silent):
    """A silent video's master has no audio group, no AUDIO attribute and no AAC codec."""
    text = playlists.write_master(silent.ladder, measured=True).read_text()
    _, media, variants = parse_master(text)
    assert media == []
    assert len(variants) == len(HLS_RUNGS)
    for found, _ in variants:
        assert "AUDIO" not in found
        assert re.fullmatch(r"avc1\.[0-9A-F]{6}", found["CODECS"])


def test_master_adds_the_audio_to_each_variant():
    """A variant's figures are its video's plus the audio's; the frame rate has three decimals."""
    video = Variant("720p/index.m3u8", 1280, 720, 30000 / 1001, "avc1.64001F", 5_000_000, 2_000_000)
    audio = AudioRendition("audio/index.m3u8", 150_000, 128_000)
    _, media, variants = parse_master(playlists.master([video], audio))
    ((found, uri),) = variants
    assert (int(found["BANDWIDTH"]), int(found["AVERAGE-BANDWIDTH"])) == (5_150_000, 2_128_000)
    assert found["FRAME-RATE"] == "29.970" and found["CODECS"] == "avc1.64001F,mp4a.40.2"
    assert media[0]["URI"] == "audio/index.m3u8" and uri == "720p/index.m3u8"


def test_declared_peak_covers_the_buffer():
    """A rung declares its cap plus the buffer it may spend in one segment: bufsize = 2 x maxrate, so
    half as much again over a 4 s segment (and the fMP4 boxes)."""
    rung = HlsRung(HLS_RUNGS[1], Path("/nowhere"), 25)
    assert rung.buffer_size == 2 * rung.max_rate
    assert rung.peak_rate >= 1.5 * rung.max_rate
    assert HlsRung(HLS_RUNGS[1], Path("/nowhere"), 60).max_rate > rung.max_rate  # more pictures a second


# ---- finalize -----------------------------------------------------------------------------------


@pytest.fixture
def growing(converted, tmp_path) -> Path:
    """A copy of a rung's playlist as ffmpeg left it: EVENT, no ENDLIST."""
    return Path(shutil.copy(converted.ladder.rungs[0].path, tmp_path / "index.m3u8"))


def test_finalize_makes_a_vod_playlist(growing):
    before = growing.read_text()
    assert playlists.finalize(growing) is True
    text = growing.read_text()
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and "EVENT" not in text
    assert text.splitlines()[-1] == "#EXT-X-ENDLIST" and text.count("#EXT-X-ENDLIST") == 1
    assert playlists.segments(text) == playlists.segments(before)
    assert playlists.init_segment_uri(text) == "init.mp4"
    assert playlists.is_final(text) and not playlists.is_final(before)


def test_finalizing_twice_changes_nothing(growing):
    playlists.finalize(growing)
    once = growing.read_bytes()
    modified = growing.stat().st_mtime_ns
    assert playlists.finalize(growing) is False
    assert growing.read_bytes() == once
    assert growing.stat().st_mtime_ns == modified
    assert not list(growing.parent.glob("*.tmp"))


def test_finalize_completes_what_ffmpeg_ended_itself(tmp_path):
    """A playlist ffmpeg closed (ENDLIST, still EVENT) or that names no type gets VOD and one ENDLIST."""
    ended = tmp_path / "ended.m3u8"
    ended.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:4.0,\na.m4s\n#EXT-X-ENDLIST\n")
    untyped = tmp_path / "untyped.m3u8"
    untyped.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\na.m4s\n")
    for playlist in (ended, untyped):
        playlists.finalize(playlist)
        lines = playlist.read_text().splitlines()
        assert lines.count("#EXT-X-PLAYLIST-TYPE:VOD") == 1 and lines.count("#EXT-X-ENDLIST") == 1
        assert lines.index("#EXT-X-PLAYLIST-TYPE:VOD") < lines.index("#EXTINF:4.0,")
        assert playlists.finalize(playlist) is False


def test_finalize_refuses_what_is_not_a_playlist(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    with pytest.raises(ValueError, match="not an HLS playlist"):
        playlists.finalize(other)
    assert other.read_text() == "hello\n"


# ---- the parser ---------------------------------------------------------------------------------


def test_segments_reads_uris_and_durations():
    """Each #EXTINF's duration with the URI after it, whatever tags and blank lines sit between."""
    text = "\n".join([
        "#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:4", '#EXT-X-MAP:URI="init.mp4"',
        "#EXTINF:4.000000,", "seg_00001.m4s",
        "#EXT-X-DISCONTINUITY", "#EXTINF:3.5,a title, with a comma", "#EXT-X-BYTERANGE:1000@0", "", "seg_00002.m4s",
        "# a comment", "#EXTINF:0.52,", "seg_00003.m4s", "#EXT-X-ENDLIST", "",
    ])
    assert playlists.segments(text) == [("seg_00001.m4s", 4.0), ("seg_00002.m4s", 3.5), ("seg_00003.m4s", 0.52)]
    assert playlists.init_segment_uri(text) == "init.mp4"
    assert playlists.segments("#EXTM3U\n") == []
