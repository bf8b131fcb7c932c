"""Every output is SDR BT.709 and tagged so: HDR (PQ, HLG) tone-mapped in the decode, SDR left as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from media import colour, command
from media.hls import HlsRung
from media.ladder import Rung
from media.probe import Colour, Limits, MediaInfo, probe
from media.runner import RunLimits, run
from tests.media import streams
from tests.phone_clips import hdr_clip, psnr, sdr_picture_clip
from tests.unit.media.conftest import FAST

RUNG = Rung(320, 180)


def graph_of(info: MediaInfo, folder: Path) -> str:
    args = command.build(folder / "in.mp4", info, [HlsRung(RUNG, folder / "180p", 25, FAST)])
    return args[args.index("-filter_complex") + 1]


def info_with(tags: Colour, height: int = 1080) -> MediaInfo:
    return MediaInfo("mov", 2.0, height * 16 // 9, height, 25.0, False, colour=tags)


@pytest.mark.parametrize("transfer", [colour.PQ, colour.HLG])
def test_hdr_is_tone_mapped_once_at_the_largest_rungs_size(transfer, tmp_path):
    graph = graph_of(info_with(Colour(transfer, "bt2020", "bt2020nc", "tv")), tmp_path)
    assert graph.count("]tonemap=") == 1 and "tonemap=mobius" in graph
    assert f"tin={transfer}" in graph and "h=180:" in graph and ":w=320" in graph, "the float work at the rung's size"
    assert graph.index("]tonemap=") < graph.index("split="), "before the split: once for every output"


def test_peak_light_sets_how_far_highlights_are_rolled_off(tmp_path):
    bright = graph_of(info_with(Colour(colour.PQ, "bt2020", "bt2020nc", "tv", peak_nits=4000)), tmp_path)
    assert f"peak={4000 / colour.REFERENCE_WHITE_NITS:.3f}" in bright
    unknown = graph_of(info_with(Colour(colour.PQ, "bt2020", "bt2020nc", "tv")), tmp_path)
    assert f"peak={colour.DEFAULT_PEAK_NITS / colour.REFERENCE_WHITE_NITS:.3f}" in unknown


def test_bt709_sdr_is_left_as_it_is(tmp_path):
    graph = graph_of(info_with(Colour("bt709", "bt709", "bt709", "tv")), tmp_path)
    assert "tonemap" not in graph and "zscale" not in graph and "out_color_matrix" not in graph


@pytest.mark.parametrize(("tags", "height"), [(Colour(matrix="smpte170m"), 1080), (Colour(), 480)])
def test_another_matrix_is_converted_to_bt709s(tags, height, tmp_path):
    """Tagged BT.601, or SD without tags (players read it as BT.601): converted, so the tags stay true."""
    graph = graph_of(info_with(tags, height), tmp_path)
    assert "out_color_matrix=bt709" in graph and "tonemap" not in graph


def test_untagged_hd_is_taken_as_bt709(tmp_path):
    assert "out_color_matrix" not in graph_of(info_with(Colour(), 720), tmp_path)


def through_a_rung(source: Path, folder: Path) -> Path:
    """`source` made into one HLS rung the size of the reference, joined into one file."""
    info = probe(source, Limits())
    rung = HlsRung(RUNG, folder / "180p", 25, FAST)
    run(command.build(source, info, [rung]), info.duration, lambda fraction: None, lambda: None, RunLimits(120))
    out = folder / "out.mp4"
    segments = sorted(rung.folder.glob("seg_*.m4s"))
    out.write_bytes(b"".join(p.read_bytes() for p in [rung.folder / "init.mp4", *segments]))
    return out


@pytest.mark.parametrize("transfer", [colour.PQ, colour.HLG])
def test_an_sdr_picture_taken_to_hdr_and_back_stays_close(transfer, tmp_path):
    """The round trip a washed-out conversion fails: SDR -> HDR (BT.2408's mapping, as a phone's HDR
    holds SDR-range content) -> Conveyor's rung, compared with the SDR picture (PSNR over Y, U, V), and
    with what the SDR picture itself loses on the same rung."""
    original = sdr_picture_clip(tmp_path / "sdr.mp4", width=RUNG.width, height=RUNG.height)
    hdr = hdr_clip(original, tmp_path / "hdr.mp4", transfer)
    assert probe(hdr, Limits()).colour.transfer == transfer
    (tmp_path / "hdr").mkdir()
    (tmp_path / "sdr").mkdir()
    out = through_a_rung(hdr, tmp_path / "hdr")
    video = next(s for s in streams(out) if s["codec_type"] == "video")
    assert (video["color_primaries"], video["color_transfer"], video["color_space"], video["color_range"]) == (
        "bt709", "bt709", "bt709", "tv"
    )
    assert video["pix_fmt"] == "yuv420p"
    faithful = psnr(out, original)
    encoded = psnr(through_a_rung(original, tmp_path / "sdr"), original)  # the encode's own loss
    washed_out = psnr(hdr, original, plain=True)  # the HDR pixels read as SDR, as without tone mapping
    print(f"{transfer}: {faithful:.1f} dB through Conveyor (SDR itself {encoded:.1f}), {washed_out:.1f} read as SDR")
    # most of what is lost is the colour bars' sharp chroma edges, resampled from 4:2:0 and back twice
    assert faithful >= 25, f"{faithful:.1f} dB, the SDR source itself {encoded:.1f} dB"
    assert washed_out < 20, f"a conversion that ignores HDR would pass: {washed_out:.1f} dB"
