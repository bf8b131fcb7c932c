"""Chunks of one video encoded by separate runs join into the stream one run would have made: the
same segments, numbers, IDR instants and pictures, decodable from the first chunk's init segment."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from media import chunks, command, playlists, remux
from media.binaries import find
from media.chunks import Chunk
from media.hls import HlsLadder
from media.ladder import Rung
from media.outputs import EncodeSettings, Span, Storyboard
from media.probe import Limits, probe
from media.runner import RunLimits, run
from tests.media import flashes_and_beeps, make_sync_clip, streams

SECONDS = 20
RUNGS = [Rung(320, 180)]
FAST = EncodeSettings(preset="veryfast")  # the default preset: B-frames, so pictures shown out of decode order


@pytest.mark.parametrize(
    ("duration", "chunk_seconds", "expected"),
    [
        (24, 12, [(0, 12, 1), (12, 12, 4)]),
        (26, 12, [(0, 12, 1), (12, 14, 4)]),  # a 2 s remainder joins the last chunk
        (30, 12, [(0, 12, 1), (12, 12, 4), (24, 6, 7)]),  # half a chunk or more is a chunk of its own
        (7.5, 60, [(0, 7.5, 1)]),  # shorter than a chunk: one
        (3601.2, 120, None),
    ],
)
def test_chunks_start_on_segment_boundaries_and_cover_the_video(duration, chunk_seconds, expected):
    planned = chunks.plan(duration, chunk_seconds)
    if expected is not None:
        assert [(c.span.start, c.span.duration, c.first_segment) for c in planned] == expected
    assert planned[0].span.start == 0 and all(c.span.start % 4 == 0 for c in planned)
    assert sum(c.span.duration for c in planned) == pytest.approx(duration)
    for before, after in zip(planned, planned[1:], strict=False):
        assert after.span.start == before.span.start + before.span.duration
        assert after.first_segment == before.first_segment + before.segments
    assert [c.number for c in planned] == list(range(len(planned))) and planned[-1].last


def packets(path: Path) -> list[dict]:
    done = subprocess.run(
        [find("ffprobe"), "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags",
         "-of", "json", str(path)],
        capture_output=True, check=True, timeout=60,
    )
    return json.loads(done.stdout)["packets"]


def encode(source: Path, root: Path, chunk: Chunk | None) -> HlsLadder:
    info = probe(source, Limits())
    if chunk is None:
        ladder = HlsLadder.plan(info, RUNGS, root, FAST)
        ladder = HlsLadder(ladder.root, ladder.rungs, None)  # video alone, as a chunk is
        span = Span()
    else:
        ladder, span = HlsLadder.plan_chunk(info, RUNGS, root, chunk, FAST), chunk.span
    duration = span.duration or info.duration
    run(command.build(source, info, ladder.outputs, span), duration, lambda _: None, lambda: None, RunLimits(120))
    for rung in ladder.rungs:
        playlists.finalize(rung.path)
    return ladder


def stream_file(folder: Path, init: Path, names: list[str], into: Path) -> Path:
    with into.open("wb") as out:
        for part in [init, *(folder / name for name in names)]:
            out.write(part.read_bytes())
    return into


def joined_download(parts: list[HlsLadder], audio_playlist: Path, work: Path) -> Path:
    """The chunks' segments in one folder with the first chunk's init segment and their joined final
    playlist, as storage holds a chunked stream; copied with the audio into one MP4."""
    folder = work / "joined"
    folder.mkdir()
    (folder / "init.mp4").write_bytes(parts[0].rungs[0].init_segment.read_bytes())
    for part in parts:
        for name, _ in playlists.segments(part.rungs[0].path.read_text()):
            (folder / name).write_bytes((part.rungs[0].folder / name).read_bytes())
    texts = [part.rungs[0].path.read_text() for part in parts]
    (folder / "index.m3u8").write_text(playlists.final(playlists.joined(texts)))
    return remux.mp4_from_hls(folder / "index.m3u8", audio_playlist, work / "download.mp4")


@pytest.fixture(scope="module")
def encoded(clips, tmp_path_factory):
    source = clips("chunked-source", width=320, height=180, seconds=SECONDS)
    work = tmp_path_factory.mktemp("chunks")
    whole = encode(source, work / "whole", None)
    planned = chunks.plan(SECONDS, 8)  # 0-8, 8-16, 16-20
    parts = [encode(source, work / f"chunk{c.number}", c) for c in planned]
    return whole, parts, work


def test_chunks_join_into_the_segments_one_run_makes(encoded):
    whole, parts, work = encoded
    one = playlists.segments(whole.rungs[0].path.read_text())
    texts = [part.rungs[0].path.read_text() for part in parts]
    joined = playlists.joined(texts)
    listed = playlists.segments(joined)
    assert [uri for uri, _ in listed] == [uri for uri, _ in one] == [f"seg_{n:05d}.m4s" for n in range(1, 6)]
    assert [d for _, d in listed] == pytest.approx([d for _, d in one], abs=0.001)
    assert not playlists.is_final(joined) and joined.count("#EXT-X-MAP") == 1, "open until `final` says"
    assert playlists.segments(playlists.final(joined)) == listed

    folders = {name: part.rungs[0].folder for part in parts for name, _ in
               playlists.segments(part.rungs[0].path.read_text())}
    merged = work / "merged"
    merged.mkdir()
    for name, folder in folders.items():
        (merged / name).write_bytes((folder / name).read_bytes())
    chunked = stream_file(merged, parts[0].rungs[0].init_segment, list(folders), work / "chunked.mp4")
    reference = stream_file(whole.rungs[0].folder, whole.rungs[0].init_segment, [u for u, _ in one], work / "one.mp4")
    got, want = packets(chunked), packets(reference)
    assert len(got) == len(want) == SECONDS * 25, "every picture once: none lost or doubled at a boundary"
    key_times = [round(float(p["pts_time"]), 3) for p in got if "K" in p["flags"]]
    assert key_times == [round(float(p["pts_time"]), 3) for p in want if "K" in p["flags"]]
    assert len(key_times) == SECONDS // 2, "an IDR every 2 s, straight across the chunks"
    times = sorted(float(p["pts_time"]) for p in got)
    assert all(0.039 < b - a < 0.041 for a, b in zip(times, times[1:], strict=False)), "no gap, no overlap"


def test_the_joined_stream_decodes_from_the_first_chunks_init_segment(encoded):
    _, parts, work = encoded
    chunked = work / "chunked.mp4"
    done = subprocess.run(
        [find("ffmpeg"), "-v", "error", "-i", str(chunked), "-f", "null", "-"], capture_output=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr == b"", done.stderr.decode(errors="replace")[-500:]


@pytest.mark.parametrize("interval", [2, 3])
def test_the_chunks_storyboard_thumbnails_are_the_whole_runs(clips, tmp_path, interval):
    """Each chunk takes the thumbnails that fall in it, at the same instants as one run: laid end to
    end they are the whole storyboard (3 s thumbnails straddle the 8 s chunk boundaries)."""
    source = clips("chunked-source", width=320, height=180, seconds=SECONDS)
    info = probe(source, Limits())
    whole = Storyboard.of(info, tmp_path / "whole.yuv", interval=interval)
    run(command.build(source, info, [whole]), info.duration, lambda _: None, lambda: None, RunLimits(60))
    parts = []
    for chunk in chunks.plan(SECONDS, 8):
        part = replace(whole, path=tmp_path / f"chunk{chunk.number}.yuv", span=chunk.span)
        run(command.build(source, info, [part], chunk.span), chunk.span.duration, lambda _: None, lambda: None,
            RunLimits(60))
        parts.append(part)
    assert [list(p.indices) for p in parts] == (
        [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] if interval == 2 else [[0, 1, 2], [3, 4, 5], [6]]
    )
    frame = whole.layout.width * whole.layout.height * 3 // 2
    joined = b"".join(p.path.read_bytes() for p in parts)
    expected = whole.path.read_bytes()
    assert len(joined) == len(expected) == whole.layout.count * frame
    difference = np.abs(np.frombuffer(joined, np.uint8).astype(int) - np.frombuffer(expected, np.uint8).astype(int))
    assert difference.mean() < 1.0, "the same pictures, decoded after a seek"


def test_chunked_video_and_the_audio_made_once_remux_into_a_download_of_the_whole(encoded, clips, tmp_path):
    """The MP4 download of a chunked video: the chunks' segments joined, the audio's (one run, no
    picture decoded), copied into one file as long as the source, the picture and the sound with it."""
    _, parts, work = encoded
    source = clips("chunked-source", width=320, height=180, seconds=SECONDS)
    info = probe(source, Limits())
    audio = HlsLadder.plan_audio(info, tmp_path / "stream")
    args = command.build(source, info, audio.outputs)
    assert "split" not in " ".join(args) and "0:v" not in " ".join(args), "the audio run maps no picture"
    run(args, info.duration, lambda _: None, lambda: None, RunLimits(60))
    playlists.finalize(audio.audio.path)
    download = joined_download(parts, audio.audio.path, tmp_path)
    found = {s["codec_type"]: s for s in streams(download)}
    assert float(found["video"]["duration"]) == pytest.approx(SECONDS, abs=1 / 25 + 0.001), "within a frame"
    assert int(found["video"]["nb_frames"]) == SECONDS * 25
    assert float(found["audio"]["duration"]) == pytest.approx(SECONDS, abs=0.05)


def test_picture_and_sound_stay_together_across_chunk_boundaries(tmp_path):
    """A flash and a beep every 4 s, at the chunk boundaries (8 s, 16 s) too: after the chunks are
    joined with the audio made once, each flash is shown within a frame of its beep."""
    source = make_sync_clip(tmp_path / "sync.mp4", seconds=SECONDS, width=320, height=180)
    info = probe(source, Limits())
    planned = chunks.plan(info.duration, 8)
    parts = [encode(source, tmp_path / f"chunk{c.number}", c) for c in planned]
    audio = HlsLadder.plan_audio(info, tmp_path / "audio-run")
    run(command.build(source, info, audio.outputs), info.duration, lambda _: None, lambda: None, RunLimits(60))
    playlists.finalize(audio.audio.path)
    download = joined_download(parts, audio.audio.path, tmp_path)
    shown, heard = flashes_and_beeps(download)
    flashes = [f for n, f in enumerate(shown) if n == 0 or f - shown[n - 1] > 0.1]  # onsets (one lasts 2 frames)
    beeps = [b for b in heard if b < SECONDS - 0.5]  # not the silence's end at the end of the file
    assert [round(f) for f in flashes] == [round(b) for b in beeps] == [0, 4, 8, 12, 16], (shown, heard)
    # silencedetect sees a beep start some 20 ms late (its window), the same for every beep
    assert all(abs(f - b) <= 1 / 25 + 0.025 for f, b in zip(flashes, beeps, strict=True)), (flashes, beeps)
