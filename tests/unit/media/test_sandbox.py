"""sandbox.limits(): the preexec function caps a child's address space and lowers its priority."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest

from media.sandbox import limits

REPORT = (
    "import json, os, resource; "
    "print(json.dumps({'as': resource.getrlimit(resource.RLIMIT_AS), 'nice': os.getpriority(os.PRIO_PROCESS, 0)}))"
)


def child_report(preexec) -> dict:
    done = subprocess.run([sys.executable, "-c", REPORT], capture_output=True, text=True, timeout=60,
                          preexec_fn=preexec, check=True)
    return json.loads(done.stdout)


def own_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


def test_caps_the_address_space():
    """With memory_mb=512 the child's soft and hard RLIMIT_AS are both 512 MiB."""
    cap = 512 * 1024 * 1024
    assert resource.getrlimit(resource.RLIMIT_AS)[0] != cap  # the parent is not capped like that
    assert child_report(limits(512))["as"] == [cap, cap]


def test_zero_means_no_memory_cap():
    """memory_mb=0 leaves the child the parent's address-space limit."""
    assert child_report(limits(0))["as"] == list(resource.getrlimit(resource.RLIMIT_AS))


def test_the_parent_is_not_capped():
    """The limits apply in the child only."""
    before = resource.getrlimit(resource.RLIMIT_AS)
    child_report(limits(512))
    assert resource.getrlimit(resource.RLIMIT_AS) == before


@pytest.mark.parametrize("niceness", [10, 5])
def test_lowers_the_priority(niceness):
    """The child runs `niceness` steps nicer than its parent (at most 19)."""
    expected = min(19, own_niceness() + niceness)
    if expected == own_niceness():
        pytest.skip("this process already runs at the lowest priority")
    assert child_report(limits(0, niceness))["nice"] == expected


def test_default_niceness_is_ten():
    """Without a niceness, the child runs 10 steps nicer."""
    expected = min(19, own_niceness() + 10)
    assert child_report(limits(256))["nice"] == expected
