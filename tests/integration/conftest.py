"""Integration fixtures: a real redis-server, gunicorn and worker.py processes, real ffmpeg."""

from __future__ import annotations

import pytest

from tests.conftest import free_port
from tests.stack import Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server):
    """Web plus one worker, on a Redis emptied for this module."""
    redis_server.client().flushdb()
    stack = Stack(tmp_path_factory.mktemp("stack"), redis_server.url, free_port())
    stack.migrate()
    stack.start_web()
    stack.start_worker()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def alice(stack):
    return stack.create_user("alice")


@pytest.fixture(scope="module")
def bob(stack):
    return stack.create_user("bob")
