"""The account page: who you are, where notifications go, a new webhook secret, a new password,
a new API token shown once."""

from __future__ import annotations

import html
import re

import pytest

from app.config import parse_networks
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


def account_json(app, token: str) -> dict:
    with app.app_context():
        return app.test_client().get("/api/account", headers={"Authorization": f"Bearer {token}"}).json


def save_notifications(client, email: str = "", callback_url: str = "", **extra):
    data = {"email": email, "callback_url": callback_url, "csrf_token": csrf_token(client, "/account"), **extra}
    return client.post("/account/notifications", data=data)


def field_value(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]* name="{name}"[^>]*>', page)
    value = re.search(r'value="([^"]*)"', found.group(0)) if found else None
    return html.unescape(value.group(1)) if value else None


def error_beside(page: str, name: str) -> str:
    """The error shown under the field, which the field names as describing it."""
    field = re.search(rf'<input[^>]* name="{name}"[^>]*>', page).group(0)
    assert 'aria-describedby="' in field and f"{name}-error" in field and 'aria-invalid="true"' in field
    return html.unescape(re.search(rf'<p class="error field-error" id="{name}-error">([^<]*)</p>', page).group(1))


def session_contents(app, client) -> str:
    cookie = client.get_cookie("session")
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    return repr(data) + cookie.value


@pytest.mark.parametrize("path", ["/account/token", "/account/webhook-secret", "/account/notifications"])
def test_anonymous_visitors_are_sent_to_log_in(app, client, alice, path):
    assert client.get("/account").headers["Location"].startswith("/login?next=")
    before = account_json(app, alice[1])
    response = client.post(path, data={"csrf_token": csrf_token(client), "email": "", "callback_url": ""})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert api_status(app, alice[1]) == 200 and account_json(app, alice[1]) == before, "nothing changed"


def test_the_page_shows_who_you_are_and_is_in_the_navigation(logged_in, alice):
    user = alice[0]
    user.email = "alice@example.com"
    user.callback_url = "https://hooks.example.com/in"
    db.session.commit()
    assert 'href="/account"' in logged_in.get("/videos").get_data(as_text=True)
    response = logged_in.get("/account")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ">alice</dd>" in page
    assert field_value(page, "email") == "alice@example.com"
    assert field_value(page, "callback_url") == "https://hooks.example.com/in"
    assert f'<code class="secret" id="webhook-secret">{user.webhook_secret}</code>' in page
    for action in ("/account/notifications", "/account/webhook-secret", "/account/token", "/account/password"):
        assert f'action="{action}#' in page
    assert page.count('name="csrf_token"') >= 5  # the four forms, and Log out
    assert "At least 8 characters (at most 256), and not only spaces." in page, "the rules, before typing"
    assert 'autocomplete="current-password"' in page and page.count('autocomplete="new-password"') == 2


def test_changing_the_password(app, logged_in):
    response = change(logged_in)
    assert response.status_code == 303 and response.headers["Location"] == "/account#main"
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
    assert 'action="/account/password#password"' in page, "the form is there again"
    assert "password1" not in page and NEW not in page, "no password is sent back"
    assert "Password changed." not in logged_in.get("/account").get_data(as_text=True)
    assert can_log_in(app, "password1")
    assert not can_log_in(app, NEW)


def test_guessing_the_current_password_is_limited_like_logging_in(app, logged_in):
    app.config["LOGIN_RATE_LIMIT"] = "2/minute"
    assert change(logged_in, current="guess one").status_code == 400
    assert change(logged_in, current="guess two").status_code == 400
    blocked = change(logged_in)  # even the right one, until the minute has passed
    page = blocked.get_data(as_text=True)
    said = int(re.search(r"Too many wrong passwords\. Try again in (\d+) seconds?\.", page).group(1))
    assert blocked.status_code == 429 and 0 < said <= 60 and abs(said - int(blocked.headers["Retry-After"])) <= 1
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


def test_notifications_are_saved_kept_and_cleared(app, logged_in, alice):
    response = save_notifications(logged_in, " alice@example.com ", "https://hooks.example.com/in?key=1")
    assert response.status_code == 303 and response.headers["Location"] == "/account#main"
    page = logged_in.get("/account").get_data(as_text=True)
    assert "Notifications saved." in page
    assert field_value(page, "email") == "alice@example.com", "kept, trimmed"
    assert field_value(page, "callback_url") == "https://hooks.example.com/in?key=1"
    body = account_json(app, alice[1])
    assert body["email"] == "alice@example.com" and body["callback_url"] == "https://hooks.example.com/in?key=1"

    assert save_notifications(logged_in, "", "").status_code == 303, "empty fields clear them"
    body = account_json(app, alice[1])
    assert body["email"] is None and body["callback_url"] is None


@pytest.mark.parametrize(
    ("email", "url", "field", "message"),
    [
        ("not an address", "", "email", "This is not an e-mail address."),
        ("Eve <eve@example.com>", "", "email", "This is not an e-mail address."),
        ("", "ftp://example.com/x", "callback_url", "The callback URL must be an http:// or https:// URL."),
        ("", "https://user:pw@example.com/x", "callback_url", "must not hold a user name or password"),
        ("", "https://10.0.0.5/hook", "callback_url", "points at 10.0.0.5, which is not a public address"),
        ("", "http://localhost:8000/hook", "callback_url", "points at localhost, which is not a public address"),
        ("", "https://169.254.169.254/latest", "callback_url", "not a public address"),
        ("", "https://[::1]/hook", "callback_url", "points at ::1, which is not a public address"),
        ("", "https://[::ffff:192.168.1.1]/hook", "callback_url", "not a public address"),
        ("", "https://0x7f.1/hook", "callback_url", "points at 0x7f.1, which is not a public address"),
        ("", "https://2130706433/hook", "callback_url", "not a public address"),
    ],
)
def test_refused_notifications_say_why_beside_the_field_and_save_nothing(
    app, logged_in, alice, email, url, field, message
):
    # the other field is fine: nothing is saved all the same, and it comes back as typed
    good = {"email": "alice@example.com", "callback_url": "https://hooks.example.com/in"}
    typed = {**good, **{"email": email, "callback_url": url}}
    typed[{"email": "callback_url", "callback_url": "email"}[field]] = good[
        {"email": "callback_url", "callback_url": "email"}[field]
    ]
    response = save_notifications(logged_in, typed["email"], typed["callback_url"])
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in error_beside(page, field)
    assert field_value(page, field) == typed[field], "what was typed is there to correct"
    assert "Notifications saved." not in page
    body = account_json(app, alice[1])
    assert body["email"] is None and body["callback_url"] is None


def test_the_api_refuses_a_private_callback_url_with_the_same_words(client, auth):
    response = client.patch("/api/account", headers=auth, json={"callback_url": "https://192.168.0.10/hook"})
    assert response.status_code == 400
    assert response.json["error"].startswith("`callback_url` points at 192.168.0.10, which is not a public address")
    assert client.get("/api/account", headers=auth).json["callback_url"] is None


def test_an_operators_own_networks_may_be_the_default_callback(app, logged_in, alice):
    app.config["CALLBACK_ALLOWED_NETWORKS"] = parse_networks("127.0.0.0/8")  # as for trying callbacks locally
    assert save_notifications(logged_in, "", "http://localhost:8000/hook").status_code == 303
    assert account_json(app, alice[1])["callback_url"] == "http://localhost:8000/hook"
    assert save_notifications(logged_in, "", "https://10.0.0.5/hook").status_code == 400, "only those networks"


def test_a_hostile_callback_url_is_shown_as_text(app, logged_in, alice):
    hostile = 'https://example.com/a"><img/src=x/onerror=alert(1)>'
    assert save_notifications(logged_in, "", hostile).status_code == 303
    page = logged_in.get("/account").get_data(as_text=True)
    assert "<img/src=x" not in page
    assert field_value(page, "callback_url") == hostile


def test_a_new_webhook_secret_replaces_the_old_one(app, logged_in, alice):
    old = account_json(app, alice[1])["webhook_secret"]
    page = logged_in.get("/account").get_data(as_text=True)
    assert "Replace the webhook secret?" in page, "the page asks before it replaces it"
    response = logged_in.post("/account/webhook-secret", data={"csrf_token": csrf_token(logged_in, "/account")})
    assert response.status_code == 303 and response.headers["Location"] == "/account#main"
    new = account_json(app, alice[1])["webhook_secret"]
    assert new != old and new.startswith("whsec_")
    page = logged_in.get("/account").get_data(as_text=True)
    assert "callbacks are signed with it from now on" in page
    assert f'id="webhook-secret">{new}</code>' in page and old not in page


@pytest.mark.parametrize(
    "path", ["/account/password", "/account/token", "/account/webhook-secret", "/account/notifications"]
)
def test_the_forms_need_the_csrf_token(app, logged_in, alice, path):
    before = account_json(app, alice[1])
    data = {
        "current_password": "password1",
        "new_password": NEW,
        "repeat": NEW,
        "email": "e@example.com",
        "callback_url": "",
    }
    response = logged_in.post(path, data=data)
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert api_status(app, alice[1]) == 200
    assert account_json(app, alice[1]) == before
    assert can_log_in(app, "password1")
