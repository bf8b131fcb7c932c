"""Every picture Conveyor makes is SDR BT.709, limited range, and says so in its tags.

High dynamic range video, as phones record it (HLG on iPhones, PQ/HDR10 on most Android phones), is
tone-mapped to SDR in the one decode, before the picture is split among the outputs: without it,
10-bit BT.2020 pixels read as BT.709 come out grey and washed out. The mapping, with zimg's `zscale`:
to linear light, scaled so that HDR's diffuse white (203 cd/m2, ITU-R BT.2408) is SDR's white; to
BT.709 primaries; then ffmpeg's `tonemap` with the Möbius curve, which leaves everything below
`ROLL_OFF_FROM` of that white as it is and rolls the highlights, up to the content's peak (its MaxCLL,
else its mastering display's, else 1000 cd/m2), off into the rest; back to BT.709's transfer and
matrix. An SDR picture taken up to HDR this way and back through Conveyor stays close to itself (the
figures: tests/integration/test_phone_media.py and the README).

The float work runs at the size of the largest rung, not the source's: a 4K phone clip with a 1080p
top rung costs a quarter of it.

SDR sources keep their pixels; one coded with another matrix (BT.601 of SD video: tagged so, or SD
and untagged, which is what players assume) is converted to BT.709's, so that the tags every output
carries are true.
"""

from __future__ import annotations

from media.probe import HLG, PQ, Colour  # noqa: F401  (PQ, HLG: the transfers it maps)

REFERENCE_WHITE_NITS = 203  # ITU-R BT.2408: HDR's diffuse white, which becomes SDR's
DEFAULT_PEAK_NITS = 1000  # what HLG is mastered for, and a PQ file without metadata most likely holds
ROLL_OFF_FROM = 0.8  # of SDR white, in linear light: below it the picture is untouched
HD_HEIGHT = 720  # untagged video below this is BT.601, as players read it
BT709 = ("bt709", "")
# JPEG's own colours (BT.601, full range): ffmpeg's automatic conversion for its encoder changes the
# range only, which turns BT.709's red 251 into 230; scale filters given this convert both
TO_JPEG = {"out_color_matrix": "bt601", "out_range": "pc"}
# the tags of every encoded picture (x264 writes them into the stream; MP4 and fMP4 copy them)
OUTPUT_TAGS = {"color_primaries": "bt709", "color_trc": "bt709", "colorspace": "bt709", "color_range": "tv"}


def to_sdr(picture, colour: Colour, width: int, height: int, coded_height: int):
    """The ffmpeg-python picture as SDR BT.709: tone-mapped to `width` x `height` when it is HDR, its
    matrix converted when it is another's; else as it is."""
    if colour.hdr:
        return tone_map(picture, colour, width, height)
    if colour.matrix not in BT709 or (not colour.matrix and coded_height < HD_HEIGHT):
        return picture.filter("scale", out_color_matrix="bt709", out_range="tv")
    return picture


def tone_map(picture, colour: Colour, width: int, height: int):
    peak = max(1.0, (colour.peak_nits or DEFAULT_PEAK_NITS) / REFERENCE_WHITE_NITS)
    return (
        picture.filter(
            "zscale", w=width, h=height, filter="spline36", t="linear", npl=REFERENCE_WHITE_NITS,
            tin=colour.transfer, pin=colour.primaries or "bt2020", min=colour.matrix or "bt2020nc",
            rin=colour.range or "tv",
        )
        .filter("format", "gbrpf32le")
        .filter("zscale", p="bt709")
        .filter("tonemap", tonemap="mobius", param=ROLL_OFF_FROM, desat=0, peak=f"{peak:.3f}")
        .filter("zscale", filter="spline36", t="bt709", m="bt709", r="tv")
        .filter("format", "yuv420p")
    )
