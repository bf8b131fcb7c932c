"""The account page: who you are, a new password, a new API token shown once."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from tests.unit.test_pages import csrf_token, log_in

NEW = "correct horse 9"


@pytest.fixture
def alice(make_user):
    user, token = make_user("alice")
    return user, token


@pytest.fixture
def logged_in(client, alice):
    assert log_in(client).status_code == 302
    return client


# A fresh app context for each, as another process would be: requests made inside the test's
# context share its `g`, where Flask-Login keeps whoever logged in last.
def can_log_in(app, password: str) -> bool:
    with app.app_context():
        return log_in(app.test_client(), password=password).status_code == 302


def api_status(app, token: str) -> int:
    with app.app_context():
        return app.test_client().get("/api/videos", headers={"Authorization": f"Bearer {token}"}).status_code


def change(client, current: str = "password1", new: str = NEW, repeat: str | None = None, **extra):
    data = {"current_password": current, "new_password": new, "repeat": new if repeat is None else repeat}
    return client.post("/account/password", data={**data, "csrf_token": csrf_token(client, "/account"), **extra})


def shown_token(page: str) -> str:
    return re.search(r'<code class="token" id="new-token">([^<]+)</code>', page).group(1)


def session_contents(app, client) -> str:
    cookie = client.get_cookie("session")
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    return repr(data) + cookie.value


def test_anonymous_visitors_are_sent_to_log_in(app, client, alice):
    assert client.get("/account").headers["Location"].startswith("/login?next=")
    response = client.post("/account/token", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert api_status(app, alice[1]) == 200, "nothing changed"


def test_the_page_shows_who_you_are_and_is_in_the_navigation(logged_in, alice):
    user = alice[0]
    user.email = "alice@example.com"
    db.session.commit()
    assert 'href="/account"' in logged_in.get("/videos").get_data(as_text=True)
    response = logged_in.get("/account")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ">alice</dd>" in page and ">alice@example.com</dd>" in page
    assert 'action="/account/password"' in page and 'action="/account/token"' in page
    assert page.count('name="csrf_token"') >= 3  # both forms, and Log out


def test_changing_the_password(app, logged_in):
    response = change(logged_in)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    page = logged_in.get("/account").get_data(as_text=True)
    assert "Password changed." in page
    assert NEW not in page
    assert logged_in.get("/videos").status_code == 200, "still logged in"
    assert can_log_in(app, NEW)
    assert not can_log_in(app, "password1")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"current": "password2"}, "That is not your current password."),
        ({"current": ""}, "Enter your current password."),
        ({"repeat": "correct horse 8"}, "The two new passwords differ."),
        ({"new": "short", "repeat": "short"}, "The new password must be at least 8 characters."),
        ({"new": " " * 10, "repeat": " " * 10}, "The new password must not be only spaces."),
    ],
    ids=["wrong current", "no current", "mismatch", "too short", "spaces"],
)
def test_a_refused_change_says_why_and_changes_nothing(app, logged_in, fields, message):
    response = change(logged_in, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'action="/account/password"' in page, "the form is there again"
    assert "password1" not in page and NEW not in page, "no password is sent back"
    assert "Password changed." not in logged_in.get("/account").get_data(as_text=True)
    assert can_log_in(app, "password1")
    assert not can_log_in(app, NEW)


def test_guessing_the_current_password_is_limited_like_logging_in(app, logged_in):
    app.config["LOGIN_RATE_LIMIT"] = "2/minute"
    assert change(logged_in, current="guess one").status_code == 400
    assert change(logged_in, current="guess two").status_code == 400
    blocked = change(logged_in)  # even the right one, until the minute has passed
    assert blocked.status_code == 429 and "Too many wrong passwords" in blocked.get_data(as_text=True)
    assert not can_log_in(app, NEW)


def test_a_new_token_is_shown_once_and_replaces_the_old_one(app, logged_in, alice):
    old = alice[1]
    assert api_status(app, old) == 200
    response = logged_in.post("/account/token", data={"csrf_token": csrf_token(logged_in, "/account")})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    new = shown_token(response.get_data(as_text=True))
    assert new != old
    assert api_status(app, old) == 401
    assert api_status(app, new) == 200
    assert new not in session_contents(app, logged_in)
    assert not any(new in header for header in response.headers.getlist("Set-Cookie"))
    later = logged_in.get("/account").get_data(as_text=True)
    assert new not in later and 'id="new-token"' not in later, "shown once, not flashed for the next page"


@pytest.mark.parametrize("path", ["/account/password", "/account/token"])
def test_the_forms_need_the_csrf_token(app, logged_in, alice, path):
    data = {"current_password": "password1", "new_password": NEW, "repeat": NEW}
    response = logged_in.post(path, data=data)
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert api_status(app, alice[1]) == 200
    assert can_log_in(app, "password1")
