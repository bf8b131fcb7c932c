"""The samples of every round as figures: medians, ratios the median of the paired ones, the goals."""

from __future__ import annotations

from bench.common import Figure, log, median
from bench.streaming.engine import AMPLIFY

GOAL_PLAYABLE = 0.15
GOAL_READY = 1.03
GOAL_PACKAGING = 0.02


def as_seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f} s"


def _ratios(top: list, bottom: list) -> list[float]:
    return [a / b for a, b in zip(top, bottom, strict=True) if a is not None and b]


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
                        f"{as_seconds(median([p for p in found['playable_events'] if p is not None] or [None]))}"),
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
