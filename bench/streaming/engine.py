"""The hand-written ffmpeg commands each round runs, and running them as the worker runs its ffmpeg.

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
- `floor`: ffmpeg making 360p alone, today's smallest MP4 rendition with no poster: what a pipeline
  that published the smallest rendition first could approach.

Every ffmpeg runs at the niceness the worker gives it (10), in a session of its own as the worker's
is (with the kernel's autogroups, sessions share the CPU among themselves and niceness acts only
within one), and with ffmpeg's own thread counts, as the worker runs it (nothing in media/ or
app/config.py sets threads); nothing is pinned to a core, as in the other benchmarks. CPU is
user + system of the child, from os.wait4 or RUSAGE_CHILDREN deltas.
"""

from __future__ import annotations

import os
import resource
import subprocess
import time
from pathlib import Path

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


def hls_output(folder: Path) -> list[str]:
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
            args += hls_output(out / f"{h}p") if kind == "hls" else ["-f", "null", "-"]
    if kind in ("hls", "null"):  # the audio once, as its own rendition
        args += ["-map", "0:a", *audio, "-map_metadata", "-1"]
        args += hls_output(out / "audio") if kind == "hls" else ["-f", "null", "-"]
    if poster:
        args += ["-map", "[poster]", "-frames:v", "1", "-q:v", "3", str(out / "poster.jpg")]
    return args


def floor_args(source: Path, out: Path) -> list[str]:
    """The floor: today's smallest MP4 rendition alone, no poster."""
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
