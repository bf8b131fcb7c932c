"""The HLS ladder on real encodes: IDRs aligned across rungs every 2 s, ~4 s fMP4 segments adding up to
the source, the audio once as its own rendition, and segments that are only ever seen whole.

One conversion makes the ladder, the storyboard and today's outputs (MP4s, poster, samples) from one
decode; test_playlists, test_storyboard and test_remux read its files too (`hls_run`).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import select
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from media import command, fingerprint, playlists
from media.binaries import find
from media.hls import HlsLadder, HlsRung
from media.ladder import Rung
from media.outputs import EncodeSettings, FrameSamples, Mp4Rendition, Output, Poster, Storyboard
from media.probe import Limits, MediaInfo, probe
from media.runner import RunLimits, run
from media.sandbox import ALLOWED_DEMUXERS, MAX_ALLOC_BYTES
from tests.media import streams
from tests.unit.media.conftest import FAST, POSTER_RUNG
from tests.unit.media.test_outputs import top_level_boxes

# a 426x240 source cut into a 144p and a 240p rung, as RENDITIONS=144,240 would plan it
SOURCE = {"seconds": 5, "width": 426, "height": 240}
HLS_RUNGS = (Rung(256, 144), Rung(426, 240))
FRAME = 1 / 25
IDR, NON_IDR = 5, 1  # H.264 NAL unit types of coded slices


@dataclass(frozen=True)
class HlsRun:
    source: Path
    info: MediaInfo
    folder: Path
    args: list[str]
    ladder: HlsLadder
    storyboard: Storyboard
    renditions: list[Mp4Rendition]
    poster: Poster | None
    frames: FrameSamples | None
    outputs: list[Output]


_RUNS: dict[str, HlsRun | HlsLadder] = {}


def hls_run(clips, tmp_path_factory, audio: bool = True) -> HlsRun:
    """The conversion, made once per test session: with audio, today's outputs beside the new ones;
    without, the HLS ladder and the storyboard alone."""
    name = "hls" if audio else "hls-silent"
    if name not in _RUNS:
        source = clips(f"unit-media-{name}", audio=audio, **SOURCE)
        folder = tmp_path_factory.mktemp(name)
        info = probe(source, Limits())
        ladder = HlsLadder.plan(info, list(HLS_RUNGS), folder / "hls", FAST)
        board = Storyboard.of(info, folder / "thumbnails.yuv")
        renditions = [Mp4Rendition(rung, folder / f"{rung.name}.mp4", FAST) for rung in HLS_RUNGS] if audio else []
        poster = Poster.of(info, POSTER_RUNG, folder / "poster.jpg", 5.0) if audio else None
        frames = FrameSamples(folder / "frames.raw") if audio else None
        today = [*renditions, poster, frames] if audio else []
        outputs: list[Output] = [*today, *ladder.outputs, board]
        args = command.build(source, info, outputs)
        done = subprocess.run(args, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
        _RUNS[name] = HlsRun(source, info, folder, args, ladder, board, renditions, poster, frames, outputs)
    return _RUNS[name]


def ffprobe(path: Path, *what: str) -> dict:
    done = subprocess.run(
        [find("ffprobe"), "-v", "error", *what, "-of", "json", str(path)], capture_output=True, check=True, timeout=60
    )
    return json.loads(done.stdout)


def listed(playlist: Path) -> list[tuple[str, float]]:
    return playlists.segments(playlist.read_text())


def joined(playlist: Path, into: Path, upto: int | None = None) -> Path:
    """The init segment and the first `upto` (all) segments of a playlist as one fragmented MP4."""
    names = [playlists.init_segment_uri(playlist.read_text())] + [uri for uri, _ in listed(playlist)][:upto]
    with into.open("wb") as out:
        for name in names:
            out.write((playlist.parent / name).read_bytes())
    return into


def alone(playlist: Path, uri: str, into: Path) -> Path:
    """One segment after the init segment: an MP4 that plays that segment alone, at its own timestamps."""
    into.write_bytes((playlist.parent / "init.mp4").read_bytes() + (playlist.parent / uri).read_bytes())
    return into


def packets(path: Path, kind: str = "v") -> list[dict]:
    return ffprobe(path, "-select_streams", kind, "-show_entries", "packet=pts_time,flags,size")["packets"]


def first_slice_type(segment: Path) -> int:
    """The NAL type of the first coded slice in a segment's media data (4-byte NAL lengths, as x264 writes)."""
    data = segment.read_bytes()
    at = 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if kind == b"mdat":
            nal = at + 8
            while nal + 5 <= at + size:
                length = struct.unpack(">I", data[nal : nal + 4])[0]
                if data[nal + 4] & 0x1F in (IDR, NON_IDR):
                    return data[nal + 4] & 0x1F
                nal += 4 + length
            break
        at += size
    raise AssertionError(f"no coded slice in {segment}")


def split_sizes(graph: str, name: str) -> list[int]:
    return [int(n) for n in re.findall(rf"(?<![a-z]){name}=(\d+)", graph)]


# ---- one command --------------------------------------------------------------------------------


def test_one_decode_feeds_every_output(converted):
    """One `-i`, under the sandbox's guards; the picture split once into a branch per video output, the
    audio split once (asplit) into the two MP4s and the HLS audio; every output written once."""
    args = converted.args
    assert args.count("-i") == 1 and args[args.index("-i") + 1] == f"file:{converted.source}"
    graph = args[args.index("-filter_complex") + 1]
    pictures = [output for output in converted.outputs if output.wants_picture]
    assert len(pictures) == 7  # 2 MP4s, poster, samples, 2 HLS rungs, storyboard
    # the decoded picture split once, first; the samples split their own 2 fps (frames, and the size)
    assert split_sizes(graph, "split") == [7, 2], graph
    assert split_sizes(graph, "asplit") == [3], graph
    for output in converted.outputs:
        assert args.count(str(output.path)) == 1, output
    before = args[: args.index("-i")]
    assert before[before.index("-protocol_whitelist") + 1] == "file"
    assert set(before[before.index("-format_whitelist") + 1].split(",")) == set(ALLOWED_DEMUXERS)
    assert int(args[args.index("-max_alloc") + 1]) == MAX_ALLOC_BYTES
    assert args.count("aac") == 3  # the HLS audio once, and each MP4 as today


def test_the_hls_ladder_alone_encodes_the_audio_once(converted, tmp_path):
    """Without MP4 encodes beside it, the ladder's command has one AAC encoder and no audio split: the
    rungs carry no audio."""
    ladder = HlsLadder.plan(converted.info, list(HLS_RUNGS), tmp_path / "hls", FAST)
    args = command.build(converted.source, converted.info, ladder.outputs)
    assert args.count("aac") == 1
    assert "asplit" not in args[args.index("-filter_complex") + 1]
    assert args.count("libx264") == len(HLS_RUNGS)


def test_todays_outputs_work_next_to_the_ladder(converted):
    """The MP4s, the poster and the frame samples come out of the same command as they do alone."""
    for rendition in converted.renditions:
        found = streams(rendition.path)
        video = next(s for s in found if s["codec_type"] == "video")
        audio = next(s for s in found if s["codec_type"] == "audio")
        assert (video["codec_name"], video["width"], video["height"]) == (
            "h264", rendition.rung.width, rendition.rung.height,
        )
        assert (audio["codec_name"], audio["channels"]) == ("aac", 2)
        assert float(video["duration"]) == pytest.approx(converted.info.duration, abs=FRAME)
        boxes = top_level_boxes(rendition.path)
        assert boxes.index("moov") < boxes.index("mdat")
    (picture,) = streams(converted.poster.path)
    assert (picture["width"], picture["height"]) == (POSTER_RUNG.width, POSTER_RUNG.height)
    assert picture["codec_name"] == "mjpeg"
    layout = fingerprint.layout_of(converted.frames.path)  # two frames a second, at the picture's own size
    assert (layout.width, layout.height) == (converted.info.width, converted.info.height)
    assert converted.frames.path.stat().st_size == 2 * converted.info.duration * layout.frame_bytes


# ---- the video rungs ----------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(HLS_RUNGS)))
def test_rungs_are_h264_at_their_size_without_audio(converted, tmp_path, index):
    rung = converted.ladder.rungs[index]
    found = streams(joined(rung.path, tmp_path / "rung.mp4"))
    assert [s["codec_type"] for s in found] == ["video"]
    (video,) = found
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", rung.rung.width, rung.rung.height)
    assert video["pix_fmt"] == "yuv420p"
    assert sorted(p.name for p in rung.folder.iterdir()) == [
        "index.m3u8", "init.mp4", *[uri for uri, _ in listed(rung.path)]
    ]
    assert [uri for uri, _ in listed(rung.path)] == ["seg_00001.m4s", "seg_00002.m4s"]


def test_every_segment_starts_on_an_idr_at_the_same_time_on_every_rung(converted, tmp_path):
    """Each segment's first picture is an IDR frame (NAL type 5) and a keyframe, and segment n starts at
    the same timestamp on every rung: a player can switch rungs at any segment boundary."""
    starts = []
    for rung in converted.ladder.rungs:
        times = []
        for uri, _ in listed(rung.path):
            assert first_slice_type(rung.folder / uri) == IDR, (rung.rung.name, uri)
            first = packets(alone(rung.path, uri, tmp_path / f"{rung.rung.name}-{uri}.mp4"))[0]
            assert "K" in first["flags"], (rung.rung.name, uri)
            times.append(float(first["pts_time"]))
        starts.append(times)
    assert starts[0] == starts[1] == [0.0, 4.0], starts


@pytest.mark.parametrize("index", range(len(HLS_RUNGS)))
def test_keyframes_only_every_two_seconds(converted, tmp_path, index):
    """The rung's keyframes are at 0, 2, 4 s and nowhere else."""
    rung = converted.ladder.rungs[index]
    keys = [float(p["pts_time"]) for p in packets(joined(rung.path, tmp_path / "rung.mp4")) if "K" in p["flags"]]
    assert keys == pytest.approx([0.0, 2.0, 4.0], abs=1e-6)


def veryfast_ladder(tmp_path_factory) -> HlsLadder:
    """A 144p rung and the audio at the production preset (B-frames, scene-cut detection on by default),
    from a clip with a hard cut mid-GOP, at 1.32 s, where the frame rate also changes from 25 to 50 fps
    (as phones record: a variable frame rate). Made once per session."""
    if "veryfast" in _RUNS:
        return _RUNS["veryfast"]
    folder = tmp_path_factory.mktemp("hls-veryfast")
    source = folder / "cut.mp4"
    subprocess.run(
        [find("ffmpeg"), "-loglevel", "error", "-filter_complex",
         "testsrc2=s=256x144:r=25:d=1.32[a];smptebars=s=256x144:r=50:d=1.68[b];[a][b]concat=n=2:v=1:a=0[v];"
         "sine=frequency=440:duration=3[s]",
         "-map", "[v]", "-map", "[s]", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "10", "-c:a", "aac",
         str(source)],
        check=True, timeout=60,
    )
    info = probe(source, Limits())
    ladder = HlsLadder.plan(info, [Rung(256, 144)], folder / "hls", EncodeSettings(preset="veryfast"))
    done = subprocess.run(command.build(source, info, ladder.outputs), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-1000:]
    _RUNS["veryfast"] = ladder
    return ladder


@pytest.fixture(scope="module")
def veryfast(tmp_path_factory) -> HlsLadder:
    return veryfast_ladder(tmp_path_factory)


def test_idrs_keep_to_the_clock_through_cuts_and_frame_rate_changes(veryfast, tmp_path):
    """The hard cut makes no extra I frame, and the frame rate change moves no IDR: the pictures coded
    alone are the IDRs at 0 and 2 s of the source's clock, not every so many frames."""
    (rung,) = veryfast.rungs
    frames = ffprobe(joined(rung.path, tmp_path / "rung.mp4"), "-select_streams", "v",
                     "-show_entries", "frame=pts_time,pict_type,key_frame")["frames"]
    first = float(frames[0]["pts_time"])  # ffprobe shifts a file with negative composition offsets
    intra = [float(frame["pts_time"]) - first for frame in frames if frame["pict_type"] == "I"]
    assert intra == pytest.approx([0.0, 2.0], abs=1e-6), intra
    assert [float(frame["pts_time"]) - first for frame in frames if frame["key_frame"]] == intra


def test_video_with_b_frames_starts_with_its_audio(veryfast):
    """With B-frames the first picture is still shown at 0, as the first sound is: the segments say so
    themselves (tfdt + the first composition offset), and no edit list delays the video, so players
    that ignore edit lists and those that apply them both play the rung in sync with the audio."""
    (rung,) = veryfast.rungs
    video = mp4_boxes(rung.init_segment.read_bytes() + (rung.folder / "seg_00001.m4s").read_bytes())
    assert video["trun_offsets"][1] != 0  # B-frames: pictures are stored out of display order
    assert video["tfdt"] + video["trun_offsets"][0] == 0
    assert all(duration == 0 or media_time == 0 for duration, media_time in video["elst"]), video["elst"]
    sound = veryfast.audio
    audio = mp4_boxes(sound.init_segment.read_bytes() + (sound.folder / "seg_00001.m4s").read_bytes())
    assert audio["tfdt"] == 0
    assert all(media_time >= 0 for _, media_time in audio["elst"])  # the AAC priming skipped, no delay added


def mp4_boxes(data: bytes) -> dict:
    """From an init segment and one segment: the edit list, the first tfdt, the first trun's composition offsets."""
    found: dict = {"elst": [], "trun_offsets": []}

    def walk(start: int, end: int) -> None:
        at = start
        while at + 8 <= end:
            size, kind = struct.unpack(">I4s", data[at : at + 8])
            body = data[at + 8 : at + size]
            if kind in (b"moov", b"trak", b"edts", b"moof", b"traf"):
                walk(at + 8, at + size)
            elif kind == b"elst":
                wide, count = body[0] == 1, struct.unpack(">I", body[4:8])[0]
                entry = ">Qq" if wide else ">Ii"
                step = 20 if wide else 12
                found["elst"] += [struct.unpack(entry, body[8 + n * step : 8 + n * step + struct.calcsize(entry)])
                                  for n in range(count)]
            elif kind == b"tfdt" and "tfdt" not in found:
                found["tfdt"] = int.from_bytes(body[4:12] if body[0] == 1 else body[4:8], "big")
            elif kind == b"trun" and not found["trun_offsets"]:
                flags, count = int.from_bytes(body[1:4], "big"), struct.unpack(">I", body[4:8])[0]
                place = 8 + 4 * bool(flags & 0x1) + 4 * bool(flags & 0x4)
                for _ in range(count):
                    place += 4 * (bool(flags & 0x100) + bool(flags & 0x200) + bool(flags & 0x400))
                    if flags & 0x800:  # version 1: signed offsets
                        offset = int.from_bytes(body[place : place + 4], "big", signed=body[0] == 1)
                        found["trun_offsets"].append(offset)
                        place += 4
            at += size

    walk(0, len(data))
    return found


def test_idrs_stay_on_the_clock_at_29_97_fps(tmp_path):
    """At 30000/1001 fps, 60 pictures last 2.002 s: over 36 s an IDR every 60 pictures would drift a
    frame off the 2 s grid (the grid chunks encoded apart must meet on). Forced by the clock, each
    IDR is the first picture at or after 2n s."""
    source = tmp_path / "ntsc.mp4"
    subprocess.run(
        [find("ffmpeg"), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=64x36:rate=30000/1001:duration=36",
         "-c:v", "libx264", "-preset", "ultrafast", str(source)],
        check=True, timeout=60,
    )
    info = probe(source, Limits())
    rung = HlsRung.of(info, Rung(64, 36), tmp_path / "hls", FAST)
    done = subprocess.run(command.build(source, info, [rung]), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-1000:]
    keys = [float(p["pts_time"]) for p in packets(joined(rung.path, tmp_path / "rung.mp4")) if "K" in p["flags"]]
    frame = 1001 / 30000
    assert len(keys) == 18
    for number, at in enumerate(keys):
        assert 2 * number <= at + 1e-6 < 2 * number + frame, (number, at)


@pytest.mark.parametrize("index", range(len(HLS_RUNGS)))
def test_segment_durations_add_up_to_the_source(converted, tmp_path, index):
    """The playlist's durations add up to the source's (within a frame), and to what the segments hold;
    every segment but the last is 4 s."""
    rung = converted.ladder.rungs[index]
    durations = [duration for _, duration in listed(rung.path)]
    assert sum(durations) == pytest.approx(converted.info.duration, abs=FRAME)
    assert durations[:-1] == pytest.approx([4.0] * (len(durations) - 1), abs=FRAME)
    assert 0 < durations[-1] <= 4.0 + FRAME
    (video,) = streams(joined(rung.path, tmp_path / "rung.mp4"))
    assert float(video["duration"]) == pytest.approx(sum(durations), abs=FRAME)


def test_playlists_are_open_events_when_ffmpeg_ends(converted):
    """ffmpeg leaves each media playlist growing (EVENT, no ENDLIST): `playlists.finalize` closes it."""
    for output in converted.ladder.outputs:
        text = output.path.read_text()
        assert "#EXT-X-PLAYLIST-TYPE:EVENT" in text
        assert "#EXT-X-ENDLIST" not in text
        assert '#EXT-X-MAP:URI="init.mp4"' in text
    for rung in converted.ladder.rungs:  # every segment starts with an IDR: a player may start at any
        assert "#EXT-X-INDEPENDENT-SEGMENTS" in rung.path.read_text()


def test_the_cap_holds_a_rung_to_its_declared_bandwidth(converted, tmp_path):
    """With a cap well under what CRF 23 wants for this picture, the rung keeps to it: no segment run
    goes past the rung's declared peak, and the average stays near the cap, far below the uncapped."""
    cap = 150_000
    rung = HlsRung(HLS_RUNGS[0], tmp_path / "capped", 25, FAST, cap=cap)
    free = HlsRung(HLS_RUNGS[0], tmp_path / "free", 25, FAST, cap=10_000_000)
    args = command.build(converted.source, converted.info, [rung, free])
    done = subprocess.run(args, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-1000:]
    capped, uncapped = playlists.measure(rung.path), playlists.measure(free.path)
    assert capped.peak <= rung.peak_rate
    assert capped.average <= cap * 1.4  # the buffer's worth on top of the cap, over a 5 s clip
    assert uncapped.average > 2 * capped.average


# ---- the audio rendition ------------------------------------------------------------------------


def test_audio_is_its_own_aac_rendition(converted, tmp_path):
    """Stereo AAC at ~128 kbit/s, ~4 s fMP4 segments adding up to the source, no picture."""
    audio = converted.ladder.audio
    found = streams(joined(audio.path, tmp_path / "audio.mp4"))
    assert [(s["codec_type"], s["codec_name"], s["channels"]) for s in found] == [("audio", "aac", 2)]
    durations = [duration for _, duration in listed(audio.path)]
    aac_frame = 1024 / int(found[0]["sample_rate"])
    assert sum(durations) == pytest.approx(converted.info.duration, abs=2 * aac_frame)
    assert durations[:-1] == pytest.approx([4.0] * (len(durations) - 1), abs=2 * aac_frame)
    assert 90_000 < playlists.measure(audio.path).average < 140_000


def test_silent_source_has_no_audio_rendition(silent):
    """No audio stream, no audio rendition: no audio in the command, rungs as usual."""
    assert silent.ladder.audio is None
    assert "0:a" not in " ".join(silent.args) and "asplit" not in " ".join(silent.args)
    assert not (silent.ladder.root / "audio").exists()
    for rung in silent.ladder.rungs:
        assert sum(d for _, d in listed(rung.path)) == pytest.approx(silent.info.duration, abs=FRAME)


# ---- segments are only ever seen whole ---------------------------------------------------------

IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE = 0x2, 0x8, 0x80, 0x100


class Watch:
    """inotify on some folders: every create, write, close and rename-into, by file name."""

    def __init__(self, folders: list[Path]):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0
        self.folders = {}
        for folder in folders:
            wd = self.libc.inotify_add_watch(
                self.fd, str(folder).encode(), IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE
            )
            assert wd >= 0
            self.folders[wd] = folder

    def events(self, timeout: float) -> list[tuple[Path, int]]:
        if not select.select([self.fd], [], [], timeout)[0]:
            return []
        data, found, at = os.read(self.fd, 1 << 16), [], 0
        while at < len(data):
            wd, mask, _, length = struct.unpack_from("iIII", data, at)
            name = data[at + 16 : at + 16 + length].rstrip(b"\0").decode()
            found.append((self.folders[wd] / name, mask))
            at += 16 + length
        return found

    def close(self) -> None:
        os.close(self.fd)


@dataclass
class Seen:
    events: list[tuple[Path, int]]
    sizes: list[tuple[Path, int]]  # (segment, size) each time one was seen on disk while ffmpeg ran
    snapshots: list[tuple[Path, list[tuple[str, int]], int]]  # playlist, (segment, size) it named, init size
    fractions: list[float]


@pytest.fixture(scope="module")
def slowed(converted, tmp_path_factory) -> tuple[HlsLadder, Seen]:
    """The ladder and the storyboard made at 4x real time, watched as they are written."""
    folder = tmp_path_factory.mktemp("hls-slowed")
    ladder = HlsLadder.plan(converted.info, list(HLS_RUNGS), folder / "hls", FAST)
    board = Storyboard.of(converted.info, folder / "thumbnails.yuv")
    args = command.build(converted.source, converted.info, [*ladder.outputs, board])  # makes the folders
    args[args.index("-i") : args.index("-i")] = ["-readrate", "4"]
    watch = Watch([output.folder for output in ladder.outputs])
    seen = Seen([], [], [], [])
    done = threading.Event()

    def observe() -> None:
        while not done.is_set():
            for path, mask in watch.events(0.002):
                seen.events.append((path, mask))
                if path.name == "index.m3u8" and mask & IN_MOVED_TO:
                    text = path.read_text()
                    init = (path.parent / "init.mp4").stat().st_size
                    named = [(uri, (path.parent / uri).stat().st_size) for uri, _ in playlists.segments(text)]
                    seen.snapshots.append((path, named, init))
            for output in ladder.outputs:
                for segment in output.folder.glob("*.m4s"):
                    try:
                        seen.sizes.append((segment, segment.stat().st_size))
                    except FileNotFoundError:  # pragma: no cover - segments are never removed
                        pass

    observer = threading.Thread(target=observe, daemon=True)
    observer.start()
    started = time.monotonic()
    try:
        run(args, converted.info.duration, seen.fractions.append, lambda: None, RunLimits(timeout=60))
    finally:
        time.sleep(0.05)
        done.set()
        observer.join(timeout=5)
        watch.close()
    assert time.monotonic() - started > 0.8  # really slowed: the observer saw it being written
    return ladder, seen


def test_a_segment_name_only_ever_holds_a_whole_segment(slowed):
    """While ffmpeg runs, a file named like a segment is always complete: it appears by a rename of the
    finished `.tmp` (inotify never sees one created or written under its own name), and every size
    seen of it is the size it ends with."""
    ladder, seen = slowed
    segments = [(path, mask) for path, mask in seen.events if path.suffix == ".m4s"]
    assert segments, "no segment was seen being written"
    assert all(mask == IN_MOVED_TO for _, mask in segments), [(p.name, hex(m)) for p, m in segments]
    assert any(path.name.endswith(".m4s.tmp") and mask & IN_MODIFY for path, mask in seen.events)
    assert seen.sizes
    for segment, size in seen.sizes:
        assert size == segment.stat().st_size, segment


def test_playlists_grow_and_name_only_whole_segments(slowed):
    """Each playlist read while ffmpeg runs (it is replaced whole) names only segments already complete,
    after a complete init segment; it grows one segment at a time."""
    ladder, seen = slowed
    for output in ladder.outputs:
        mine = [(named, init) for path, named, init in seen.snapshots if path == output.path]
        counts = [len(named) for named, _ in mine]
        assert counts == sorted(counts) and counts[-1] == len(listed(output.path)), (output.path, counts)
        assert counts[0] < counts[-1], (output.path, counts)  # seen while it was still growing
        for named, init in mine:
            assert init == output.init_segment.stat().st_size
            for uri, size in named:
                assert size == (output.folder / uri).stat().st_size


def test_progress_advances_while_the_ladder_and_storyboard_encode(slowed):
    """The run reports progress all along (ffmpeg reports its slowest output's): the storyboard writes
    each thumbnail as it takes it, and the HLS muxers every packet."""
    _, seen = slowed
    assert any(0.1 < fraction < 0.9 for fraction in seen.fractions), seen.fractions
    assert seen.fractions[-1] == pytest.approx(1.0)


def test_folders_left_clean(slowed):
    """No temporary file is left once ffmpeg is done."""
    ladder, _ = slowed
    for output in ladder.outputs:
        assert not list(output.folder.glob("*.tmp"))
