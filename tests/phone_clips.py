"""Video as phones send it, made with lavfi and ffmpeg's own muxers: HDR (HLG, PQ) with their tags, a
rotation matrix (mirrored too), a variable frame rate, non-square pixels, 5.1 or mono sound, sound that
starts late, a picture track shorter than the sound."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from media.binaries import find
from media.colour import REFERENCE_WHITE_NITS


def ffmpeg(*args: str | Path) -> None:
    subprocess.run([find("ffmpeg"), "-y", "-loglevel", "error", *map(str, args)], check=True, timeout=120)


def sdr_picture_clip(path: Path, *, width: int, height: int, seconds: float = 2) -> Path:
    """Colour bars, gradients and moving shapes in BT.709, tagged, nearly lossless: the reference."""
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=25:duration={seconds}",
           "-vf", "scale=out_color_matrix=bt709:out_range=tv", "-c:v", "libx264", "-preset", "ultrafast",
           "-crf", "4", "-pix_fmt", "yuv420p", "-color_primaries", "bt709", "-color_trc", "bt709",
           "-colorspace", "bt709", "-color_range", "tv", path)
    return path


def hdr_clip(sdr: Path, path: Path, transfer: str) -> Path:
    """`sdr` taken up to HDR as BT.2408 maps SDR into it (its white at 203 cd/m2): BT.2020, 10-bit HEVC
    tagged with `transfer` (smpte2084: PQ, HDR10; arib-std-b67: HLG), as a phone stores it."""
    up = (f"zscale=tin=bt709:pin=bt709:min=bt709:rin=tv:t=linear:p=bt709:npl={REFERENCE_WHITE_NITS},"
          f"format=gbrpf32le,zscale=p=bt2020:t={transfer}:m=bt2020nc:r=tv:npl={REFERENCE_WHITE_NITS},"
          "format=yuv420p10le")
    ffmpeg("-i", sdr, "-vf", up, "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
           "-crf", "8", "-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc",
           "-color_range", "tv", "-tag:v", "hvc1", path)
    return path


def psnr(a: Path, b: Path, *, plain: bool = False) -> float:
    """ffmpeg's PSNR of `a` against `b` (scaled to `a`'s size), over Y, U and V; `plain`: `a`'s pixels
    taken as they are (10-bit squeezed to 8 without reading its colour tags: what a conversion ignoring
    HDR shows)."""
    first = "[0:v]format=yuv420p,setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709[a]" if plain \
        else "[0:v]format=yuv420p[a]"
    done = subprocess.run(
        [find("ffmpeg"), "-hide_banner", "-i", str(a), "-i", str(b), "-lavfi",
         f"{first};[1:v]format=yuv420p[r];[r][a]scale2ref[b][a2];[a2][b]psnr", "-f", "null", "-"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return float(re.findall(r"average:([0-9.]+|inf)", done.stderr)[-1])


def rotated_clip(path: Path, rotation: int, *, mirrored: bool = False, width: int = 320, height: int = 180) -> Path:
    """A landscape picture stored with a display matrix, as phones do: turned `rotation` degrees
    (counter-clockwise, ffmpeg's sense), mirrored left-right first when `mirrored`."""
    stored = path.with_suffix(".stored.mp4")
    marker(stored, width=width, height=height)
    flags = ["-display_rotation", str(rotation), *(["-display_hflip"] if mirrored else [])]
    ffmpeg(*flags, "-i", stored, "-c", "copy", path)
    stored.unlink()
    return path


def marker(path: Path, *, width: int, height: int, seconds: float = 2, sar: str = "1") -> Path:
    """Grey, with a red block in the top-left corner: where it ends up tells the orientation."""
    block = f"drawbox=x=0:y=0:w=iw/4:h=ih/4:color=red:t=fill,setsar={sar}"
    ffmpeg("-f", "lavfi", "-i", f"color=c=gray:s={width}x{height}:r=25:d={seconds}", "-vf", block,
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path)
    return path


def vfr_clip(path: Path, seconds: float = 3) -> Path:
    """A variable frame rate, as phones record in low light: frames 1/30 s apart, then 1/15, then 1/24."""
    rates = ("setpts='if(lt(T,1),N/30/TB,if(lt(T,2),(30+(N-30)*2)/30/TB,(30+30*2+(N-60)*1.25)/30/TB))'")
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=30:duration={seconds}",
           "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds * 2}",
           "-vf", rates, "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-video_track_timescale", "90000", path)
    return path


def sound_clip(path: Path, *, layout: str, seconds: float = 2, delay: float = 0.0, picture_seconds: float = 0) -> Path:
    """The sync clip's flash and beep every second, with sound in `layout` (mono, stereo, 5.1); the sound
    starting `delay` s after the picture; the picture `picture_seconds` long when it is shorter."""
    shown = picture_seconds or seconds
    flashes = (f"color=c=black:s=320x180:r=25:d={shown},"
               "drawbox=w=iw:h=ih:color=white:t=fill:enable='lt(mod(t\\,1)\\,0.04)'")
    # on the picture's clock: a sound that starts late still beeps with the flashes
    beep = f"if(lt(mod(t+{delay}\\,1)\\,0.05)\\,sin(2*PI*1000*t)\\,0)"
    channels = {"mono": 1, "stereo": 2, "5.1": 6}[layout]
    sound = f"aevalsrc='{'|'.join([beep] * channels)}':s=48000:d={seconds - delay}:c={layout}"
    args: list[str | Path] = ["-f", "lavfi", "-i", flashes, "-f", "lavfi", "-i", sound]
    if delay:  # the sound's first sample at `delay`: a late start in the container, not silence in it
        args = ["-f", "lavfi", "-i", flashes, "-itsoffset", f"{delay}", "-f", "lavfi", "-i", sound]
    ffmpeg(*args, "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-ac", str(channels), path)
    return path
