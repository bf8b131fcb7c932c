"""A corpus of hostile files through the real service: each refused or failed with a reason, nothing let in.

The files are made here: lies in headers, references to other files and to URLs, playlists in
disguise. A secret file sits beside the storage and a local HTTP server counts every request:
no output may hold the secret and nothing may call the server.
"""

from __future__ import annotations

import http.server
import random
import secrets
import subprocess
import threading
from dataclasses import dataclass

import pytest

from media.binaries import find
from tests.conftest import free_port
from tests.hostile import (
    avi_claiming,
    external_track,
    ffmpeg,
    many_streams,
    mjpeg_sof,
    patch,
    url_dref,
    zero_duration,
)
from tests.media import make_clip
from tests.stack import running_stack

pytestmark = pytest.mark.integration

MAX_PIXELS = 1920 * 1080


@dataclass(frozen=True)
class Hostile:
    name: str
    data: bytes
    words: str  # what the error must say
    refused: int | None = None  # the status at upload; None: accepted, then `failed` by the worker


class Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802  (the name http.server calls)
        Recorder.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"#EXTM3U\n")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server):
    settings = {"MAX_PIXELS": str(MAX_PIXELS)}
    with running_stack(tmp_path_factory.mktemp("stack"), redis_server, free_port(), **settings) as stack:
        yield stack


@pytest.fixture(scope="module")
def secret(stack) -> bytes:
    """A file outside storage that media will try to pull in: `<stack>/secret.txt`, beside `storage/`."""
    marker = f"CONVEYOR-SECRET-{secrets.token_hex(8)}|".encode()
    (stack.workdir / "secret.txt").write_bytes((marker * 2000)[: 64 * 64 * 4])
    return marker


@pytest.fixture(scope="module")
def corpus(stack, secret, server, tmp_path_factory) -> list[Hostile]:
    folder = tmp_path_factory.mktemp("hostile")
    secret_path = stack.workdir / "secret.txt"
    clip = make_clip(folder / "clip.mp4", seconds=0.4, width=64, height=64, rate=10).read_bytes()
    silent = make_clip(folder / "silent.mp4", seconds=0.4, width=64, height=64, rate=10, audio=False).read_bytes()

    def made(name: str, *args: str) -> bytes:
        ffmpeg(*args, str(folder / name))
        return (folder / name).read_bytes()

    png = made("p.png", "-f", "lavfi", "-i", "color=s=16x16", "-frames:v", "1")
    jpeg = made("p.jpg", "-f", "lavfi", "-i", "color=s=16x16", "-frames:v", "1")
    wav = made("s.wav", "-f", "lavfi", "-i", "sine=d=0.3")
    m4a = made("s.m4a", "-f", "lavfi", "-i", "sine=d=0.3", "-c:a", "aac")
    still = made("still.mp4", "-f", "lavfi", "-i", "testsrc2=s=64x64", "-frames:v", "1", "-c:v", "libx264")
    raw = made("raw.avi", "-f", "lavfi", "-i", "color=s=16x16:d=0.4:r=5", "-c:v", "rawvideo", "-pix_fmt", "yuv420p")
    mjpeg = made("mj.mkv", "-f", "lavfi", "-i", "testsrc2=s=64x64:d=0.4:r=5", "-c:v", "mjpeg")
    empty_mp4 = made("none.mp4", "-f", "lavfi", "-i", "testsrc2=s=64x64", "-frames:v", "0", "-c:v", "libx264")

    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:{secret_path}\n#EXTINF:1,\n{server}/seg.ts\n"
    concat = f"ffconcat version 1.0\nfile '{secret_path}'\nfile '{server}/part.mp4'\n"
    sdp = f"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=video {free_port()} RTP/AVP 96\n"
    noise = random.Random(6)  # the same bytes every run
    ftyp = clip[:32]  # the first box of a real MP4: what the upload check looks at
    stts = [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stts"]

    not_a_video = "not a video Conveyor accepts"
    damaged = "damaged"
    return [
        Hostile("notes.mp4", b"just some text\n" * 100, not_a_video, 415),
        Hostile("empty.mp4", b"", "empty", 400),
        Hostile("picture.mp4", png, not_a_video, 415),
        Hostile("photo.mkv", jpeg, not_a_video, 415),
        Hostile("song.avi", wav, not_a_video, 415),
        Hostile("playlist.mp4", playlist.encode(), not_a_video, 415),
        Hostile("list.mkv", concat.encode(), not_a_video, 415),
        Hostile("stream.mp4", sdp.encode(), not_a_video, 415),
        Hostile("truncated.mp4", clip[: len(clip) // 2], "incomplete or damaged"),
        Hostile("playlist-behind-mp4-header.mp4", ftyp + playlist.encode(), damaged),
        Hostile("concat-behind-mp4-header.mp4", ftyp + concat.encode(), damaged),
        Hostile("ts-sync-bytes.ts", b"".join(b"\x47" + noise.randbytes(187) for _ in range(40)), "read"),
        # storage/videos/<id>/source: four levels up from the alias is the stack's folder, and the secret
        Hostile("alias-relative.mov", external_track(folder, secret_path, levels_up=4), "other files"),
        Hostile("alias-absolute.mov", external_track(folder, secret_path, levels_up=None), "other files"),
        Hostile("url-data-reference.mp4", url_dref(silent, f"{server}/media.mp4"), "No picture"),
        Hostile("huge.avi", avi_claiming(raw, width=20000, height=12000), "20000x12000; the limit is 7680x4320"),
        Hostile("impossible.avi", avi_claiming(raw, width=65535, height=65535), "impossible"),
        Hostile("many-pixels.avi", avi_claiming(raw, width=3000, height=2000), f"the limit is {MAX_PIXELS:,} pixels"),
        Hostile("lying-pictures.mkv", mjpeg_sof(mjpeg, 16000, 12000), "No picture"),
        Hostile("billions-of-frames.avi", avi_claiming(raw, frames=0xFFFFFFF0), "longer than the limit"),
        Hostile("ten-thousand-fps.mp4", patch(silent, stts, 12, ">I", 1), "frame rate"),
        Hostile("thousands-of-streams.mp4", many_streams(clip, 2000), "streams; the limit is 16"),
        Hostile("zero-duration.mp4", zero_duration(silent), "no duration"),
        Hostile("no-streams.mp4", empty_mp4, "no video stream"),
        Hostile("sound-only.m4a", m4a, "sound only"),
        Hostile("still-image.mp4", still, "single picture"),
    ]


def test_the_reference_tricks_are_real(tmp_path, stack, secret, corpus):
    """With ffmpeg's guards off, the alias files would copy the secret into an output."""
    nested = tmp_path / "storage" / "videos" / "someid"
    nested.mkdir(parents=True)
    (tmp_path / "secret.txt").write_bytes((stack.workdir / "secret.txt").read_bytes())
    for case, options in [("alias-relative.mov", ["-enable_drefs", "1"]),
                          ("alias-absolute.mov", ["-enable_drefs", "1", "-use_absolute_path", "1"])]:
        data = next(h.data for h in corpus if h.name == case)
        assert secret not in data
        source = nested / "source"
        source.write_bytes(data)
        out = tmp_path / "out.mov"
        subprocess.run([find("ffmpeg"), "-y", "-loglevel", "error", *options, "-i", f"file:{source}",
                        "-c", "copy", "-f", "mov", str(out)], check=True, cwd=tmp_path)
        assert secret in out.read_bytes(), case


def test_every_hostile_file_is_refused_or_fails_with_a_reason(stack, secret, corpus, server, clips):
    assert len(corpus) >= 20
    alice = stack.create_user("alice")
    accepted = {}
    for case in corpus:
        response = alice.post(f"{stack.url}/api/videos", files={"file": (case.name, case.data)}, timeout=60)
        assert response.status_code < 500, (case.name, response.text)
        assert response.headers["Content-Type"] == "application/json", case.name
        if case.refused:
            assert response.status_code == case.refused, (case.name, response.json())
            assert case.words in response.json()["error"], (case.name, response.json())
        else:
            assert response.status_code == 202, (case.name, response.json())
            accepted[case.name] = response.json()["id"]

    for case in corpus:
        if case.name in accepted:
            body = stack.wait_final(alice, accepted[case.name])
            assert body["state"] == "failed", (case.name, body)
            assert case.words in body["error"], (case.name, body["error"])
            assert body["renditions"] == [] and body["poster_url"] is None, case.name

    good = stack.upload(alice, clips("c320x240", width=320, height=240, seconds=1))
    assert stack.wait_final(alice, good.json()["id"])["state"] == "ready", "the worker keeps serving"
    assert all(worker.poll() is None for worker in stack.workers)

    stored = [path for path in stack.storage.rglob("*") if path.is_file()]
    assert any(path.name.endswith(".mp4") and path.name != "source" for path in stored)
    assert not [path for path in stored if secret in path.read_bytes()]
    assert Recorder.requests == []
