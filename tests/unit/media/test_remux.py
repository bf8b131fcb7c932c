"""MP4 downloads remuxed from the HLS encode: they play, start fast, hold the rung and the audio, and
their packets are the segments' own bytes: nothing is encoded a second time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from media import playlists, remux
from media.hls import HlsLadder
from tests.media import format_name, streams
from tests.unit.media.test_hls import FRAME, HLS_RUNGS, HlsRun, ffprobe, hls_run, joined, veryfast_ladder
from tests.unit.media.test_outputs import top_level_boxes


@pytest.fixture(scope="module")
def converted(clips, tmp_path_factory) -> HlsRun:
    return hls_run(clips, tmp_path_factory)


def finished_copy(folder: Path, into: Path) -> Path:
    """A copy of an HLS folder with its playlists finalized, as the pipeline has it at `ready`."""
    shutil.copytree(folder, into)
    for playlist in into.glob("*/index.m3u8"):
        playlists.finalize(playlist)
    return into


@pytest.fixture(scope="module")
def remuxed(converted, tmp_path_factory) -> tuple[Path, Path]:
    """The 240p rung and the audio copied into one MP4; the HLS folder it came from."""
    folder = tmp_path_factory.mktemp("remux")
    hls = finished_copy(converted.ladder.root, folder / "hls")
    out = remux.mp4_from_hls(hls / "240p" / "index.m3u8", hls / "audio" / "index.m3u8", folder / "240p.mp4")
    return out, hls


def hashes(path: Path, kind: str) -> list[tuple[int, str]]:
    """(size, SHA-256) of every packet of the first stream of `kind`."""
    found = ffprobe(path, "-select_streams", f"{kind}:0", "-show_entries", "packet=size,data_hash",
                    "-show_data_hash", "SHA256")["packets"]
    return [(int(packet["size"]), packet["data_hash"]) for packet in found]


def test_remuxed_mp4_plays_with_the_rungs_picture_and_the_audio(converted, remuxed):
    """An MP4 of H.264 at the rung's size and stereo AAC, as long as the source (within a frame)."""
    out, _ = remuxed
    assert "mp4" in format_name(out).split(",")
    found = streams(out)
    video = [s for s in found if s["codec_type"] == "video"]
    audio = [s for s in found if s["codec_type"] == "audio"]
    assert len(video) == 1 and len(audio) == 1
    assert (video[0]["width"], video[0]["height"]) == (HLS_RUNGS[1].width, HLS_RUNGS[1].height)
    assert video[0]["codec_name"] == "h264"
    assert (audio[0]["codec_name"], audio[0]["channels"]) == ("aac", 2)
    assert float(video[0]["duration"]) == pytest.approx(converted.info.duration, abs=FRAME)
    assert float(video[0]["start_time"]) == float(audio[0]["start_time"]) == 0


def test_remuxed_mp4_is_faststart(remuxed):
    """moov before mdat: a browser plays the download while it arrives."""
    boxes = top_level_boxes(remuxed[0])
    assert boxes.index("moov") < boxes.index("mdat"), boxes


@pytest.mark.parametrize("kind", ["v", "a"])
def test_packets_are_the_segments_own(remuxed, tmp_path, kind):
    """Every video (audio) packet of the MP4 has the size and the bytes of the HLS segments' packet
    in its place: copied, not decoded and encoded again."""
    out, hls = remuxed
    source = joined(hls / ("240p" if kind == "v" else "audio") / "index.m3u8", tmp_path / "segments.mp4")
    mine, theirs = hashes(out, kind), hashes(source, kind)
    assert len(mine) > 50
    assert mine == theirs


def test_the_command_only_copies_and_only_reads_local_playlists(tmp_path):
    """Stream copy for every stream, no encoder named; each playlist read through the file protocol, by
    the hls and mov demuxers only, with faststart on."""
    args = remux.remux_args(tmp_path / "v.m3u8", tmp_path / "a.m3u8", tmp_path / "out.mp4")
    assert args[args.index("-c") + 1] == "copy"
    assert not {"libx264", "aac", "-c:v", "-c:a", "-vcodec", "-acodec", "-vf", "-af", "-filter_complex"} & set(args)
    assert args.count("-i") == 2
    for option, value in (("-protocol_whitelist", "file"), ("-format_whitelist", "hls,mov"), ("-f", "hls")):
        given = [args[i + 1] for i, arg in enumerate(args) if arg == option]
        assert given[:2] == [value, value], option
    assert args[args.index("-movflags") + 1] == "+faststart"


@pytest.fixture(scope="module")
def veryfast(tmp_path_factory) -> HlsLadder:
    return veryfast_ladder(tmp_path_factory)


def test_b_frames_keep_the_mp4_in_sync(veryfast, tmp_path):
    """At the production preset (B-frames, negative composition offsets in the segments) the MP4's
    picture and sound both start at 0, as the source's do."""
    hls = finished_copy(veryfast.root, tmp_path / "hls")
    out = remux.mp4_from_hls(hls / "144p" / "index.m3u8", hls / "audio" / "index.m3u8", tmp_path / "144p.mp4")
    starts = {s["codec_type"]: float(s["start_time"]) for s in streams(out)}
    assert starts == {"video": 0.0, "audio": 0.0}
    boxes = top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")


def test_a_silent_rung_makes_a_video_only_mp4(clips, tmp_path_factory, tmp_path):
    silent = hls_run(clips, tmp_path_factory, audio=False)
    hls = finished_copy(silent.ladder.root, tmp_path / "hls")
    out = remux.mp4_from_hls(hls / "144p" / "index.m3u8", None, tmp_path / "144p.mp4")
    assert [s["codec_type"] for s in streams(out)] == ["video"]
    assert not list(tmp_path.glob("*.part"))


def test_a_growing_playlist_is_refused(converted, tmp_path):
    """An EVENT playlist without ENDLIST would have ffmpeg wait for more segments: finalize it first."""
    with pytest.raises(ValueError, match="finalize it first"):
        remux.mp4_from_hls(converted.ladder.rungs[0].path, None, tmp_path / "out.mp4", timeout=20)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "name", ["../other/seg.m4s", "/etc/passwd", "file:/etc/passwd", "http://127.0.0.1/seg.m4s", ".hidden.m4s"]
)
def test_a_playlist_naming_anything_but_its_own_files_is_refused(converted, tmp_path, name):
    """Before ffmpeg opens it, a playlist must name plain files beside it, all present."""
    hls = finished_copy(converted.ladder.root, tmp_path / "hls")
    playlist = hls / "144p" / "index.m3u8"
    playlist.write_text(playlist.read_text().replace("seg_00002.m4s", name))
    with pytest.raises(ValueError, match="not a file beside it"):
        remux.mp4_from_hls(playlist, None, tmp_path / "out.mp4", timeout=20)
    assert not (tmp_path / "out.mp4").exists() and not (tmp_path / "out.mp4.part").exists()


def test_a_missing_segment_is_refused(converted, tmp_path):
    hls = finished_copy(converted.ladder.root, tmp_path / "hls")
    (hls / "144p" / "seg_00002.m4s").unlink()
    with pytest.raises(ValueError, match="missing"):
        remux.mp4_from_hls(hls / "144p" / "index.m3u8", None, tmp_path / "out.mp4", timeout=20)
