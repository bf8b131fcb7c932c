"""Upload: a 1 GiB file (and a 256 MiB one) in one multipart POST: MB/s and the web process's memory.

The body is streamed from a generator that repeats one 1 MiB block, so the client holds no file.
One gunicorn process (WEB_CONCURRENCY=1) and no worker: the upload is stored and queued, and
that is all that is measured. The baseline is the same gunicorn configuration serving
bench/sink.py, which reads the body and throws it away: what receiving the bytes costs alone.
Memory is the gunicorn worker's VmRSS, sampled every 10 ms during the upload, and its VmHWM
(the high-water mark over the process's life) after each one.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from bench.common import Figure, log, main, median, scratch
from bench.harness import MemoryWatch, Running, children, cpu_seconds, status_kib
from tests.conftest import free_port
from tests.stack import ROOT

MiB = 1024 * 1024
BLOCK = MiB
GOAL_MIB = 150
WARM_UP = 16 * MiB
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"  # what the upload check sniffs


def settings(quick: bool) -> dict:
    if quick:
        return {"sizes": (64 * MiB, 256 * MiB), "repeats": 1}
    return {"sizes": (256 * MiB, 1024 * MiB), "repeats": 3}


def body(size: int, boundary: str) -> tuple[int, Iterator[bytes]]:
    """A multipart body of `size` file bytes, and its length, without holding the file."""
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nbench upload\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp4\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    block = MP4_HEAD + os.urandom(BLOCK - len(MP4_HEAD))

    def chunks() -> Iterator[bytes]:
        yield head
        left = size
        while left > 0:
            yield block[: min(BLOCK, left)]
            left -= BLOCK
        yield tail

    return len(head) + size + len(tail), chunks()


def send(url: str, token: str, size: int) -> tuple[float, dict]:
    """POST the upload; seconds until the 202, and the answer."""
    boundary = "bench" + os.urandom(16).hex()
    length, chunks = body(size, boundary)
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    started = time.monotonic()
    connection.putrequest("POST", "/api/videos")
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(length))
    connection.endheaders()
    for chunk in chunks:
        connection.send(chunk)
    response = connection.getresponse()
    answer = response.read()
    elapsed = time.monotonic() - started
    connection.close()
    if response.status != 202:
        raise RuntimeError(f"upload of {size} bytes: {response.status} {answer[:300]!r}")
    return elapsed, json.loads(answer)


@contextmanager
def other_web(spec: str, env: dict | None = None) -> Iterator[tuple[str, int]]:
    """gunicorn as the Procfile runs it (one process), serving another app from bench/sink.py."""
    port = free_port()
    env = {**(env or os.environ), "PORT": str(port), "WEB_CONCURRENCY": "1"}
    with open(scratch() / "other-web.log", "ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", spec, "--config", "gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not children(process.pid) or not _answers(port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {spec} did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", children(process.pid)[0]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def measure(url: str, token: str, pid: int, size: int, remove=None) -> dict[str, float]:
    """One upload: MB/s, the process's CPU seconds a GiB and its peak RSS in MiB."""
    cpu = cpu_seconds(pid)
    with MemoryWatch([pid]) as watch:
        seconds, video = send(url, token, size)
    found = {"cpu": (cpu_seconds(pid) - cpu) / (size / 2**30), "rate": size / 1e6 / seconds,
             "peak": watch.peak_kib[pid] / 1024}
    if remove:
        remove(video["id"])
    return found


def collect(samples: list[dict[str, float]]) -> dict[str, list[float]]:
    return {key: [s[key] for s in samples] for key in samples[0]}


def run(quick: bool) -> list[Figure]:
    cfg = settings(quick)
    floor = {}
    with other_web("bench.sink:app") as (url, pid):
        measure(url, "-", pid, WARM_UP)  # a fresh process's first request costs more
        for size in cfg["sizes"]:
            floor[size] = collect([measure(url, "-", pid, size) for _ in range(cfg["repeats"])])
    figures = []
    with Running(workers=0, WEB_CONCURRENCY="1") as stack:
        (pid,) = stack.web_pids()
        idle_mib = status_kib(pid, "VmRSS") / 1024
        idle_hwm = status_kib(pid, "VmHWM") / 1024

        def remove(video_id: str) -> None:
            stack.session.delete(f"{stack.url}/api/videos/{video_id}", timeout=60).raise_for_status()

        with other_web("bench.sink:unbuffered_app()", stack.stack.env) as (other_url, other_pid):
            measure(stack.url, stack.token, pid, WARM_UP, remove)
            measure(other_url, stack.token, other_pid, WARM_UP, remove)
            for size in cfg["sizes"]:
                pairs = [
                    (measure(stack.url, stack.token, pid, size, remove),
                     measure(other_url, stack.token, other_pid, size, remove))
                    for _ in range(cfg["repeats"])
                ]
                found, before = collect([p[0] for p in pairs]), collect([p[1] for p in pairs])
                figures += _figures(size, found, floor[size], before, idle_mib, idle_hwm,
                                    status_kib(pid, "VmHWM") / 1024)
    return figures


def _figures(size: int, found: dict, floor: dict, before: dict, idle_mib: float, idle_hwm: float,
             hwm: float) -> list[Figure]:
    peak, label = max(found["peak"]), f"{size // MiB} MiB"
    log(f"{label}: " + ", ".join(f"{r:.0f} MB/s" for r in found["rate"])
        + " (gunicorn alone " + ", ".join(f"{r:.0f}" for r in floor["rate"])
        + "; without the 1 MiB read buffer " + ", ".join(f"{r:.0f}" for r in before["rate"]) + ")"
        + f"; peak RSS {peak:.1f} MiB, VmHWM {hwm:.1f} MiB (idle {idle_mib:.1f}, VmHWM at idle {idle_hwm:.1f})")
    return [
        Figure("upload", f"{label}: throughput", median(found["rate"]), "MB/s",
               median(floor["rate"]), "gunicorn reading the body alone", samples=found["rate"]),
        Figure("upload", f"{label}: web CPU a GiB", median(found["cpu"]), "s",
               median(floor["cpu"]), "gunicorn alone", samples=found["cpu"]),
        Figure("upload", f"{label}: throughput gained by the 1 MiB read buffer", median(found["rate"]),
               "MB/s", median(before["rate"]), "without it (64 KiB reads)",
               note=f"without it: web CPU {median(before['cpu']):.1f} s a GiB; peak RSS {max(before['peak']):.1f} MiB"),
        Figure("upload", f"{label}: web process peak RSS", peak, "MiB", idle_mib, "idle",
               goal=f"< {GOAL_MIB} MiB, flat", met=peak < GOAL_MIB,
               note=f"VmHWM {hwm:.1f} MiB, {idle_hwm:.1f} before any upload", samples=found["peak"]),
    ]


if __name__ == "__main__":
    main(run)
