"""Adaptive streaming (issue 13): how soon a video can be watched, what the HLS pipeline costs against
ffmpeg making the same ladder, what packaging and the storyboard cost, and what the ladder weighs.

The clip: 30 s (10 s with --quick) of 1920x1080 at 30 fps, lavfi's `testsrc2` with temporal noise
(`noise=alls=8:allf=t`, new grain every frame) and a 440 Hz sine, encoded as a camera would
(libx264 veryfast CRF 20, at most 20 Mbit/s; AAC). The grain makes it hard content: at CRF 23 the
1080p rung wants more than its 6 Mbit/s cap, the 360p and 720p rungs stay well under theirs.

Each round runs, in an order reversed every other round so that neither side always goes first:
- `ladder`: one hand-written ffmpeg command making the HLS ladder the pipeline makes (360/720/1080p,
  libx264 veryfast CRF 23 capped by maxrate/bufsize per rung, IDR frames forced every 2 s with no
  scene cuts and closed GOPs, fMP4 segments of 4 s, AAC 128k once as its own rendition) and the
  poster. Written here by hand from the settings of media/hls.py (HlsRung, HlsAudio, rate_cap),
  never by the project's command builder;
- `null`: the same command, every HLS output sent to ffmpeg's null muxer (the same encodes, no
  packaging), the poster as it was;
- `mp4`: today's MP4 ladder (`Mp4Rendition`: CRF 23 with no cap, x264's own GOPs and scene cuts,
  AAC 128k in each file, faststart) and the poster;
- `storyboard`: one decode feeding AMPLIFY copies of the storyboard branch (outputs.Storyboard's
  filters), against the same decode alone: the branch's CPU is the difference over AMPLIFY. One
  branch is below the noise of a whole encode; ten are not;
- `floor`: ffmpeg making 360p alone (bench/first_rendition.py's floor);
- `stack`: the clip through the service (tests/stack.py: redis, gunicorn, one worker.py), from
  the upload to `playable` and to `ready`.
After `ladder`, the work the pipeline adds to the encode is done on its output and its CPU taken
from the children's resource usage: the MP4 downloads remuxed from the segments
(media/remux.mp4_from_hls), the playlists (finalize, the measured master playlist), the storyboard
sheets (storyboard.tile) and cues, and the segmenting itself as a stream copy of the downloads into
HLS (demuxing included: an upper bound of what the HLS muxer costs inside the encode). The first
round also makes the ladder with the forced GOPs and no cap, to tell what each change costs in bytes.

Every ffmpeg runs at the niceness the worker gives it (10), in a session of its own as the worker's
is (with the kernel's autogroups, sessions share the CPU among themselves and niceness acts only
within one), and with ffmpeg's own thread counts, as the worker runs it (nothing in media/ or
app/config.py sets threads); nothing is pinned to a core, as in the other benchmarks. CPU is
user + system of the child, from os.wait4 or RUSAGE_CHILDREN deltas.

`python -m bench.streaming [--quick] [--commit COMMIT]`: with --commit the stack runs that commit's
tree (`git archive`, as bench/restructure.py does), e.g. HEAD while the working tree is mid-change.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.common import Figure, log, main, median, scratch
from bench.harness import ProcessTimeline, Running
from media.binaries import find

NICENESS = 10  # what media/sandbox.limits gives ffmpeg
HEIGHTS = (360, 720, 1080)
WIDTHS = {360: 640, 720: 1280, 1080: 1920}
# By hand from media/hls.py: MAX_RATES for 16:9 rungs at 30 fps (not above HIGH_FRAME_RATE),
# bufsize = BUFFER_SECONDS (2) x maxrate; cross-checked against rate_cap at run time.
MAX_RATE = {360: 1_000_000, 720: 3_500_000, 1080: 6_000_000}
FPS = 30
GOP_SECONDS = 2
SEGMENT_SECONDS = 4
CRF = 23
PRESET = "veryfast"
AUDIO_RATE = "128k"
POSTER_AT = 1.0  # POSTER_AT_SECONDS, at the largest rung
AMPLIFY = 10  # storyboard branches fed by one decode
GOAL_PLAYABLE = 0.15
GOAL_READY = 1.03
GOAL_PACKAGING = 0.02
FINAL = {"ready", "failed", "rejected", "cancelled"}


def settings(quick: bool) -> dict:
    return {"seconds": 10 if quick else 30, "rounds": 1 if quick else 3}


# -- the clip -----------------------------------------------------------------------------------


def noisy_clip(seconds: int) -> Path:
    """The benchmark's source, made once per process (see the module's docstring)."""
    path = scratch() / "clips" / f"noisy-1920x1080-30fps-{seconds}s.mp4"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        subprocess.run([
            find("ffmpeg"), "-nostdin", "-y", "-loglevel", "error",
            "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds},noise=alls=8:allf=t",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-maxrate", "20M", "-bufsize", "40M",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-shortest", str(path),
        ], check=True)
        log(f"made {path.name} ({path.stat().st_size / 2**20:.1f} MiB) in {time.monotonic() - started:.1f} s")
    return path


# -- running ffmpeg -----------------------------------------------------------------------------


def _nice() -> None:
    os.nice(NICENESS)


def timed(args: list[str], watch: Path | None = None) -> dict[str, float]:
    """Run ffmpeg at the worker's niceness: wall and CPU seconds (os.wait4: this child alone).

    With `watch`, also the moment (seconds after the start) every folder under it that holds a
    playlist's segments has its first segment written (ffmpeg writes an fMP4 segment out whole when
    it ends): when a lockstep ladder could be playable at the earliest.
    """
    started = time.monotonic()
    # a session of its own, as the worker's ffmpeg has (tests/stack.py starts worker.py with one): with
    # the kernel's autogroups a session is what shares the CPU with other sessions, niceness only within it
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, preexec_fn=_nice, start_new_session=True)
    first = None
    folders = [watch / f"{h}p" for h in HEIGHTS] + [watch / "audio"] if watch is not None else []
    while True:  # os.wait4, not Popen.poll: that would reap the child and lose its resource usage
        pid, status, usage = os.wait4(process.pid, os.WNOHANG if folders else 0)
        if pid:
            break
        if first is None and all((f / "seg_00001.m4s").exists() for f in folders):
            first = time.monotonic() - started
        time.sleep(0.02)
    wall = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"ffmpeg exited with {process.returncode}: {' '.join(args[:12])} ...")
    found = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime}
    if watch is not None:
        found["first_segments"] = first if first is not None else wall
    return found


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    return time.process_time()


# -- the hand-written commands ------------------------------------------------------------------


def _hls(folder: Path) -> list[str]:
    """ffmpeg's HLS muxer, plainly: fMP4 segments of 4 s, a VOD playlist of them all."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_segment_type", "fmp4",
        "-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename", str(folder / "seg_%05d.m4s"),
        "-start_number", "1", "-hls_playlist_type", "vod", "-hls_list_size", "0",
        "-hls_flags", "independent_segments", str(folder / "index.m3u8"),
    ]


def _x264(height: int, gop: bool, cap: bool) -> list[str]:
    args = ["-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p"]
    if cap:
        args += ["-maxrate", str(MAX_RATE[height]), "-bufsize", str(2 * MAX_RATE[height])]
    if gop:
        keyint = GOP_SECONDS * FPS
        args += ["-force_key_frames", f"expr:gte(t,n_forced*{GOP_SECONDS})", "-sc_threshold", "0",
                 "-forced-idr", "1", "-x264-params", f"keyint={keyint}:min-keyint={keyint}:scenecut=0:open-gop=0"]
    return [*args, "-map_metadata", "-1"]


def ladder_args(source: Path, out: Path, kind: str) -> list[str]:
    """One decode split to every rung and the poster.

    kind: "hls" (the streaming ladder), "null" (its encodes, nothing muxed), "mp4" (today's
    Mp4Rendition ladder), "gop" (the streaming encodes with no cap, video alone, in MP4: bytes only).
    """
    streaming = kind in ("hls", "null", "gop")
    poster = kind != "gop"
    branches = len(HEIGHTS) + (1 if poster else 0)
    fps = f"fps={FPS}," if streaming else ""
    graph = [f"[0:v]split={branches}" + "".join(f"[s{i}]" for i in range(branches))]
    graph += [f"[s{i}]{fps}scale={WIDTHS[h]}:{h},setsar=1[v{i}]" for i, h in enumerate(HEIGHTS)]
    if poster:
        top = max(HEIGHTS)
        graph.append(f"[s{len(HEIGHTS)}]select='gte(t,{POSTER_AT})',scale={WIDTHS[top]}:{top},setsar=1[poster]")
    args = [find("ffmpeg"), "-nostdin", "-y", "-loglevel", "error", "-i", str(source),
            "-filter_complex", ";".join(graph)]
    audio = ["-c:a", "aac", "-b:a", AUDIO_RATE, "-ac", "2"]
    for i, h in enumerate(HEIGHTS):
        if kind == "mp4":
            args += ["-map", f"[v{i}]", "-map", "0:a", *_x264(h, gop=False, cap=False), *audio,
                     "-movflags", "+faststart", "-f", "mp4", str(out / f"{h}p.mp4")]
        elif kind == "gop":
            args += ["-map", f"[v{i}]", *_x264(h, gop=True, cap=False), "-f", "mp4", str(out / f"{h}p.mp4")]
        else:
            args += ["-map", f"[v{i}]", *_x264(h, gop=True, cap=True)]
            args += _hls(out / f"{h}p") if kind == "hls" else ["-f", "null", "-"]
    if kind in ("hls", "null"):  # the audio once, as its own rendition
        args += ["-map", "0:a", *audio, "-map_metadata", "-1"]
        args += _hls(out / "audio") if kind == "hls" else ["-f", "null", "-"]
    if poster:
        args += ["-map", "[poster]", "-frames:v", "1", "-q:v", "3", str(out / "poster.jpg")]
    return args


def floor_args(source: Path, out: Path) -> list[str]:
    """bench/first_rendition.py's floor: today's smallest MP4 rendition alone, no poster."""
    h = min(HEIGHTS)
    return [find("ffmpeg"), "-nostdin", "-y", "-loglevel", "error", "-i", str(source),
            "-filter_complex", f"[0:v]scale=-2:{h},setsar=1[v]", "-map", "[v]", "-map", "0:a",
            *_x264(h, gop=False, cap=False), "-c:a", "aac", "-b:a", AUDIO_RATE, "-ac", "2",
            "-movflags", "+faststart", str(out / f"{h}p.mp4")]


def storyboard_layout(seconds: float):
    from media import storyboard

    return storyboard.Layout.plan(seconds, 1920, 1080)


def storyboard_args(source: Path, out: Path, layout, branches: int) -> list[str]:
    """One decode feeding `branches` copies of outputs.Storyboard's filters (0: the decode alone)."""
    args = [find("ffmpeg"), "-nostdin", "-y", "-loglevel", "error", "-i", str(source)]
    if not branches:
        return [*args, "-map", "0:v", "-f", "null", "-"]
    chain = (f"tpad=stop_mode=clone:stop_duration={layout.interval},fps=fps=1/{layout.interval}:round=up,"
             f"trim=end_frame={layout.count},scale={layout.width}:{layout.height},setsar=1")
    graph = [f"[0:v]split={branches + 1}[d]" + "".join(f"[s{i}]" for i in range(branches))]
    graph += [f"[s{i}]{chain}[t{i}]" for i in range(branches)]
    args += ["-filter_complex", ";".join(graph), "-map", "[d]", "-f", "null", "-"]
    for i in range(branches):
        args += ["-map", f"[t{i}]", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-fps_mode", "passthrough",
                 str(out / f"thumbs-{i}.yuv")]
    return args


# -- what the pipeline does after the encode, on the ladder's output ----------------------------


def _hls_module():
    """The HLS classes, wherever the engine keeps them (media/hls.py, or media/outputs.py before it)."""
    try:
        from media import hls
    except ImportError:
        from media import outputs as hls
    return hls


def check_settings() -> None:
    """Say so when the engine's caps no longer match the ones written here by hand."""
    try:
        from media.ladder import Rung

        hls = _hls_module()
        theirs = {h: hls.rate_cap(Rung(WIDTHS[h], h), FPS) for h in HEIGHTS}
    except Exception as exc:  # the engine mid-change: the figures still come, from the settings above
        log(f"could not read the engine's rate caps ({type(exc).__name__}: {exc}); using {MAX_RATE}")
        return
    if theirs != MAX_RATE:
        log(f"WARNING: the engine's rate caps are {theirs}, this baseline uses {MAX_RATE}: update MAX_RATE")


def after_encode(out: Path, seconds: float) -> dict[str, float]:
    """CPU of the work the pipeline adds to the encode, done on the hand-written ladder's output."""
    from media import playlists, remux, storyboard

    found: dict[str, float] = {}
    audio = out / "audio" / "index.m3u8"
    downloads = out / "downloads"
    downloads.mkdir(exist_ok=True)
    before = children_cpu()
    for h in HEIGHTS:
        remux.mp4_from_hls(out / f"{h}p" / "index.m3u8", audio, downloads / f"{h}p.mp4")
    found["remux"] = children_cpu() - before

    # playlists: each media playlist as the pipeline leaves it while processing (EVENT, open), made
    # final; then the master playlist with bit rates measured from the segments and codec strings
    # read from the init segments (an ffprobe a rung)
    opened = []
    for folder in [*(out / f"{h}p" for h in HEIGHTS), out / "audio"]:
        text = (folder / "index.m3u8").read_text().replace("#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-PLAYLIST-TYPE:EVENT")
        copy = folder / "event.m3u8"
        copy.write_text(text.replace(playlists.ENDLIST + "\n", ""))
        opened.append(copy)
    hls = _hls_module()
    from media.ladder import Rung

    ladder = hls.HlsLadder(
        out, tuple(hls.HlsRung(Rung(WIDTHS[h], h), out / f"{h}p", float(FPS)) for h in HEIGHTS),
        hls.HlsAudio(out / "audio"),
    )
    before, mine = children_cpu(), own_cpu()
    for copy in opened:
        playlists.finalize(copy)
    playlists.write_master(ladder, measured=True)
    found["playlists"] = children_cpu() - before + own_cpu() - mine

    # the segmenting alone: the downloads' streams copied into HLS (an upper bound: it demuxes too)
    copied = out / "copied"
    args = [find("ffmpeg"), "-nostdin", "-y", "-loglevel", "error"]
    for h in HEIGHTS:
        args += ["-i", str(downloads / f"{h}p.mp4")]
    for i, h in enumerate(HEIGHTS):
        args += ["-map", f"{i}:v", "-c", "copy", *_hls(copied / f"{h}p")]
    args += ["-map", "0:a", "-c", "copy", *_hls(copied / "audio")]
    found["segmenting"] = timed(args)["cpu"]

    # the storyboard's sheets and cues, from thumbnails the storyboard branch makes
    layout = storyboard_layout(seconds)
    thumbs = out / "thumbs"
    thumbs.mkdir(exist_ok=True)
    timed(storyboard_args(out / "downloads" / "360p.mp4", thumbs, layout, 1))
    before, mine = children_cpu(), own_cpu()
    storyboard.tile(layout, thumbs / "thumbs-0.yuv", out / "storyboard")
    storyboard.write_vtt(layout, out / "storyboard" / "storyboard.vtt")
    found["tile"] = children_cpu() - before + own_cpu() - mine
    return found


# -- bytes --------------------------------------------------------------------------------------


def video_bytes(path: Path) -> int:
    """The H.264 in a file, packet by packet: no container, no audio."""
    done = subprocess.run(
        [find("ffprobe"), "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=size",
         "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True,
    )
    return sum(int(line.split(",")[0]) for line in done.stdout.split() if line.strip())


def folder_bytes(folder: Path, suffixes: tuple[str, ...] = (".mp4", ".m4s", ".m3u8")) -> int:
    return sum(f.stat().st_size for f in folder.iterdir() if f.suffix in suffixes and f.name != "event.m3u8")


def segment_rates(folder: Path) -> tuple[float, float]:
    """Average and highest whole-segment video rate of a rung, bits/s, from its playlist and files."""
    from media import playlists

    listed = playlists.segments((folder / "index.m3u8").read_text())
    rates = [(folder / uri).stat().st_size * 8 / duration for uri, duration in listed if duration >= 1]
    total = sum((folder / uri).stat().st_size for uri, _ in listed) * 8 / sum(d for _, d in listed)
    return total, max(rates or [total])


def ladder_bytes(hls: Path, mp4: Path, gop: Path, seconds: float) -> list[Figure]:
    figures = []
    for h in HEIGHTS:
        today = video_bytes(mp4 / f"{h}p.mp4")
        gops = video_bytes(gop / f"{h}p.mp4")
        capped = video_bytes(hls / "downloads" / f"{h}p.mp4")  # the rung's H.264, copied out of the segments
        packaged = folder_bytes(hls / f"{h}p")
        average, peak = segment_rates(hls / f"{h}p")
        figures.append(Figure(
            "streaming", f"bytes, {h}p video: HLS rung", packaged / 2**20, "MiB", today / 2**20,
            "MP4 rendition's video", note=(
                f"closed 2 s GOPs {100 * (gops / today - 1):+.1f} %, cap {100 * (capped / gops - 1):+.1f} %, "
                f"fMP4 (init, boxes, playlist) {100 * (packaged / capped - 1):+.2f} %; "
                f"{average / 1e6:.2f} Mbit/s average, {peak / 1e6:.2f} highest segment, cap {MAX_RATE[h] / 1e6:g}"),
        ))
    hls_total = sum(folder_bytes(hls / f"{h}p") for h in HEIGHTS) + folder_bytes(hls / "audio")
    mp4_total = sum((mp4 / f"{h}p.mp4").stat().st_size for h in HEIGHTS)
    downloads = sum((hls / "downloads" / f"{h}p.mp4").stat().st_size for h in HEIGHTS)
    audio = folder_bytes(hls / "audio")
    figures.append(Figure(
        "streaming", "bytes, whole ladder: HLS (3 rungs + audio once)", hls_total / 2**20, "MiB",
        mp4_total / 2**20, "today's 3 MP4s (audio in each)", note=(
            f"audio {audio / 2**20:.2f} MiB once instead of 3 times; stored at ready with the MP4 downloads "
            f"remuxed from it: {(hls_total + downloads) / 2**20:.1f} MiB, {(hls_total + downloads) / mp4_total:.2f}x"),
    ))
    return figures


# -- through the stack --------------------------------------------------------------------------


@dataclass
class Seen:
    playable: float | None = None  # epoch seconds
    playable_db: float | None = None
    ready: float | None = None
    state: str = "queued"
    reports_playable: bool = False  # the video JSON has the field at all
    playback_url: str | None = None
    playback_check: str = ""
    how: str = "events"
    error: str = ""


class Watch(threading.Thread):
    """Follows /api/videos/<id>/events (polls GET /api/videos/<id> if the stream is refused) and notes
    when the video JSON first says `playable`, and its final state."""

    def __init__(self, run: Running, video_id: str):
        super().__init__(daemon=True)
        self.run_, self.video_id, self.seen = run, video_id, Seen()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {run.token}"
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self._follow()
        except Exception as exc:
            if self.seen.state not in FINAL:
                self.seen.how = f"polling ({type(exc).__name__})"
                try:
                    self._poll()
                except Exception as again:  # the main thread reports it
                    self.seen.error = f"{type(again).__name__}: {again}"
        finally:
            self.done.set()

    def _note(self, body: dict) -> None:
        at = time.time()
        self.seen.state = body.get("state", self.seen.state)
        if "playable" in body:
            self.seen.reports_playable = True
        if body.get("playable") and self.seen.playable is None:
            self.seen.playable = at
            self.seen.playback_url = body.get("playback_url")
            self.seen.playback_check = self._check_playback(body.get("playback_url"))
        if self.seen.state == "ready" and self.seen.ready is None:
            self.seen.ready = at

    def _check_playback(self, url: str | None) -> str:
        """The master playlist fetched as a player would, with no token and no cookie."""
        if not url:
            return "no playback_url"
        if url.startswith("/"):
            url = self.run_.url + url
        try:
            response = requests.get(url, timeout=10)
        except requests.RequestException as exc:
            return f"fetching it failed: {type(exc).__name__}"
        head = response.text.lstrip()[:7]
        return f"{response.status_code}, {'an HLS playlist' if head == '#EXTM3U' else repr(head)}"

    def _follow(self) -> None:
        url = f"{self.run_.url}/api/videos/{self.video_id}/events"
        with self.session.get(url, stream=True, timeout=(10, 120)) as response:
            response.raise_for_status()
            for line in response.iter_lines(chunk_size=None):
                if line.startswith(b"data:"):
                    self._note(json.loads(line[5:]))
                    if self.seen.state in FINAL:
                        return
        raise RuntimeError("the event stream ended before a final state")

    def _poll(self) -> None:
        url = f"{self.run_.url}/api/videos/{self.video_id}"
        while self.seen.state not in FINAL:
            response = self.session.get(url, timeout=10)
            response.raise_for_status()
            self._note(response.json())
            time.sleep(0.25)


def playable_in_db(run: Running, video_id: str) -> bool | None:
    """The `playable` column (None before the pipeline has one)."""
    try:
        with closing(sqlite3.connect(run.stack.instance / "conveyor.db", timeout=1)) as db:
            row = db.execute("SELECT playable FROM videos WHERE id = ?", (video_id,)).fetchone()
    except sqlite3.Error:
        return None
    return bool(row[0]) if row else None


def through_stack(run: Running, source: Path) -> dict:
    """Upload; follow the events; read the database (commits) and storage (the master playlist)."""
    started = time.time()
    video_id = run.upload(source, title="streaming bench")["id"]
    accepted = time.time()
    watch = Watch(run, video_id)
    watch.start()
    folder = run.stack.storage / "videos" / video_id
    master = local = None
    work = run.folder / "tmp"  # the job's temporary folders (TMPDIR): conveyor-*/stream/<rung>/
    column = True
    deadline = time.monotonic() + 1200
    with ProcessTimeline([p.pid for p in run.live_workers()]) as timeline:  # the job's processes, from outside
        while not watch.done.wait(0.05):
            now = time.time()
            if watch.seen.playable_db is None and column:
                found = playable_in_db(run, video_id)
                column = found is not None
                if found:
                    watch.seen.playable_db = now
            if master is None and folder.is_dir() and next(folder.rglob("master.m3u8"), None) is not None:
                master = now
            if local is None and len(list(work.glob("conveyor-*/stream/*/seg_00001.m4s"))) >= len(HEIGHTS) + 1:
                local = now  # every rung and the audio: ffmpeg has written their first segment
            if time.monotonic() > deadline:
                raise RuntimeError("the video did not reach a final state in 1200 s")
    seen = watch.seen
    if seen.error:
        raise RuntimeError(f"watching the video failed: {seen.error}")
    body = run.video(video_id)
    if body["state"] != "ready":
        raise RuntimeError(f"the video ended {body['state']}: {body.get('error')}")
    ready = run.times(video_id)["finished"]  # the commit that makes the API say `ready`
    playable = seen.playable_db or seen.playable
    spans = timeline.named("ffmpeg")
    job: dict[str, float | None] = {}
    if spans:
        encode = max(spans, key=lambda span: span.last - span.first)  # the one decode; then remuxes, tile
        later = [s for s in timeline.spans.values() if s.first >= encode.last and s.name in ("ffmpeg", "ffprobe")]
        job = {
            "to_encode": encode.first - accepted,
            "encode": encode.last - encode.first,
            "encode_cpu": encode.cpu,
            "after_encode": ready - encode.last,
            "after_encode_cpu": sum(s.cpu for s in later),
            "encode_to_playable": playable - encode.first if playable else None,
            "encode_to_first_segments": local - encode.first if local else None,
        }
    return {
        **job,
        "upload_to_ready": ready - started,
        "ready": ready - accepted,
        "playable": playable - accepted if playable else None,
        "playable_events": seen.playable - accepted if seen.playable else None,
        "master_in_storage": master - accepted if master else None,
        "reports_playable": seen.reports_playable,
        "streams": bool(body.get("playback_url")) or master is not None,
        "playback_check": seen.playback_check,
        "how": seen.how,
        "upload": accepted - started,
    }


# -- the rounds ---------------------------------------------------------------------------------


def one_round(number: int, run: Running, source: Path, seconds: float, found: dict[str, list]) -> None:
    out = scratch() / "streaming"
    layout = storyboard_layout(seconds)

    def fresh(name: str) -> Path:
        folder = out / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder

    def ladder() -> None:
        folder = fresh("hls")
        done = timed(ladder_args(source, folder, "hls"), watch=folder)
        found["ladder"].append(done["wall"])
        found["ladder_cpu"].append(done["cpu"])
        found["ladder_first_segments"].append(done["first_segments"])
        for key, value in after_encode(folder, seconds).items():
            found[key].append(value)

    def null() -> None:
        done = timed(ladder_args(source, fresh("null"), "null"))
        found["null"].append(done["wall"])
        found["null_cpu"].append(done["cpu"])

    def mp4() -> None:
        done = timed(ladder_args(source, fresh("mp4"), "mp4"))
        found["mp4"].append(done["wall"])
        found["mp4_cpu"].append(done["cpu"])

    def storyboard() -> None:
        folder = fresh("storyboard")
        alone = timed(storyboard_args(source, folder, layout, 0))["cpu"]
        many = timed(storyboard_args(source, folder, layout, AMPLIFY))["cpu"]
        found["storyboard_branch"].append((many - alone) / AMPLIFY)
        found["decode_cpu"].append(alone)

    def floor() -> None:
        found["floor"].append(timed(floor_args(source, fresh("floor")))["wall"])

    def stack() -> None:
        sample = through_stack(run, source)
        for key in found:
            if key in sample:
                found[key].append(sample[key])

    steps = [ladder, null, mp4, storyboard, floor, stack]
    for step in steps if number % 2 == 0 else reversed(steps):
        step()
    if number == 0:  # bytes: the same every round; the forced GOPs without the cap, once
        timed(ladder_args(source, fresh("gop"), "gop"))
        found["bytes"] = ladder_bytes(out / "hls", out / "mp4", out / "gop", seconds)
    log(f"round {number + 1}: ladder {found['ladder'][-1]:.2f} s (CPU {found['ladder_cpu'][-1]:.1f} s), "
        f"null {found['null'][-1]:.2f} s (CPU {found['null_cpu'][-1]:.1f} s), mp4 {found['mp4'][-1]:.2f} s, "
        f"360p alone {found['floor'][-1]:.2f} s; stack: upload to ready {found['upload_to_ready'][-1]:.2f} s, "
        f"upload end to playable {_s(found['playable'][-1])}, to ready {found['ready'][-1]:.2f} s")


def _s(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f} s"


def _ratios(top: list, bottom: list) -> list[float]:
    return [a / b for a, b in zip(top, bottom, strict=True) if a is not None and b]


def run(quick: bool, commit: str | None = None) -> list[Figure]:
    cfg = settings(quick)
    seconds = cfg["seconds"]
    check_settings()
    source = noisy_clip(seconds)
    root = None
    if commit:
        from bench.restructure import baseline_tree

        root = baseline_tree(commit)
        log(f"the stack runs {commit}'s tree, {root}")
    found: dict[str, list] = {}
    keys = ("ladder", "ladder_cpu", "ladder_first_segments", "null", "null_cpu", "mp4", "mp4_cpu",
            "storyboard_branch", "decode_cpu", "floor", "remux", "playlists", "segmenting", "tile",
            "upload_to_ready", "ready", "playable", "playable_events", "master_in_storage", "reports_playable",
            "streams", "playback_check", "how", "upload", "to_encode", "encode", "encode_cpu", "after_encode",
            "after_encode_cpu", "encode_to_playable", "encode_to_first_segments")
    for key in keys:
        found[key] = []
    with Running(workers=1, root=root) as stack:
        for number in range(cfg["rounds"]):
            one_round(number, stack, source, seconds, found)
    return figures(found, seconds)


def figures(found: dict[str, list], seconds: int) -> list[Figure]:
    clip_name = f"{seconds} s 1080p30 noisy clip"
    result: list[Figure] = []
    ready, floor = median(found["ready"]), median(found["floor"])
    measured = [p for p in found["playable"] if p is not None]
    streams = any(found["streams"])
    checks = ", ".join(sorted({c for c in found["playback_check"] if c})) or "-"
    log(f"the video JSON {'has' if any(found['reports_playable']) else 'has no'} `playable`; watched by "
        f"{', '.join(sorted(set(found['how'])))}; playback_url fetched: {checks}")

    # 1. upload end to playable
    if len(measured) == len(found["playable"]):
        playable = median(measured)
        ratios = _ratios(found["playable"], found["ready"])
        result += [
            Figure("streaming", f"upload end to playable, {clip_name}", playable, "s", ready, "upload end to ready",
                   goal=f"ratio <= {GOAL_PLAYABLE}", met=median(ratios) <= GOAL_PLAYABLE, samples=measured,
                   note=f"median of paired ratios {median(ratios):.3f}; the commit (the `playable` column) when "
                        f"seen, else the event; a client following the events learns it at "
                        f"{_s(median([p for p in found['playable_events'] if p is not None] or [None]))}"),
            Figure("streaming", "upload end to playable, against 360p alone", playable, "s", floor,
                   "ffmpeg making 360p alone", note=f"median of paired ratios "
                   f"{median(_ratios(found['playable'], found['floor'])):.3f}"),
        ]
    else:
        why = ("the pipeline does not report playable" if not any(found["reports_playable"])
               else "the video JSON has `playable` but it never turned true before ready")
        result.append(Figure("streaming", f"upload end to playable, {clip_name}", None, "s", ready,
                             "upload end to ready", goal=f"ratio <= {GOAL_PLAYABLE}", note=f"not measured: {why}"))
    result.append(Figure(
        "streaming", "  hand-written ladder: every rung's first segment", median(found["ladder_first_segments"]),
        "s", median(found["ladder"]), "the whole ladder", note="one lockstep run: the earliest it could play",
    ))
    if any(v is not None for v in found["master_in_storage"]):
        result.append(Figure("streaming", "  upload end to master playlist in storage",
                             median([v for v in found["master_in_storage"] if v is not None]), "s"))

    # 2. upload to ready against the hand-written ladder
    ladder = median(found["ladder"])
    paired = median(_ratios(found["upload_to_ready"], found["ladder"]))
    result.append(Figure(
        "streaming", f"upload to ready, {clip_name}", median(found["upload_to_ready"]), "s", ladder,
        "ffmpeg making the HLS ladder", goal=f"ratio <= {GOAL_READY}" if streams else "",
        met=(paired <= GOAL_READY) if streams else None, samples=found["upload_to_ready"],
        note=f"median of paired ratios {paired:.3f}" + ("" if streams else
             "; the pipeline makes no HLS yet: this is today's MP4 pipeline, not comparable"),
    ))
    result.append(Figure("streaming", "  upload (POST until 202)", median(found["upload"]), "s"))
    if found["encode"]:
        result += [
            Figure("streaming", "  upload end until the job's ffmpeg starts", median(found["to_encode"]), "s"),
            Figure("streaming", "  the job's ffmpeg (one decode, every output), wall", median(found["encode"]), "s",
                   ladder, "the hand-written ladder", note="it makes the storyboard's thumbnails and the "
                   "content check's samples too"),
            Figure("streaming", "  the job's ffmpeg, CPU", median(found["encode_cpu"]), "s",
                   median(found["ladder_cpu"]), "the hand-written ladder"),
            Figure("streaming", "  its end until ready (remux, storyboard, publish)", median(found["after_encode"]),
                   "s", note=f"of which ffmpeg/ffprobe CPU {median(found['after_encode_cpu']):.2f} s"),
        ]
        to_segments = [v for v in found["encode_to_first_segments"] if v is not None]
        if to_segments:
            result.append(Figure(
                "streaming", "  the job's ffmpeg start until every rung's first segment", median(to_segments), "s",
                median(found["ladder_first_segments"]), "hand-written: every rung's first segment",
                note="in the job's work folder, before it is checked and published",
            ))
        to_playable = [v for v in found["encode_to_playable"] if v is not None]
        lags = [p - f for p, f in zip(found["encode_to_playable"], found["encode_to_first_segments"], strict=True)
                if p is not None and f is not None]
        if to_playable:
            result.append(Figure(
                "streaming", "  the job's ffmpeg start until playable", median(to_playable), "s",
                median(found["ladder_first_segments"]), "hand-written: every rung's first segment",
                note="a segment is published once written and its frames checked" + (
                    f"; {median(lags):.2f} s after the job's ffmpeg had written every first segment" if lags else ""),
            ))

    # 3. packaging and storyboard, CPU, against the encode
    encode = median(found["null_cpu"])
    parts = {
        "segmenting": "HLS segmenting (stream copy of the downloads; an upper bound)",
        "remux": "MP4 downloads remuxed from the segments",
        "playlists": "playlists: finalize, master with measured rates",
        "storyboard_branch": f"storyboard branch (decode + {AMPLIFY} branches - decode, / {AMPLIFY})",
        "tile": "storyboard sheets and cues (tile, WebVTT)",
    }
    total = 0.0
    for key, label in parts.items():
        value = median(found[key])
        total += value
        result.append(Figure("streaming", f"  CPU: {label}", value, "s", encode, "the encode (null muxer)"))
    packaging = median(_ratios([a - b for a, b in zip(found["ladder_cpu"], found["null_cpu"], strict=True)],
                               found["null_cpu"]))
    result.append(Figure(
        "streaming", "packaging + storyboard CPU / the encode's", 100 * total / encode, "%",
        goal=f"<= {100 * GOAL_PACKAGING:g} %", met=total / encode <= GOAL_PACKAGING,
        note=f"{total:.2f} s over {encode:.1f} s (the five lines above); paired runs, the HLS muxer against "
             f"the null muxer, say {100 * packaging:+.1f} % for the muxing alone (within the noise of a whole encode)",
    ))
    result.append(Figure(
        "streaming", "  CPU: the HLS ladder's encode", median(found["ladder_cpu"]), "s", median(found["mp4_cpu"]),
        "today's MP4 ladder", note=f"wall {median(found['ladder']):.2f} s against {median(found['mp4']):.2f} s; "
        f"the source's decode alone {median(found['decode_cpu']):.1f} s CPU",
    ))

    # 4. bytes
    result += found.get("bytes", [])
    return result


if __name__ == "__main__":
    at = None
    if "--commit" in sys.argv:
        index = sys.argv.index("--commit")
        at = sys.argv[index + 1]
        del sys.argv[index : index + 2]
    main(lambda quick: run(quick, at))
