"""Error pages: each status in the site's own design, with its navigation, saying what happened and
what to do next, never Werkzeug's stock text; the API keeps its JSON errors as they were."""

from __future__ import annotations

import re

import pytest
from flask import abort
from werkzeug.exceptions import InternalServerError, NotFound

from app.ratelimit import limiter
from tests.unit.test_pages import XSS, log_in

STOCK = ("The requested URL was not found on the server", "If you entered the URL manually", "Werkzeug")
MAIN_PAGES = {"My videos": "/videos", "Upload": "/upload", "Account": "/account", "Log in": "/login"}


def assert_error_page(response, status: int, *says: str, signed_in: bool = False) -> str:
    """Our page for `status`: the main navigation (Log in for a visitor not logged in), the words a
    person can act on, no stock text, no CSRF token (which would start a session: see error.html)."""
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', page, re.DOTALL).group(1)
    links = {v: k for k, v in MAIN_PAGES.items() if not (signed_in and k == "Log in")}
    assert dict(re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav)) == links
    assert f"Error {status}" in page and '<a class="button" href="/videos">Go to My videos</a>' in page
    for words in says:
        assert words in page, words
    for words in STOCK:
        assert words not in page, words
    assert "csrf-token" not in page
    return page


def heading(page: str) -> str:
    return re.search(r'<h1 id="error-heading">([^<]*)</h1>', page).group(1)


@pytest.fixture
def alice(make_user):
    return make_user("alice")[0]


def test_an_unknown_page_is_a_404_that_says_what_to_do(client):
    page = assert_error_page(client.get("/no-such-page"), 404, "The link may be old, or the video was deleted")
    assert heading(page) == "Page not found" and "Nothing is at <code" in page and "My videos" in page


def test_a_hostile_path_is_shown_as_text(client):
    page = assert_error_page(client.get(f"/videos-{XSS}"), 404)
    assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_another_users_video_is_a_404_with_its_own_message(client, alice):
    log_in(client)
    assert_error_page(client.get("/videos/no-such-id"), 404, "No such video.", "Page not found", signed_in=True)


def test_the_api_keeps_its_json_404(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404 and response.is_json
    assert response.json == {"error": NotFound.description}  # as it always was


def test_a_plain_user_on_review_gets_a_403_page(client, alice):
    log_in(client)
    response = client.get("/review")
    page = assert_error_page(response, 403, "Reviewing rejected videos is for administrators.", signed_in=True)
    assert heading(page) == "This page is not open to you" and "log in with an account" in page


def test_a_405_names_the_methods_and_says_what_to_do(client):
    response = client.get("/logout")
    page = assert_error_page(response, 405, "use the page&#39;s own buttons")
    assert "POST" in response.headers["Allow"] and "The method is not allowed" not in page
    api = client.put("/api/videos")
    assert api.status_code == 405 and api.is_json and "POST" in api.headers["Allow"]


def test_an_upload_over_the_limit_from_a_page_is_a_413_page(app, client, alice):
    app.config["MAX_UPLOAD_MB"] = 1
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024 + 64 * 1024
    log_in(client)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.vtt"\r\n\r\n'
        + b"WEBVTT\n\n"
        + b"x" * 2 * 1024 * 1024
        + b"\r\n--b--\r\n"
    )
    response = client.post("/videos/some-id/captions", data=body, content_type="multipart/form-data; boundary=b")
    page = assert_error_page(
        response, 413, "The upload is larger than the limit of 1 MB.", "at most 1 MB", signed_in=True
    )
    assert heading(page) == "Too large"


def test_too_many_logins_is_a_429_that_says_how_long_to_wait(app, client, alice):
    app.config["LOGIN_RATE_LIMIT"] = "2/minute"
    for _ in range(2):
        assert log_in(client, password="guess").status_code == 401
    blocked = log_in(client)
    page = blocked.get_data(as_text=True)
    wait = int(blocked.headers["Retry-After"])
    said = int(re.search(r"Too many failed logins\. Try again in (\d+) seconds?\.", page).group(1))
    assert blocked.status_code == 429 and 0 < wait <= 60 and abs(said - wait) <= 1
    assert not any(words in page for words in STOCK)


@pytest.fixture
def limited(app):
    """A test-only route under a rate limit, as a page and as an API path."""

    def page():
        return "ok"

    def api():
        return "ok"

    for path, view in (("/limited", page), ("/api/limited", api)):  # a view each: a limit counts per view
        app.add_url_rule(path, path, limiter.limit("1/minute", key_func=lambda: "everyone")(view))
    return app


def test_the_rate_limit_is_a_429_page_with_retry_after(limited, client):
    assert client.get("/limited").status_code == 200
    response = client.get("/limited")
    page = assert_error_page(response, 429, "Too many uploads: the limit is 1 per 1 minute.")
    wait = int(response.headers["Retry-After"])
    said = int(re.search(r"Wait (\d+) seconds?, then try again\.", page).group(1))
    assert 0 < wait <= 60 and abs(said - wait) <= 1 and "Wait a while" not in page  # counted a moment apart
    assert 'href="/limited">Try again</a>' in page


def test_the_apis_429_stays_json_with_retry_after(limited, client):
    client.get("/api/limited")
    response = client.get("/api/limited")
    assert response.status_code == 429 and response.json == {
        "error": "Too many uploads: the limit is 1 per 1 minute. Try again later."
    }
    assert int(response.headers["Retry-After"]) > 0


@pytest.fixture
def raising(app):
    """Test-only routes that fail as a bug would, on an app that handles the error as in production."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom():
        raise RuntimeError(f"internal detail {XSS}")

    def refuse():
        abort(403, f"a message with {XSS}")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/boom", "api_boom", boom)
    app.add_url_rule("/refuse", "refuse", refuse)
    return app


def test_an_unhandled_exception_is_our_500_page(raising, client):
    page = assert_error_page(client.get("/boom"), 500, "Something went wrong on our side", "Try again")
    assert "internal detail" not in page and "Internal Server Error" not in page


def test_an_unhandled_exception_on_the_api_is_its_json_500(raising, client):
    response = client.get("/api/boom")
    assert response.status_code == 500 and response.json == {"error": InternalServerError.description}


def test_a_hostile_message_is_shown_as_text(raising, client):
    page = assert_error_page(client.get("/refuse"), 403)
    assert XSS not in page and "a message with &lt;img src=x onerror=alert(1)&gt;" in page


def test_the_database_down_is_a_503_page_for_a_logged_in_visitor(database_away):
    """As in tests/integration/test_database_outage.py, but refused at once: the session's user cannot
    be looked up, and the page still renders, with its own headers."""
    client = database_away.test_client()
    with client.session_transaction() as session:  # a visitor who logged in before the database went
        session.update({"_user_id": "1", "sid": "some-session", "_fresh": True})
    response = client.get("/videos")
    page = assert_error_page(
        response, 503, "The database is unavailable right now", "try again in a minute", signed_in=True
    )
    assert heading(page) == "Busy, or a part is down" and 'href="/videos">Try again</a>' in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    api = client.get("/api/videos", headers={"Authorization": "Bearer whatever"})
    assert api.status_code == 503 and api.json == {
        "error": "The database is unavailable right now; try again in a minute."
    }


def test_try_again_never_leads_to_another_site(raising, client):
    app = raising
    app.add_url_rule("/<path:anything>/boom", "deep_boom", lambda anything: 1 / 0)
    page = assert_error_page(client.get("/%5Cevil.example/boom?x=1"), 500)
    assert 'href="/evil.example/boom?x=1">Try again</a>' in page
