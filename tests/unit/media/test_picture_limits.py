"""Picture-size limits on every picture: a stream whose size grows after its first pictures passes the
probe (it judges the header and the first pictures) and is stopped by the decoder's `-max_pixels` in
the conversion's run, with a message saying so; a picture exactly at the limit is decoded."""

from __future__ import annotations

import pytest

from media import command, runner, sandbox
from media.errors import BadMedia
from media.ladder import Rung
from media.outputs import Mp4Rendition
from media.probe import Limits, probe
from tests.hostile import growing_picture
from tests.media import make_clip
from tests.unit.media.conftest import FAST

LIMITS = Limits(max_width=1280, max_height=1280, max_pixels=320 * 320)


@pytest.fixture(scope="module")
def growing(tmp_path_factory):
    return growing_picture(tmp_path_factory.mktemp("growing") / "growing.ts")


def convert(source, tmp_path, limits: Limits = LIMITS):
    info = probe(source, limits)
    output = Mp4Rendition(Rung(160, 120), tmp_path / "out.mp4", FAST)
    runner.run(command.build(source, info, [output]), info.duration, lambda _: None, lambda: None,
               runner.RunLimits(timeout=120))
    return info


def test_the_probe_sees_only_the_first_size(growing):
    info = probe(growing, LIMITS)
    assert (info.width, info.height) == (320, 240)
    assert info.max_pixels == 320 * 320 and info.max_side == 1280


def test_the_run_decodes_every_picture_under_the_limit(growing):
    info = probe(growing, LIMITS)
    args = command.build(growing, info, [Mp4Rendition(Rung(160, 120), growing.with_suffix(".mp4"), FAST)])
    guard = args[args.index("-max_pixels") + 1]
    assert args.index("-max_pixels") < args.index("-i")  # an input (decoder) option
    assert int(guard) == 320 * 320 + 63 * 1280


def test_a_picture_that_grows_partway_stops_the_conversion(growing, tmp_path):
    with pytest.raises(BadMedia, match=r"partway through the video is 640x640, over the limit on picture size"):
        convert(growing, tmp_path)


def test_within_the_limit_it_converts(growing, tmp_path):
    convert(growing, tmp_path, Limits(max_pixels=640 * 640))
    assert (tmp_path / "out.mp4").stat().st_size > 0


def test_a_picture_exactly_at_the_limit_is_decoded(tmp_path):
    """Decoders check the width rounded up to their row alignment: 1080 wide is checked as 1088."""
    clip = make_clip(tmp_path / "portrait.mp4", seconds=0.4, width=270, height=480, audio=False)
    convert(clip, tmp_path, Limits(max_width=480, max_height=480, max_pixels=270 * 480))
    assert (tmp_path / "out.mp4").stat().st_size > 0


def test_the_probe_refuses_first_pictures_over_the_limit(growing, tmp_path):
    big = growing_picture(tmp_path / "big.ts", first=(640, 640), then=(320, 240))
    with pytest.raises(BadMedia, match=r"The picture is 640x640, 409,600 pixels; the limit is 102,400 pixels"):
        probe(big, LIMITS)


def test_no_limit_no_guard():
    assert sandbox.picture_guards(0, 7680) == {}


def test_the_refused_size_is_read_from_ffmpegs_log():
    line = "[h264 @ 0x5] [IMGUTILS @ 0x7] Picture size 7680x7680 exceeds specified max pixel count 33669120, see"
    assert sandbox.oversized_picture(line) == (7680, 7680)
    assert sandbox.oversized_picture("Invalid data found when processing input") is None
