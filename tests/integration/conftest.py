"""Integration fixtures: a real redis-server, gunicorn and worker.py processes, real ffmpeg."""

from __future__ import annotations

import pytest

from tests.conftest import free_port
from tests.stack import running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server):
    """Web plus one worker, on a Redis emptied for this module."""
    with running_stack(tmp_path_factory.mktemp("stack"), redis_server, free_port()) as stack:
        yield stack


@pytest.fixture(scope="module")
def alice(stack):
    return stack.create_user("alice")


@pytest.fixture(scope="module")
def bob(stack):
    return stack.create_user("bob")
