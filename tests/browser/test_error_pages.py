"""Error pages in a browser, at desktop and phone sizes: the site's design and navigation, what to do
next, nothing of Werkzeug's, and each page passes `assert_page_ok`.

404, 403 and 405 come from the real web. 413, 429, 500 and 503 cannot be caused there (a 2 GB upload,
a test-only route, a database taken away), so the app makes them in this process, as the unit tests
do, and the browser is handed that very answer (body and headers, CSP included) at the stack's
address, where the page's stylesheets and favicon load from the real web.
"""

from __future__ import annotations

import fakeredis
import pytest

from app import create_app
from app.ratelimit import limiter
from tests.browser.checks import assert_page_ok
from tests.browser.conftest import XSS

pytestmark = pytest.mark.browser

STOCK = ("The requested URL was not found on the server", "If you entered the URL manually", "Werkzeug")
MAIN_PAGES = ["My videos", "Upload", "Account"]  # and Log in, for a visitor not logged in


def assert_error_page(visitor, status: int, heading: str, *says: str, signed_in: bool = True) -> None:
    page = visitor.page
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert page.get_by_text(f"Error {status}").is_visible()
    nav = page.get_by_role("navigation", name="Main")
    links = [link.inner_text() for link in nav.get_by_role("link").all()]
    assert links == MAIN_PAGES + ([] if signed_in else ["Log in"])
    assert all(link.is_visible() for link in nav.get_by_role("link").all())
    assert page.get_by_role("link", name="Go to My videos").is_visible()
    text = page.locator("main").inner_text()
    for words in says:
        assert words in text, words
    for words in STOCK:
        assert words not in page.content(), words
    assert_page_ok(page)
    assert visitor.errors == [] and visitor.missing == []


def test_an_unknown_page(stack, visitor, size):
    anonymous = visitor(size=size)
    response = anonymous.page.goto("/no-such-page")
    assert response.status == 404
    assert_error_page(
        anonymous, 404, "Page not found", "The link may be old, or the video was deleted", signed_in=False
    )


def test_a_hostile_path_is_shown_as_text(stack, visitor, size):
    alice = visitor("alice", size=size)
    response = alice.page.goto(f"/videos/{XSS}/x")
    assert response.status == 404
    assert_error_page(alice, 404, "Page not found", f"Nothing is at /videos/{XSS}/x.")
    assert alice.page.locator("main img").count() == 0 and alice.dialogs == []


def test_someone_elses_video(stack, visitor, size):
    alice = visitor("alice", size=size)
    assert alice.page.goto("/videos/not-one-of-yours").status == 404
    assert_error_page(alice, 404, "Page not found", "No such video.")
    alice.page.get_by_role("link", name="Go to My videos").click()
    alice.page.wait_for_url("**/videos")


def test_a_plain_user_on_review(stack, visitor, size):
    alice = visitor("alice", size=size)
    assert alice.page.goto("/review").status == 403
    assert_error_page(
        alice,
        403,
        "This page is not open to you",
        "Reviewing rejected videos is for administrators.",
        "log in with an account that may",
    )


def test_a_form_address_opened_as_a_page(stack, visitor, size):
    alice = visitor("alice", size=size)
    assert alice.page.goto("/logout").status == 405
    assert_error_page(alice, 405, "That does not work from here", "use the page's own buttons")


@pytest.fixture(scope="module")
def made_here(tmp_path_factory):
    """The app, in this process, with its database away and test-only routes that are limited or fail."""
    app = create_app(
        {
            "TESTING": True,
            "PROPAGATE_EXCEPTIONS": False,  # an unhandled exception is handled as in production
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
            "STORAGE_URL": f"file://{tmp_path_factory.mktemp('errors')}",
            "REDIS_CONNECTION": fakeredis.FakeRedis(),
            "MAX_UPLOAD_MB": 1,
        }
    )
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024 + 64 * 1024  # derived from MAX_UPLOAD_MB at start

    def boom():
        raise RuntimeError("a bug")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/limited", "limited", limiter.limit("1/hour", key_func=lambda: "everyone")(lambda: "ok"))
    return app


def too_large(client):
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.vtt"\r\n\r\n' + b"x" * 2 * 1024 * 1024
    return client.post(
        "/videos/some-id/captions", data=body + b"\r\n--b--\r\n", content_type="multipart/form-data; boundary=b"
    )


def too_many(client):
    client.get("/limited")
    return client.get("/limited")


def database_down(client):
    with client.session_transaction() as session:  # logged in before the database went away
        session.update({"_user_id": "1", "sid": "some-session", "_fresh": True})
    return client.get("/videos")


CASES = {
    413: (too_large, "Too large", ["The upload is larger than the limit of 1 MB.", "at most 1 MB"]),
    429: (
        too_many,
        "Too many requests",
        ["Too many uploads: the limit is 1 per 1 hour.", "Wait an hour, then try again."],
    ),
    500: (lambda client: client.get("/boom"), "Something went wrong on our side", ["it has been logged"]),
    503: (database_down, "Busy, or a part is down", ["The database is unavailable right now", "in a minute"]),
}


@pytest.mark.parametrize("status", sorted(CASES))
def test_errors_the_real_web_cannot_be_made_to_show(stack, visitor, made_here, size, status):
    make, heading, says = CASES[status]
    answer = make(made_here.test_client())
    assert answer.status_code == status
    headers = {
        name: value for name, value in answer.headers.items() if name.lower() not in ("content-length", "set-cookie")
    }
    shown = visitor(size=size)
    shown.context.route(
        f"{stack.url}/shown", lambda route: route.fulfill(status=status, headers=headers, body=answer.get_data())
    )
    assert shown.page.goto("/shown").status == status
    assert_error_page(shown, status, heading, *says, signed_in=make is database_down)
