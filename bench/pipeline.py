"""Pipeline overhead: a 30 s 1080p30 clip from upload to `ready` against ffmpeg alone.

The baseline is one hand-written ffmpeg command making the MP4 ladder (360p, 720p, 1080p; libx264
veryfast CRF 23, AAC 128k, faststart) and the poster, from the same file: the product before
streaming (issue 13). The pipeline now makes the HLS ladder (capped rungs, closed 2 s GOPs, fMP4
segments) with the storyboard and the content check's samples, then remuxes the MP4 downloads from
it, so the ratio is not like for like: it says what a video costs now against the MP4 ladder alone.
The like-for-like figure is bench.streaming's upload to ready against the hand-written HLS ladder.
Both run at the niceness the worker gives ffmpeg (10), so on a shared machine they compete alike.
Runs alternate (ffmpeg, pipeline, ffmpeg, ...) so that drift in the machine's load hits both.
"""

from __future__ import annotations

import functools
import os
import resource
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from rq.job import Job

from app.domain.plan import job_id
from bench.common import Figure, clip, log, main, median, scratch
from bench.harness import ProcessTimeline, Running, cpu_seconds, descendants
from media.binaries import find

NICENESS = 10  # what media/sandbox.limits gives ffmpeg
HEIGHTS = (360, 720, 1080)
GOAL = 1.05


def settings(quick: bool) -> dict:
    return {"seconds": 10 if quick else 30, "repeats": 2 if quick else 3}


def ffmpeg_alone(source: Path, out: Path, heights: tuple[int, ...] = HEIGHTS, poster: bool = True) -> float:
    """The hand-written baseline: one decode, split to every rendition (and the poster). Wall seconds."""
    return ffmpeg_alone_costs(source, out, heights, poster)[0]


def ffmpeg_alone_costs(
    source: Path, out: Path, heights: tuple[int, ...] = HEIGHTS, poster: bool = True
) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of the baseline command."""
    out.mkdir(parents=True, exist_ok=True)
    branches = len(heights) + (1 if poster else 0)
    graph = [f"[0:v]split={branches}" + "".join(f"[s{i}]" for i in range(branches))]
    graph += [f"[s{i}]scale=-2:{h},setsar=1[v{i}]" for i, h in enumerate(heights)]
    if poster:
        graph.append(f"[s{len(heights)}]select='gte(t,1)',scale=-2:{max(heights)},setsar=1[poster]")
    args = [find("ffmpeg"), "-nostdin", "-y", "-loglevel", "error", "-i", str(source),
            "-filter_complex", ";".join(graph)]
    for i, h in enumerate(heights):
        args += ["-map", f"[v{i}]", "-map", "0:a",
                 "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
                 "-c:a", "aac", "-b:a", "128k", "-ac", "2",
                 "-movflags", "+faststart", "-map_metadata", "-1", str(out / f"{h}p.mp4")]
    if poster:
        args += ["-map", "[poster]", "-frames:v", "1", "-q:v", "3", str(out / "poster.jpg")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(args, check=True, preexec_fn=lambda: os.nice(NICENESS))
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def stack_roles(run: Running) -> dict[int, str]:
    """Every long-lived process of the stack and what it is: web, worker (with its scheduler), redis."""
    workers = [p.pid for p in run.live_workers()]
    roles = {run.stack.web.pid: "web", **{pid: "web" for pid in run.web_pids()}, run.redis.process.pid: "redis"}
    roles.update({pid: "worker" for pid in workers})
    roles.update({c: "worker" for w in workers for c in descendants(w)})
    return roles


def redis_calls(run: Running) -> dict[str, int]:
    """Commands Redis has run so far, by name (INFO commandstats)."""
    stats = run.client().info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


def through_stack(run: Running, source: Path) -> dict[str, float]:
    """Upload; watch the API (for the end) and every process's CPU."""
    roles = stack_roles(run)
    cpu_before = {pid: cpu_seconds(pid) for pid in roles}
    calls_before = redis_calls(run)
    with ProcessTimeline([p.pid for p in run.live_workers()]) as timeline:
        t0 = time.time()
        video_id = run.upload(source, title="bench")["id"]
        accepted = time.time()
        deadline = time.monotonic() + 1200
        while time.monotonic() < deadline:
            time.sleep(0.25)  # the API every 0.25 s, as a client would
            body = run.video(video_id)
            if body["state"] not in ("queued", "processing"):
                break
    if body["state"] != "ready":
        raise RuntimeError(f"the video ended {body['state']}: {body.get('error')}")
    cpu = {"web": 0.0, "worker": 0.0, "horse": 0.0, "redis": 0.0, "ffprobe": 0.0, "ffmpeg": 0.0}
    for pid, before in cpu_before.items():
        cpu[roles[pid]] += cpu_seconds(pid) - before
    for span in timeline.spans.values():
        if span.pid not in cpu_before:  # the work horse (Python), ffprobe, ffmpeg
            cpu[span.name if span.name in cpu else "horse"] += span.cpu
    calls = {k: v - calls_before.get(k, 0) for k, v in redis_calls(run).items() if v > calls_before.get(k, 0)}
    log("Redis commands during the conversion: "
        + ", ".join(f"{k} {v}" for k, v in sorted(calls.items(), key=lambda kv: -kv[1])[:8]))
    ffmpeg = timeline.named("ffmpeg")
    horse = timeline.parent_of(ffmpeg[0]) if ffmpeg else None
    times = run.times(video_id)
    job = Job.fetch(job_id(video_id), connection=run.client())
    ready = times["finished"]  # the commit that makes the API say `ready`; polling adds nothing to it
    sample = {
        "ready": ready - t0,
        "upload": accepted - t0,
        "dispatch": _epoch(job.started_at) - _epoch(job.enqueued_at),
        "stack_cpu": sum(cpu.values()),
        "redis_commands": sum(calls.values()),
        **{f"cpu_{role}": seconds for role, seconds in cpu.items() if role != "ffmpeg"},
    }
    if horse and ffmpeg:
        sample["before_ffmpeg"] = ffmpeg[0].first - horse.first
        sample["ffmpeg"] = ffmpeg[-1].last - ffmpeg[0].first
        sample["ffmpeg_cpu"] = sum(span.cpu for span in ffmpeg)
        sample["publish"] = ready - ffmpeg[-1].last
    return sample


def _epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp()


def ffprobe_alone(source: Path) -> float:
    """What one of the job's probes costs by itself: the same kind of ffprobe call, timed here."""
    started = time.monotonic()
    subprocess.run([find("ffprobe"), "-v", "error", "-show_format", "-show_streams", "-of", "json", str(source)],
                   check=True, capture_output=True)
    return time.monotonic() - started


@functools.cache
def samples(quick: bool) -> dict[str, list[float]]:
    """Alternating runs of ffmpeg alone and the stack on the same clip; measured once a process."""
    cfg = settings(quick)
    source = clip(cfg["seconds"], 1920, 1080, 30)
    found: dict[str, list[float]] = {"ffmpeg_alone": []}
    with Running(workers=1) as run:
        for attempt in range(cfg["repeats"]):
            alone, alone_cpu = ffmpeg_alone_costs(source, scratch() / "baseline")
            found["ffmpeg_alone"].append(alone)
            found.setdefault("ffmpeg_alone_cpu", []).append(alone_cpu)
            sample = through_stack(run, source)
            sample["ffprobe"] = ffprobe_alone(source)
            for key, value in sample.items():
                found.setdefault(key, []).append(value)
            log(f"run {attempt + 1}/{cfg['repeats']}: ffmpeg alone {alone:.2f} s, stack {sample['ready']:.2f} s "
                f"(" + ", ".join(f"{k} {v:.3f}" for k, v in sample.items() if k != "ready") + ")")
    found["seconds"] = [cfg["seconds"]]
    return found


def run(quick: bool) -> list[Figure]:
    found = samples(quick)
    seconds = int(found["seconds"][0])
    alone, ready = median(found["ffmpeg_alone"]), median(found["ready"])
    paired = median([r / a for r, a in zip(found["ready"], found["ffmpeg_alone"], strict=True)])
    alone_cpu = median(found["ffmpeg_alone_cpu"])
    figures = [
        Figure("pipeline", f"upload to ready, {seconds} s 1080p30 clip", ready, "s", alone, "ffmpeg alone",
               goal=f"ratio <= {GOAL}", met=ready / alone <= GOAL, samples=found["ready"],
               note=f"median of paired ratios {paired:.3f}"),
        Figure("pipeline", "CPU time of every stack process", median(found["stack_cpu"]), "s", alone_cpu,
               "ffmpeg alone", note="user + system; robust to a busy machine", samples=found["stack_cpu"]),
    ]
    parts = [
        ("upload", "upload (POST until 202)", None),
        ("dispatch", "enqueue until the job starts (RQ's timestamps)", None),
        ("before_ffmpeg", "work horse start until ffmpeg starts", None),
        ("ffprobe", "one ffprobe of the source, alone (the job runs two)", None),
        ("ffmpeg", "ffmpeg inside the job, wall", "ffmpeg_alone"),
        ("ffmpeg_cpu", "ffmpeg inside the job, CPU", "ffmpeg_alone_cpu"),
        ("publish", "ffmpeg exit until `ready` committed", None),
        ("cpu_web", "CPU: gunicorn (upload, API polls 4/s)", None),
        ("cpu_horse", "CPU: the work horse (the job's Python)", None),
        ("cpu_worker", "CPU: worker.py and its scheduler", None),
        ("cpu_ffprobe", "CPU: ffprobe", None),
        ("cpu_redis", "CPU: redis-server", None),
        ("redis_commands", "Redis commands in one conversion", None),
    ]
    for key, label, against in parts:
        if key in found:
            baseline = median(found[against]) if against else None
            unit = "" if key == "redis_commands" else "s"
            figures.append(Figure("pipeline", f"  {label}", median(found[key]), unit, baseline,
                                  "ffmpeg alone" if against else "", samples=found[key]))
    return figures


if __name__ == "__main__":
    main(run)
