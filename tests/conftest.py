"""Shared fixtures: generated clips, and a real redis-server for the tests that need one."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

from media.binaries import find
from tests.media import make_clip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of the tests' own, on a free port, never the one on 6379."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def arguments(self) -> list[str]:
        return ["--port", str(self.port)]

    def start(self) -> None:
        self.process = subprocess.Popen(
            [find("redis-server"), *self.arguments(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--maxmemory-policy", "noeviction", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
        )
        client = self.client(socket_connect_timeout=0.5)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def client(self, **options) -> redis.Redis:
        return redis.Redis.from_url(self.url, **options)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    """Small generated clips, made once per run."""
    folder = tmp_path_factory.mktemp("clips")
    made: dict[str, Path] = {}

    def clip(name: str, **options) -> Path:
        if name not in made:
            made[name] = make_clip(folder / f"{name}.{options.get('container', 'mp4')}", **options)
        return made[name]

    return clip
