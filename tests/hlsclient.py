"""A player's view of a stream: its playlists fetched and read, with no cookie and no token."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from media import playlists
from media.binaries import find


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=30)  # a bare client: no session, no Authorization


def master_entries(text: str) -> tuple[list[dict], list[dict]]:
    """(each EXT-X-STREAM-INF with its URI, each EXT-X-MEDIA) of a master playlist, as dicts."""
    variants, media, lines = [], [], text.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            variants.append({**attributes(line), "URI": lines[number + 1].strip()})
        elif line.startswith("#EXT-X-MEDIA:"):
            media.append(attributes(line))
    return variants, media


def attributes(line: str) -> dict:
    found, rest = {}, line.split(":", 1)[1]
    while rest:
        name, _, rest = rest.partition("=")
        if rest.startswith('"'):
            value, _, rest = rest[1:].partition('"')
            rest = rest.lstrip(",")
        else:
            value, _, rest = rest.partition(",")
        found[name] = value
    return found


def complete(playback_url: str, duration: float) -> dict[str, list[str]]:
    """Check a final stream as a player would read it: every playlist final, its segments each named
    once, in order, all there, adding up to `duration`. Its segment names, by playlist."""
    variants, media = master_entries(get(playback_url).text)
    found = {}
    for entry in [*variants, *media]:
        url = urljoin(playback_url, entry["URI"])
        text = get(url).text
        assert playlists.is_final(text), url
        listed = playlists.segments(text)
        names = [urlsplit(uri).path.rsplit("/", 1)[-1] for uri, _ in listed]  # on S3, presigned URLs
        assert names == [f"seg_{number:05d}.m4s" for number in range(1, len(names) + 1)], names
        assert sum(d for _, d in listed) == pytest.approx(duration, abs=0.05), (url, listed)
        assert all(get(urljoin(url, uri)).status_code == 200 for uri, _ in listed)
        found[entry["URI"]] = names
    return found


def hls_client(url: str, out: Path) -> Path:
    """Copy an HLS stream from its URL into an MP4, the way any HLS client reads it: ffmpeg's HLS demuxer
    over HTTP, the master playlist first, then the best rung and the audio."""
    subprocess.run(
        [find("ffmpeg"), "-y", "-nostdin", "-loglevel", "error", "-i", url, "-c", "copy", str(out)],
        check=True,
        timeout=120,
    )
    return out
