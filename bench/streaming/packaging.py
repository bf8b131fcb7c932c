"""What the pipeline does after the encode, done on the hand-written ladder's output, and its CPU.

After `ladder`, the work the pipeline adds to the encode is done on its output and its CPU taken
from the children's resource usage: the MP4 downloads remuxed from the segments
(media/remux.mp4_from_hls), the playlists (finalize, the measured master playlist), the storyboard
sheets (storyboard.tile) and cues, and the segmenting itself as a stream copy of the downloads into
HLS (demuxing included: an upper bound of what the HLS muxer costs inside the encode). Python's own
work is taken from the process's CPU time.
"""

from __future__ import annotations

from pathlib import Path

from bench.common import log
from bench.streaming.engine import (
    FPS,
    HEIGHTS,
    MAX_RATE,
    WIDTHS,
    children_cpu,
    hls_output,
    own_cpu,
    storyboard_args,
    storyboard_layout,
    timed,
)
from media.binaries import find


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
        args += ["-map", f"{i}:v", "-c", "copy", *hls_output(copied / f"{h}p")]
    args += ["-map", "0:a", "-c", "copy", *hls_output(copied / "audio")]
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
