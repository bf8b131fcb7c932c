"""`make run` as a developer uses it: its own Redis when none answers, web and workers, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import redis
import requests
from rq import Worker

from media.binaries import find
from tests import waiting
from tests.conftest import RedisServer, free_port
from tests.stack import ROOT, dyno_processes

pytestmark = pytest.mark.integration


NOT_YET = (requests.RequestException, redis.RedisError, OSError)  # a server still starting refuses connections


def wait_until(predicate, timeout: float, what: str):
    return waiting.wait_until(predicate, timeout, what, step=0.2, ignoring=NOT_YET)


class SavedRedis(RedisServer):
    """The Redis `make run` started, brought back from the data it left, to see what it kept."""

    def __init__(self, data, port: int):
        super().__init__(data)
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"

    def arguments(self) -> list[str]:
        return ["--port", str(self.port), "--appendonly", "yes"]

    def start(self) -> None:
        self.process = subprocess.Popen(
            [find("redis-server"), *self.arguments(), "--bind", "127.0.0.1", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
        )
        wait_until(self.client(socket_connect_timeout=0.5).ping, 10, "the saved Redis did not start")


@pytest.mark.slow
def test_ctrl_c_stops_the_stack_quietly_and_leaves_no_ghost_worker(tmp_path):
    instance, redis_port, web_port = tmp_path / "instance", free_port(), free_port()
    env = {
        **os.environ,
        "INSTANCE_PATH": str(instance),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",  # nothing answers there: make run starts its own
        "PORT": str(web_port),
        "WORKERS": "2",
    }
    for name in ("HOST", "DATABASE_URL", "STORAGE_URL", "SECRET_KEY"):
        env.pop(name, None)
    log = tmp_path / "run.log"
    with log.open("wb") as out:  # a terminal's foreground group: Ctrl-C reaches every process in it
        run = subprocess.Popen(
            [sys.executable, "bin/run.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    saved = None
    try:
        redis_client = SavedRedis(instance / "redis", redis_port).client(socket_connect_timeout=0.5)
        wait_until(lambda: requests.get(f"http://127.0.0.1:{web_port}/healthz", timeout=1).ok, 90, "no web")
        wait_until(lambda: len(Worker.all(connection=redis_client)) == 2, 60, "fewer than 2 workers")
        names = sorted(worker.name for worker in Worker.all(connection=redis_client))
        assert all(name.startswith(("worker.1.0-", "worker.2.0-")) for name in names), names
        assert f"Listening at: http://127.0.0.1:{web_port}" in log.read_text()  # not on every address

        os.killpg(run.pid, signal.SIGINT)
        assert run.wait(timeout=60) == 0
        wait_until(lambda: not dyno_processes(run.pid), 30, "processes outlived make run")
        output = log.read_text()
        assert "Traceback" not in output, output[-3000:]
        with pytest.raises(redis.ConnectionError):  # its own Redis stopped with it, and last
            redis.Redis(port=redis_port, socket_connect_timeout=0.5).ping()

        saved = SavedRedis(instance / "redis", redis_port)
        saved.start()
        assert Worker.all(connection=saved.client()) == []  # every worker said goodbye before Redis stopped
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
        for pid in dyno_processes(run.pid):
            os.kill(pid, signal.SIGKILL)
        if saved is not None:
            saved.stop()
