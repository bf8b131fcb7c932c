"""A refused request with a large body leaves the client's keep-alive connection usable (real gunicorn).

A `requests.Session` keeps its connection for the next request when the answer says keep-alive.
If the server then closes it because the refused body was never read, that next request fails
with `RemoteDisconnected`. Each case runs several rounds: the failure depends on timing.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import free_port
from tests.stack import running_stack

pytestmark = pytest.mark.integration

ROUNDS = 8
MB = 1024 * 1024
LARGE = os.urandom(3 * MB)  # well over MAX_UPLOAD_MB below, and over what a server drains
SMALL = os.urandom(MB // 2)  # under MAX_UPLOAD_MB, small enough to be read and dropped


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server):
    with running_stack(
        tmp_path_factory.mktemp("stack"), redis_server, free_port(), workers=0,
        # every case uploads ROUNDS times as its own user: allowed, except for the user who used them up first
        MAX_UPLOAD_MB="1", UPLOAD_RATE_LIMIT=f"{ROUNDS}/hour",
    ) as stack:
        yield stack


def oversize(stack, session):
    return session.post(f"{stack.url}/api/videos", files={"file": ("big.mkv", LARGE)}, timeout=30)


def bad_token(stack, session, body=LARGE):
    headers = {"Authorization": "Bearer not-a-token"}
    return session.post(f"{stack.url}/api/videos", files={"file": ("a.mkv", body)}, headers=headers, timeout=30)


def not_multipart(stack, session):
    headers = {"Content-Type": "application/octet-stream"}
    return session.post(f"{stack.url}/api/videos", data=LARGE, headers=headers, timeout=30)


def over_the_limit(stack, session):
    return session.post(f"{stack.url}/api/videos", files={"file": ("a.mkv", LARGE)}, timeout=30)


def use_up_the_upload_limit(stack, session) -> None:
    for _ in range(ROUNDS):  # a refused upload counts too
        headers = {"Content-Type": "text/plain"}
        response = session.post(f"{stack.url}/api/videos", data=b"x", headers=headers, timeout=10)
        assert response.status_code == 415


CASES = {  # the user each case uploads as, how it is refused, and what the error says
    "413 too large": ("alice", oversize, 413, "larger than the limit of 1 MB"),
    "401 bad token": ("bob", bad_token, 401, "token is not valid"),
    "415 not multipart": ("carol", not_multipart, 415, "multipart/form-data"),
    "429 rate limited": ("erin", over_the_limit, 429, "Too many uploads"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_refused_large_body_closes_the_connection_and_the_next_request_works(stack, case):
    user, refuse, status, message = CASES[case]
    session = stack.create_user(user)
    if status == 429:
        use_up_the_upload_limit(stack, session)
    for round_ in range(ROUNDS):
        response = refuse(stack, session)
        assert response.status_code == status, (round_, response.text)
        assert message in response.json()["error"]
        after = session.get(f"{stack.url}/api/videos", timeout=10)  # raised RemoteDisconnected before
        assert after.status_code == 200, (round_, after.text)
        assert response.headers["Connection"] == "close", "the server closes it: the client must not reuse it"


def test_a_small_unread_body_is_dropped_and_the_connection_kept(stack):
    session = stack.create_user("dora")
    for round_ in range(ROUNDS):
        response = bad_token(stack, session, body=SMALL)
        assert response.status_code == 401
        assert response.headers["Connection"] == "keep-alive", round_
        assert session.get(f"{stack.url}/api/videos", timeout=10).status_code == 200, round_
    pools = session.get_adapter(stack.url).poolmanager.pools
    assert sum(pools[key].num_connections for key in pools.keys()) == 1, "every request went over one connection"
