"""Simultaneous guesses against the real web (gunicorn, its threads and processes, Redis): the attempt
is counted before the password is checked, so no more than the limit are ever checked."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

pytestmark = pytest.mark.integration

GUESSES = 40
LIMIT = 10


def login_form(url: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(f"{url}/login", timeout=10).text
    return session, re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def test_forty_simultaneous_wrong_passwords_see_at_most_the_limit_checked(make_stack):
    stack = make_stack(LOGIN_RATE_LIMIT=f"{LIMIT}/minute", LOGIN_ADDRESS_RATE_LIMIT="1000/minute", WEB_CONCURRENCY="2")
    stack.create_user("alice")
    forms = [login_form(stack.url) for _ in range(GUESSES)]
    start = threading.Barrier(GUESSES)

    def guess(form: tuple[requests.Session, str]) -> int:
        session, token = form
        start.wait()
        response = session.post(
            f"{stack.url}/login", data={"username": "alice", "password": "wrong guess", "csrf_token": token},
            headers={"Referer": f"{stack.url}/login"}, timeout=60, allow_redirects=False,
        )
        return response.status_code

    with ThreadPoolExecutor(GUESSES) as pool:
        statuses = list(pool.map(guess, forms))
    checked = statuses.count(401)  # a 401 is a password checked and found wrong; a 429 was never checked
    assert checked + statuses.count(429) == GUESSES, statuses
    assert checked <= LIMIT, f"{checked} of {GUESSES} simultaneous guesses had their password checked"
    session, token = login_form(stack.url)
    right = session.post(
        f"{stack.url}/login", data={"username": "alice", "password": "password123", "csrf_token": token},
        headers={"Referer": f"{stack.url}/login"}, timeout=10, allow_redirects=False,
    )
    assert right.status_code == 429, "a browser that never logged in waits out the minute"
