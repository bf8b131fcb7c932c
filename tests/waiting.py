"""Waiting in tests for something that happens in another process: poll, and fail naming what."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], timeout: float = 30, what: str = "the condition", *, step: float = 0.05,
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """Poll until `condition()` is truthy and return it; fail after `timeout` seconds.

    `ignoring`: errors that mean "not yet" (a server still starting refuses connections)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except ignoring:
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(step)
