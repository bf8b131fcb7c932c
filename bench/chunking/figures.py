"""The rounds' samples as figures (medians; ratios the median of the paired ones), and the estimate
for a 60 min 1080p video from the measured per-chunk costs.

The estimate: 60 chunks of 60 s. A chunk costs the measured chunk job's wall time per second of
video (one worker, one core) x 60 x the 1080p/720p ratio of the chunk command (ladder.py); the
audio job and the finish scale with the video's length (the finish, which copies every segment
into the MP4 downloads, with the ladder's bytes too); the planning job is fixed. The items are
handed to N workers in queue order (the audio and chunk 0 first, on `default`; the other chunks
on `low`), each to the first worker free; the finish runs after the last of them. "With S3" adds,
for an assumed S3_MB_S per worker, the download of the whole source by the first job (to probe it),
then once by each worker dyno, for the first part it takes (its later parts read it from the dyno's
SOURCE_CACHE_MB cache, app/platform/storage/cache.py), and the finish's download of every segment, one GET at a time
(S3_REQUEST_S each), and its upload of the MP4s (this benchmark's storage is a local folder: those
copies cost it next to nothing).
"""

from __future__ import annotations

import heapq

from bench.common import Figure, median
from media.hls import SEGMENT_SECONDS

GOAL_SPEEDUP = 1.8
GOAL_CPU = 1.05
GOAL_BYTES = 0.01
GOAL_PSNR = 0.1
GOAL_PLAYABLE = 10.0
LONG_SECONDS, LONG_CHUNK = 3600, 60
WORKERS = (1, 10, 50)
S3_MB_S = 100.0  # an assumption: one worker's sustained transfer from S3
S3_REQUEST_S = 0.03  # an assumption: one GET's latency, paid once an object by the finish's fetch (one at a time)
MEDIA_1080 = 4  # playlists at 1080p: 3 rungs and the audio


def seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f} s"


def _paired(top: list[dict], bottom: list[dict], key: str) -> float:
    return median([a[key] / b[key] for a, b in zip(top, bottom, strict=True)])


def _pooled(samples: list[dict], kind: str) -> list[float]:
    return [wall for s in samples for wall in s["jobs"].get(kind, [])]


def makespan(workers: int, jobs: list[float]) -> float:
    """Jobs taken in order, each by the first worker free: when the last one ends."""
    free = [0.0] * workers
    for job in jobs:
        heapq.heappush(free, heapq.heappop(free) + job)
    return max(free)


def estimate(costs: dict[str, float], workers: int, s3: bool) -> float:
    """Upload end to ready of the long video on `workers` single-core workers (see the docstring)."""
    chunk, audio, finish, first = costs["chunk"], costs["audio"], costs["finish"], costs["plan"]
    count = LONG_SECONDS // LONG_CHUNK
    jobs = [audio] + [chunk] * count
    if s3:  # the first job downloads the source to probe it; each worker dyno once more, for the parts
        first += download(costs)  # it takes (SOURCE_CACHE_MB keeps it): the first job each worker takes
        jobs = [job + download(costs) if index < workers else job for index, job in enumerate(jobs)]
        objects = MEDIA_1080 * LONG_SECONDS / SEGMENT_SECONDS
        finish += 2 * costs["ladder_bytes"] / (S3_MB_S * 1e6) + objects * S3_REQUEST_S
    return first + makespan(workers, jobs) + finish


def download(costs: dict[str, float]) -> float:
    return costs["source_bytes"] / (S3_MB_S * 1e6)


def figures(found: dict[str, list], cost: dict[str, float], cfg: dict, source_bytes: int) -> list[Figure]:
    two, one, whole = found["two"], found["one"], found["whole"]
    clip = f"{cfg['seconds']} s 720p30"
    result: list[Figure] = []

    def med(samples: list[dict], key: str) -> float | None:
        values = [s[key] for s in samples if s[key] is not None]
        return median(values) if len(values) == len(samples) else None

    # 1, 2. upload end to ready
    speedup = _paired(one, two, "ready")
    rounds = ", ".join(f"{o['ready'] / t['ready']:.2f}" for o, t in zip(one, two, strict=True))

    # what the schedule allows: the jobs as measured on 1 worker, on 2 (each slowed as the machine
    # slows two ffmpeg runs side by side, for the ceiling)
    pair = cost["side_by_side"]
    jobs = {kind: median(_pooled(one, kind)) for kind in ("chunk", "audio", "finish", "whole")}
    serial = jobs["whole"] + jobs["finish"]
    work = [jobs["audio"]] + [jobs["chunk"]] * one[0]["chunks"]
    alone = serial + makespan(1, work)
    ideal = alone / (serial + makespan(2, work))
    ceiling = alone / (serial + makespan(2, [w * pair["wall"] for w in work]))

    def others(samples: list[dict]) -> str:
        return f"the rest of the machine busy {med(samples, 'others'):.2f} cores meanwhile"

    result += [
        Figure("chunking", f"upload end to ready, {clip}, 2 workers (chunked)", med(two, "ready"), "s",
               med(one, "ready"), "1 worker (chunked)", samples=[s["ready"] for s in two],
               note=f"{two[0]['chunks']} chunks of {cfg['chunk']} s, the audio, a finish; source "
                    f"{source_bytes / 2**20:.0f} MiB, {source_bytes * 8 / cfg['seconds'] / 1e6:.1f} Mbit/s; "
                    f"{others(two)}, {others(one).removeprefix('the rest of the machine busy ')} with 1"),
        Figure("chunking", "speedup, 2 single-core workers over 1", speedup, "", goal=f">= {GOAL_SPEEDUP}",
               met=speedup >= GOAL_SPEEDUP, note=f"median of paired ratios of upload end to ready (rounds: "
               f"{rounds}); the "
               f"schedule alone allows {ideal:.2f}, with this machine's side-by-side slowdown {ceiling:.2f}"),
        Figure("chunking", "  the chunk command alone, two side by side", pair["pair"], "s", pair["alone"],
               "one alone", note=f"720p, {cost['seconds']:g} s, on cores 0 and 1 against core 0 alone: each run's "
               f"CPU x{pair['cpu']:.3f}; the machine, not the service"),
        Figure("chunking", f"upload end to ready, {clip}, 1 worker, unchunked", med(whole, "ready"), "s",
               note=f"1 worker chunked against it: {_paired(one, whole, 'ready'):.3f} (paired); {others(whole)}"),
    ]
    # 3. CPU
    cpu = _paired(one, whole, "cpu")
    result.append(Figure(
        "chunking", "CPU of the conversion, chunked (1 worker)", med(one, "cpu"), "s", med(whole, "cpu"),
        "unchunked", goal=f"ratio <= {GOAL_CPU}", met=cpu <= GOAL_CPU,
        note=f"user + system of the worker trees, ffmpeg included; paired {cpu:.3f}; on 2 workers "
             f"{med(two, 'cpu'):.1f} s ({_paired(two, whole, 'cpu'):.3f})"))
    # 4. output
    for rung in one[0]["bytes"]:
        chunked, plain = one[0]["bytes"][rung], whole[0]["bytes"][rung]
        off = chunked / plain - 1
        same = all(s["bytes"] == one[0]["bytes"] for s in one + two)
        result.append(Figure(
            "chunking", f"bytes of the {rung} segments, chunked", chunked / 2**20, "MiB", plain / 2**20,
            "unchunked", goal="within +-1 %" if rung != "audio" else "", met=abs(off) <= GOAL_BYTES if
            rung != "audio" else None,
            note=f"{100 * off:+.2f} %" + ("; every chunked run made the same bytes" if same else
                                           "; the chunked runs differ among themselves")))
    if "psnr" in found:
        chunked, plain = found["psnr"]
        diff = chunked["all"] - plain["all"]
        result.append(Figure(
            "chunking", "PSNR of the 720p download against the source, chunked", chunked["all"], "dB",
            plain["all"], "unchunked", goal=f"within {GOAL_PSNR} dB", met=abs(diff) <= GOAL_PSNR,
            note=f"{diff:+.3f} dB; Y {chunked['y']:.2f} against {plain['y']:.2f}"))
    # 5. playable
    result += [
        Figure("chunking", "upload end to playable, 2 workers", med(two, "playable"), "s",
               goal=f"< {GOAL_PLAYABLE:g} s", met=(med(two, "playable") or 1e9) < GOAL_PLAYABLE,
               note=f"the API said playable at ready: {all(s['api_playable'] for s in two + one + whole)}"),
        Figure("chunking", "upload end to playable, 1 worker (chunked)", med(one, "playable"), "s",
               note="its audio job runs before chunk 0"),
        Figure("chunking", "upload end to playable, 1 worker, unchunked", med(whole, "playable"), "s"),
    ]
    # 6. per-chunk costs (the 1-worker runs: one job on one core, nothing beside it but the web)
    chunk_walls, chunk_seconds = _pooled(one, "chunk"), [d for s in one for d in s["chunk_seconds"]]
    walls = {kind: median(_pooled(one, kind)) for kind in ("chunk", "audio", "finish", "whole")}
    rate = sum(chunk_walls) / sum(chunk_seconds)  # a chunk job's wall seconds a second of video
    per_chunk = median([s["commands"] / s["chunks"] for s in one])
    per_second = median([s["commands"] / sum(sum(w) for w in s["jobs"].values()) for s in one])
    result += [
        Figure("chunking", f"  chunk job, wall (about {cfg['chunk']} s of video)", walls["chunk"], "s",
               note=f"median of {len(chunk_walls)}; {rate:.3f} s a second of video (chunks of "
                    f"{', '.join(f'{d:g}' for d in one[0]['chunk_seconds'])} s); on 2 workers "
                    f"{median(_pooled(two, 'chunk')):.2f} s"),
        Figure("chunking", f"  audio job, wall ({cfg['seconds']} s of audio)", walls["audio"], "s"),
        Figure("chunking", "  finish job, wall", walls["finish"], "s",
               note="playlists, every segment fetched, the MP4s remuxed, storyboard, ready"),
        Figure("chunking", "  first job, wall (probe, plan, enqueue)", walls["whole"], "s",
               note=f"the unchunked conversion's one job: {median(_pooled(whole, 'whole')):.1f} s"),
        Figure("chunking", "  Redis commands per chunk", per_chunk, "",
               note=f"the chunked conversion's {med(one, 'commands'):.0f}, less the idle workers' rate "
                    f"({med(one, 'idle'):.1f}/s), over its chunks; unchunked {med(whole, 'commands'):.0f} a "
                    f"conversion; {(med(one, 'commands') - med(whole, 'commands')) / one[0]['chunks']:.0f} "
                    f"more a chunk; {per_second:.0f} a second of a running job, chunked "
                    f"({median([s['commands'] / sum(s['jobs']['whole']) for s in whole]):.0f} unchunked)"),
    ]
    # 7. the 1080p cost and the estimate
    result.append(Figure(
        "chunking", "  chunk command at 1080p over 720p, CPU", cost["cpu"], "",
        note=f"{cost['seconds']:g} s clip on one core: {cost['cpu_1080']:.1f} s against {cost['cpu_720']:.1f} s; "
             f"bytes x{cost['bytes']:.2f}"))
    measured = cfg["seconds"]
    scale = LONG_SECONDS / measured
    costs = {
        "chunk": rate * LONG_CHUNK * cost["wall"],
        "audio": walls["audio"] * scale,
        "finish": walls["finish"] * scale * cost["bytes"],
        "plan": walls["whole"],
        "source_bytes": cost["source_1080"] / cost["seconds"] * LONG_SECONDS,
        "ladder_bytes": cost["bytes_1080"] / cost["seconds"] * LONG_SECONDS,
    }
    unchunked = med(whole, "ready") * scale * cost["wall"]
    result.append(Figure(
        "chunking", "estimate: 60 min 1080p, chunk job", costs["chunk"], "s",
        note=f"audio {costs['audio']:.0f} s, finish {costs['finish']:.0f} s, first job {costs['plan']:.1f} s; "
             f"source {costs['source_bytes'] / 1e9:.1f} GB, ladder {costs['ladder_bytes'] / 1e9:.1f} GB"))
    for workers in WORKERS:
        local, s3 = estimate(costs, workers, False), estimate(costs, workers, True)
        result.append(Figure(
            "chunking", f"estimate: 60 min 1080p, {workers} worker{'s' if workers > 1 else ''}", local, "s",
            note=f"{local / 60:.1f} min; with S3 at {S3_MB_S:g} MB/s a worker {s3 / 60:.1f} min" + (
                f"; unchunked {unchunked / 60:.1f} min" if workers == 1 else "")))
    playable = med(two, "playable")
    result.append(Figure(
        "chunking", "estimate: 60 min 1080p, upload end to playable with S3", playable + 2 * download(costs), "s",
        note=f"as measured here ({playable:.1f} s) plus two downloads of the whole source, one after the other: "
             f"the first job's and chunk 0's, {download(costs):.0f} s each"))
    items = LONG_SECONDS // LONG_CHUNK + 1  # the chunks and the audio
    floor = estimate(costs, items, False)
    result.append(Figure(
        "chunking", f"estimate: 60 min 1080p, {items} workers or more", floor, "s",
        note=f"{floor / 60:.1f} min: one chunk, then the serial finish; with S3 "
             f"{estimate(costs, items, True) / 60:.1f} min, the source read {items + 1} times (the first job, "
             f"then once by each worker's dyno: {(items + 1) * costs['source_bytes'] / 1e9:.0f} GB)"))
    return result
