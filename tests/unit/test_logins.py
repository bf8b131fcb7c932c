"""Password guessing is slowed per browser, name and address, and no stranger can lock a user out."""

from __future__ import annotations

import pytest

from app.ratelimit import DEVICE_COOKIE
from tests.unit.test_pages import log_in


@pytest.fixture
def alice(make_user):
    return make_user("alice")[0]


def browser(app, address: str = "198.51.100.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def attempt(app, client, name: str = "alice", password: str = "password1") -> int:  # noqa: S107
    with app.app_context():  # a request of its own: Flask-Login keeps who logged in in `g`
        status = log_in(client, name=name, password=password).status_code
        if status == 302:
            client.delete_cookie("session")  # logged out, the device cookie kept
        return status


@pytest.fixture
def limits(app):
    app.config["LOGIN_RATE_LIMIT"] = "3/minute"
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "5/minute"


def test_strangers_failures_do_not_lock_out_a_browser_that_logged_in_before(app, alice, limits):
    own = browser(app, "198.51.100.7")
    assert attempt(app, own) == 302
    assert own.get_cookie(DEVICE_COOKIE) is not None
    stranger = browser(app, "203.0.113.66")
    assert [attempt(app, stranger, password="guess") for _ in range(4)] == [401, 401, 401, 429]
    assert attempt(app, stranger) == 429, "the name is closed to browsers it never logged in from"
    assert attempt(app, own) == 302, "but not to its owner's"
    assert attempt(app, browser(app, "198.51.100.7")) == 429, "a new browser at the owner's address waits too"


def test_a_browser_that_logged_in_before_has_a_limit_of_its_own(app, alice, limits):
    own = browser(app)
    assert attempt(app, own) == 302
    assert [attempt(app, own, password="guess") for _ in range(4)] == [401, 401, 401, 429]
    assert attempt(app, own) == 429
    assert attempt(app, browser(app, "203.0.113.5")) == 302, "its failures did not count against the name"


def test_good_logins_do_not_use_up_the_limit(app, alice, limits):
    for _ in range(6):
        assert attempt(app, browser(app)) == 302


def test_one_password_sprayed_over_many_names_is_slowed_per_address(app, alice, make_user, limits):
    sprayer = browser(app, "203.0.113.99")
    for name in ("ann", "ben", "cat", "dan", "eve"):
        assert attempt(app, sprayer, name=name, password="Summer2024!") == 401
    assert attempt(app, sprayer, name="fay", password="Summer2024!") == 429
    assert attempt(app, sprayer) == 429, "even a right password, from that address, without a device cookie"
    assert attempt(app, browser(app, "198.51.100.2")) == 302, "other addresses go on"


def test_a_device_cookie_counts_only_for_its_own_name_and_cannot_be_forged(app, alice, make_user, limits):
    make_user("bob")
    own = browser(app, "198.51.100.8")
    assert attempt(app, own) == 302
    for _ in range(3):
        attempt(app, browser(app, "203.0.113.1"), name="bob", password="guess")
    assert attempt(app, own, name="bob", password="password1") == 429, "alice's cookie is no pass for bob"
    forged = browser(app, "203.0.113.2")
    forged.set_cookie(DEVICE_COOKIE, "alice.forged.value")
    for _ in range(3):
        attempt(app, browser(app, "203.0.113.3"), password="guess")
    assert attempt(app, forged) == 429


def test_a_wrong_current_password_on_the_account_page_counts_as_a_failed_login(app, alice, limits):
    from tests.unit.test_account_page import change

    own = browser(app)
    with app.app_context():
        assert log_in(own).status_code == 302
        assert [change(own, current="guess").status_code for _ in range(4)] == [400, 400, 400, 429]
        own.delete_cookie("session")
    assert attempt(app, own) == 429, "the guesses counted against this browser's logins"
