"""Publishing a video's HLS stream while ffmpeg makes it: a segment is stored as soon as ffmpeg has
finished it and the content check has passed every frame it shows, then the playlist that names it.
Once every rung (and the audio) has its first segments, the master playlist is stored and the video
is playable; at the end the playlists are made final (VOD) and the master names measured rates.

`poll` runs in the conversion's own thread, a few times a second, between its checks for cancel
and shutdown; so after a cancel, the conversion's clean-up comes after its last upload.

What a viewer can see is only ever what was checked: a segment ending at t is published once the
samples up to t have passed (2 a second, written by ffmpeg as it goes). Storage sees a segment
before any playlist names it, and a playlist before the master names it.

A retry (a hand-back, a worker that died) converts the whole video again from its start: what the
earlier attempt published stays, under the same names (the same source and settings make the same
segments at the same times), and each playlist grows again only past what it already named; so a
player watching meanwhile sees no segment twice, none missing, no playlist that shrinks.

A long video's parts (app/domain/chunking.py) publish with the same class. Its first chunk is
published as a whole video's start is, and writes the master, naming the audio that another job
encodes; the audio's job publishes its own playlist. The video is playable when both are there,
which ever of the two jobs sees it. Every later chunk is `staged`: its segments are stored as they
are checked, but named by no playlist until the chunks before it are done (app/domain/assembly.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from app.domain import streams
from app.domain.content import Screening
from app.domain.models import Video
from app.platform.storage import get_storage
from media import playlists
from media.fingerprint import FRAMES_PER_SECOND
from media.hls import MASTER_PLAYLIST, HlsLadder, HlsMedia
from media.outputs import Poster

# a segment's end and the checked time come from different clocks' rounding (ffmpeg's EXTINF is
# rounded to the microsecond, the samples fall every 0.5 s): a millisecond of slack
SLACK = 0.001


@dataclass
class _Media:
    """One media playlist of the ladder and how much of it is published."""

    output: HlsMedia
    name: str  # its folder under the stream: `720p`, `audio`
    published: int = 0  # segments stored and named by the stored playlist
    init_sent: bool = False  # by this attempt (an earlier attempt's is the same, but this one's is sure)


class Publisher:
    """Publishes what one ffmpeg run makes of a video's stream.

    `master`: the ladder the master playlist names, written once every media of this run has
    segments (default: this run's own); `writes_master=False`: this run writes none (a long video's
    audio). `waits_for`: names of the stream that must be stored too before the video is playable
    (a long video's first chunk waits for the audio's playlist, its audio for the master).
    `staged`: store checked segments only, no playlist (a long video's later chunks)."""

    def __init__(
        self, video: Video, ladder: HlsLadder, screening: Screening | None, poster: Poster | None = None, *,
        master: HlsLadder | None = None, writes_master: bool = True, waits_for: tuple[str, ...] = (),
        staged: bool = False,
    ):
        self.video = video
        self.ladder = ladder
        self.master = (master or ladder) if writes_master else None
        self.waits_for = list(waits_for)
        self.staged = staged
        self.poster = poster
        self.screening = screening
        self.storage = get_storage()
        self.media = [_Media(output, output.folder.relative_to(ladder.root).as_posix()) for output in ladder.outputs]
        self.master_sent = False
        self.announced = False
        self.poster_key: str | None = None
        self._resume()

    def _resume(self) -> None:
        """What an earlier attempt published of this video stays published: count it."""
        if self.staged:
            return  # named by no playlist yet: stored again whole
        for media in self.media:
            try:
                text = self.storage.read_bytes(self._key(media, streams.PLAYLIST)).decode("utf-8")
            except FileNotFoundError:
                continue
            media.published = len(playlists.segments(text))
        self.announced = self.video.playable
        self.master_sent = self.master is None or (
            self.video.playable and self.storage.exists(streams.key(self.video.id, streams.MASTER))
        )

    def poll(self) -> None:
        """Publish what ffmpeg has finished and the check has passed. Raises content.Matched."""
        checked = self.screening.advance() if self.screening else math.inf
        self._publish(checked)

    def finish(self, close: bool = True) -> None:
        """After ffmpeg has ended well: check the rest, and publish every segment; the local playlists
        are made final (what the MP4 remux reads; not a chunk's, which the next one's continue), the
        published ones not yet. Raises content.Matched."""
        if self.screening:
            self.screening.advance(final=True)
        self._publish(math.inf)
        for media in self.media if close else ():
            playlists.finalize(media.output.path)

    def finalize(self) -> None:
        """The published playlists final (VOD), and the master with the rates measured: the last step
        before `ready`."""
        self._publish(math.inf, final=True)
        playlists.write_master(self.ladder, measured=True)
        self._put(MASTER_PLAYLIST, self.ladder.master_path)

    def publish_files(self, folder: str, files: list[Path]) -> None:
        """Store more files of the stream (the storyboard's) under `folder`."""
        for path in files:
            self._put(f"{folder}/{path.name}", path)

    def _publish(self, checked: float, final: bool = False) -> None:
        for media in self.media:
            if media.output.path.is_file():
                self._publish_media(media, checked, final)
        if self.staged or not all(media.published for media in self.media):
            return
        if not self.master_sent:
            self.poster_key = self._poster(checked)
            playlists.write_master(self.master)  # rates from the caps until the segments can be measured
            self._put(MASTER_PLAYLIST, self.master.master_path)
            self.master_sent = True
        if not self.announced and self._others_there():
            poster = self.poster_key
            first_chunks = streams.key(self.video.id, streams.POSTER)  # published with the master
            if poster is None and self.master is None and self.storage.exists(first_chunks):
                poster = first_chunks
            streams.mark_playable(self.video, poster)
            self.announced = True

    def _others_there(self) -> bool:
        """Whether what another job publishes is stored (read until it is, then no more)."""
        self.waits_for = [name for name in self.waits_for if not self.storage.exists(streams.key(self.video.id, name))]
        return not self.waits_for

    def _poster(self, checked: float) -> str | None:
        """The poster, with the first segments, when ffmpeg has written it and the check has passed its
        frame (the sample at or after it); else it comes at ready."""
        poster = self.poster
        if poster is None or not poster.path.is_file() or checked < poster.at + 1 / FRAMES_PER_SECOND:
            return None
        self._put(streams.POSTER, poster.path)
        return streams.key(self.video.id, streams.POSTER)

    def _publish_media(self, media: _Media, checked: float, final: bool) -> None:
        text = media.output.path.read_text(encoding="utf-8")  # ffmpeg replaces it whole: never half of it
        listed = playlists.segments(text)
        ready, end = 0, 0.0
        for _, duration in listed:
            end += duration
            if end > checked + SLACK:
                break
            ready += 1
        if ready <= media.published and not final:
            return
        init = playlists.init_segment_uri(text)
        if init and not media.init_sent and not self.staged:  # a later chunk's is the first chunk's
            self._put_file(media, init)
            media.init_sent = True
        for uri, _ in listed[media.published : ready]:  # those before: stored already, by this attempt or one before
            self._put_file(media, uri)
        media.published = max(media.published, ready)
        if self.staged:
            return
        shown = text if final else playlists.first_segments(text, media.published)
        self._put_text(f"{media.name}/{streams.PLAYLIST}", shown)

    def _put_file(self, media: _Media, uri: str) -> None:
        self._put(f"{media.name}/{uri}", media.output.folder / uri)

    def _put(self, name: str, path: Path) -> None:
        self.storage.put_file(streams.key(self.video.id, name), path)

    def _put_text(self, name: str, text: str) -> None:
        self.storage.put_text(streams.key(self.video.id, name), text)

    def _key(self, media: _Media, file: str) -> str:
        return streams.key(self.video.id, f"{media.name}/{file}")
