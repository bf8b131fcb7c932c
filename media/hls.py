"""The HLS outputs of one decode: a video rung per height of the ladder, the audio once, each a media
playlist of fMP4 (CMAF) segments in its own folder; IDR frames at the same instants on every rung."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import ffmpeg

from media.colour import OUTPUT_TAGS
from media.ladder import Rung
from media.outputs import EncodeSettings, Output
from media.probe import MediaInfo

if TYPE_CHECKING:  # media/chunks.py plans with this module's segment length
    from media.chunks import Chunk

GOP_SECONDS = 2  # an IDR frame every 2 s, at the same instants on every rung: players switch rungs there
SEGMENT_SECONDS = 4  # two GOPs a segment: short enough to start fast, long enough to keep requests few
PLAYLIST = "index.m3u8"
INIT_SEGMENT = "init.mp4"
SEGMENT_NAMES = "seg_%05d.m4s"  # seg_00001.m4s, ...
AUDIO_FOLDER = "audio"
MASTER_PLAYLIST = "master.m3u8"

# The most a rung's video may take, bits/s, by the picture area of a 16:9 rung of that height (a
# portrait or 4:3 rung gets the figure of the area it has). About Apple's HLS authoring figures for
# 30 fps H.264. CRF 23 lands well below them on ordinary footage, so they only bite on hard content
# (grain, confetti, fast pans), where they keep the rung inside the bandwidth it promises players.
MAX_RATES = (
    (144, 400_000), (240, 700_000), (360, 1_000_000), (480, 1_600_000),
    (720, 3_500_000), (1080, 6_000_000), (1440, 10_000_000), (2160, 16_000_000),
)
HIGH_FRAME_RATE = 31  # above it a rung may take half as much again: more pictures, each a little cheaper
MAX_FRAME_RATE = 60  # what players and H.264 levels expect; a 240 fps slow-motion clip streams at 60
# bufsize = 2 x maxrate: x264 may average the rate over about one GOP, so an IDR frame and a burst of
# motion don't cost quality, while any stretch of T seconds stays under maxrate * T + bufsize.
BUFFER_SECONDS = 2
# fMP4 boxes around the H.264 (moof/trun: ~16 bytes a frame, a few hundred a segment); measured 0.4 %
CONTAINER_OVERHEAD = 1.02
AUDIO_PEAK = 1.1  # ffmpeg's AAC encoder holds its rate loosely: 2 % over on white noise, measured
# EBU R128 normalization when the uploader asks for it: -16 LUFS integrated (what streaming services
# play at; R128's broadcast -23 is quiet on phones), true peak under -1.5 dBTP, ffmpeg's one-pass
# (dynamic) `loudnorm`, which works at 192 kHz: resampled back to 48 kHz for AAC
LOUDNESS = {"I": -16, "TP": -1.5, "LRA": 11}
AUDIO_RATE = 48_000


def rate_cap(rung: Rung, frame_rate: float) -> int:
    """The video rate cap of a rung, bits/s: the table's figure for its area, beyond it in proportion."""
    area = rung.width * rung.height
    height, rate = next(((h, r) for h, r in MAX_RATES if area <= h * h * 16 / 9), MAX_RATES[-1])
    rate = max(rate, round(rate * area / (height * height * 16 / 9)))
    return round(rate * 1.5) if frame_rate > HIGH_FRAME_RATE else rate


def bits(rate: str) -> int:
    """An ffmpeg rate ("128k", "2M", "96000") in bits/s."""
    scale = {"k": 1_000, "m": 1_000_000}.get(rate[-1:].lower(), 1)
    return round(float(rate[:-1] if scale > 1 else rate) * scale)


def _pattern(folder: Path, name: str) -> str:
    """A numbered-file pattern in `folder`: a % in the folder's own name must not read as a field."""
    return str(folder).replace("%", "%%") + "/" + name


def _hls_muxer(folder: Path, first_segment: int, offset: float = 0.0) -> dict:
    """Options of ffmpeg's HLS muxer for one playlist of fMP4 segments in `folder`.

    `event`: the playlist only grows while encoding, and `omit_endlist` leaves it open when ffmpeg
    ends: `playlists.finalize` makes it VOD once the whole video (every chunk) is there.
    `temp_file`: a segment is written as `seg_N.m4s.tmp` and renamed when complete, so a file under a
    segment's name is always whole; the playlist (always renamed into place) names only those. The
    init segment is written whole before the first segment, so before the first playlist exists.
    Timestamps as the encoders made them (`avoid_negative_ts` off) and B-frames' negative composition
    offsets (trun v1, as CMAF has it): every rung's first picture is shown at 0, with the audio, in
    players that apply edit lists and those that don't. Else each muxer shifts its own streams and
    the video starts a B-frame delay (80 ms at veryfast, 25 fps) after the audio rendition.
    A chunk's run (`offset`, its start in the whole video) shifts its timestamps there and writes
    them as they are into each fragment (`frag_discont`), not as an edit list of its own init
    segment: its segments then play after the chunk before's, from the first chunk's init segment.
    """
    return {
        "f": "hls", "hls_time": SEGMENT_SECONDS, "hls_segment_type": "fmp4",
        "hls_fmp4_init_filename": INIT_SEGMENT, "hls_segment_filename": _pattern(folder, SEGMENT_NAMES),
        "start_number": first_segment, "hls_playlist_type": "event", "hls_list_size": 0,
        "hls_flags": "independent_segments+temp_file+omit_endlist",
        "avoid_negative_ts": "disabled", "hls_segment_options": "movflags=+negative_cts_offsets" + (
            "+frag_discont" if offset else ""
        ),
        **({"output_ts_offset": f"{offset:.6f}"} if offset else {}),
    }


class HlsMedia(Output):
    """An HLS media playlist in its own folder: its playlist, its init segment, its fMP4 segments."""

    folder: Path

    @property
    def path(self) -> Path:
        return self.folder / PLAYLIST

    @property
    def init_segment(self) -> Path:
        return self.folder / INIT_SEGMENT


@dataclass(frozen=True)
class HlsRung(HlsMedia):
    """One video rung of the HLS ladder: H.264 in ~4 s fMP4 segments with its own playlist, no audio.

    IDR frames are forced every GOP_SECONDS of the source's clock, and x264 makes no other keyframe
    (no scene cuts, no open GOPs, keyint no shorter than the forced interval): every rung of one
    decode has its IDRs, so its segment boundaries, at the same timestamps. The picture is made a
    constant `frame_rate` first (the source's average; a phone's variable rate otherwise meets the
    HLS muxer's own constant-rate conversion at the fastest rate in the file, with duplicated
    pictures and frame counts keyint can't match), so a GOP is always `keyint` pictures.
    """

    rung: Rung
    folder: Path  # <root>/<rung name>: index.m3u8, init.mp4, seg_00001.m4s, ...
    frame_rate: float  # of the rung (the source's average, at most MAX_FRAME_RATE); 0: the source's as it is
    settings: EncodeSettings = EncodeSettings()
    cap: int = 0  # the video's maximum rate, bits/s; 0: the table's for this rung (`rate_cap`)
    first_segment: int = 1
    offset: float = 0.0  # where its first picture is in the whole video, s: a chunk's start (media/chunks.py)

    @classmethod
    def of(cls, info: MediaInfo, rung: Rung, root: Path, settings: EncodeSettings = EncodeSettings()) -> HlsRung:
        return cls(rung, root / rung.name, min(info.frame_rate, MAX_FRAME_RATE), settings)

    @property
    def max_rate(self) -> int:
        return self.cap or rate_cap(self.rung, self.frame_rate)

    @property
    def buffer_size(self) -> int:
        return self.max_rate * BUFFER_SECONDS

    @property
    def peak_rate(self) -> int:
        """Bits/s no whole segment of this rung can exceed: maxrate plus the buffer spent in one segment."""
        return math.ceil((self.max_rate + self.buffer_size / SEGMENT_SECONDS) * CONTAINER_OVERHEAD)

    @property
    def keyint(self) -> int:
        """Frames between IDRs: the forced interval, rounded up, so x264 never adds one of its own early."""
        return max(1, math.ceil(GOP_SECONDS * (self.frame_rate or 30)))

    def build(self, picture, audio):
        self.folder.mkdir(parents=True, exist_ok=True)  # ffmpeg's HLS muxer makes no folder
        if self.frame_rate:
            picture = picture.filter("fps", fps=str(Fraction(self.frame_rate).limit_denominator(1001)))
        picture = picture.filter("scale", self.rung.width, self.rung.height).filter("setsar", 1)
        gop = f"keyint={self.keyint}:min-keyint={self.keyint}:scenecut=0:open-gop=0"
        return ffmpeg.output(
            picture, str(self.path), vcodec="libx264", preset=self.settings.preset, crf=self.settings.crf,
            maxrate=self.max_rate, bufsize=self.buffer_size, pix_fmt="yuv420p", **OUTPUT_TAGS,
            force_key_frames=f"expr:gte(t,n_forced*{GOP_SECONDS})", sc_threshold=0,
            map_metadata=-1, **{"forced-idr": 1, "x264-params": gop},
            **_hls_muxer(self.folder, self.first_segment, self.offset),
        )


@dataclass(frozen=True)
class HlsAudio(HlsMedia):
    """The source's audio, encoded once for the whole ladder: AAC stereo in ~4 s fMP4 segments, its own
    playlist, the audio group every video rung of the master playlist names."""

    wants_picture: ClassVar[bool] = False
    wants_audio: ClassVar[bool] = True

    folder: Path  # <root>/audio
    settings: EncodeSettings = EncodeSettings()
    first_segment: int = 1

    @property
    def bitrate(self) -> int:
        return bits(self.settings.audio_bitrate)

    @property
    def peak_rate(self) -> int:
        return math.ceil(self.bitrate * AUDIO_PEAK * CONTAINER_OVERHEAD)

    def build(self, picture, audio):
        if audio is None:
            raise ValueError("the source has no audio: leave HlsAudio out (HlsLadder.plan does)")
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.settings.loudnorm:
            audio = audio.filter("loudnorm", **LOUDNESS).filter("aresample", AUDIO_RATE)
        return ffmpeg.output(
            audio, str(self.path), acodec="aac", audio_bitrate=self.settings.audio_bitrate, ac=2,
            map_metadata=-1, **_hls_muxer(self.folder, self.first_segment),
        )


@dataclass(frozen=True)
class HlsLadder:
    """The HLS outputs of one video under `root`: a rung per ladder rung, the audio when there is some."""

    root: Path
    rungs: tuple[HlsRung, ...]
    audio: HlsAudio | None

    @classmethod
    def plan(
        cls, info: MediaInfo, rungs: list[Rung], root: Path, settings: EncodeSettings = EncodeSettings()
    ) -> HlsLadder:
        audio = HlsAudio(root / AUDIO_FOLDER, settings) if info.has_audio else None
        return cls(root, tuple(HlsRung.of(info, rung, root, settings) for rung in rungs), audio)

    @classmethod
    def plan_chunk(
        cls, info: MediaInfo, rungs: list[Rung], root: Path, chunk: Chunk, settings: EncodeSettings = EncodeSettings()
    ) -> HlsLadder:
        """The video rungs of one chunk (media/chunks.py): numbered and timed as its place in the whole
        video has them. No audio: a chunked video's audio is encoded once, for the whole of it."""
        return cls(
            root,
            tuple(
                replace(HlsRung.of(info, rung, root, settings), first_segment=chunk.first_segment,
                        offset=chunk.span.start)
                for rung in rungs
            ),
            None,
        )

    @classmethod
    def plan_audio(cls, info: MediaInfo, root: Path, settings: EncodeSettings = EncodeSettings()) -> HlsLadder:
        """The audio alone, the whole of it: a chunked video's, encoded once (no priming gap or drift at
        chunk boundaries); the run decodes no picture."""
        if not info.has_audio:
            raise ValueError("the source has no audio")
        return cls(root, (), HlsAudio(root / AUDIO_FOLDER, settings))

    @property
    def outputs(self) -> list[Output]:
        return [*self.rungs, *([self.audio] if self.audio else [])]

    @property
    def master_path(self) -> Path:
        return self.root / MASTER_PLAYLIST
