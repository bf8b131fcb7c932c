"""Integration fixtures: a real redis-server, gunicorn and worker.py processes, real ffmpeg."""

from __future__ import annotations

import pytest

from tests.conftest import RedisServer, free_port
from tests.stack import Stack, running_stack


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A redis-server of each module's own, in place of the session's: a process one module left running
    (a worker its stack failed to stop) cannot take the jobs of the next."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server):
    """Web plus one worker, on the module's Redis."""
    with running_stack(tmp_path_factory.mktemp("stack"), redis_server, free_port()) as stack:
        yield stack


@pytest.fixture(scope="module")
def alice(stack):
    return stack.create_user("alice")


@pytest.fixture(scope="module")
def bob(stack):
    return stack.create_user("bob")


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server for one test alone (one that restarts or stops it, or fills it)."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_stack(tmp_path, own_redis):
    """Stacks on the test's own Redis, with the web started and no worker: the test starts those."""
    stacks = []

    def make(**settings) -> Stack:
        stack = Stack(tmp_path / f"stack{len(stacks)}", own_redis.url, free_port(), **settings)
        stack.workdir.mkdir(exist_ok=True)
        stack.migrate()
        stack.start_web()
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()
