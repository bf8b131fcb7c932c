"""HTTPS behind the platform's router: page reads go to https://, the rest over plain HTTP is refused.

The router ends TLS and says how the request came in X-Forwarded-Proto, as these tests do.
"""

from __future__ import annotations

import re

import fakeredis
import pytest
from flask_migrate import upgrade

from app import create_app
from app.domain.models import User
from app.extensions import db

HOST = "conveyor.example.com"
PLAIN = {"base_url": f"http://{HOST}", "headers": {"X-Forwarded-Proto": "http"}}
TLS = {"base_url": f"http://{HOST}", "headers": {"X-Forwarded-Proto": "https"}}
PASSWORD = "correct-horse-battery"  # noqa: S105
SETTINGS = ("PUBLIC_URL", "HEROKU_APP_DEFAULT_DOMAIN_NAME", "FORCE_HTTPS", "HSTS_SECONDS", "SESSION_COOKIE_SECURE")


@pytest.fixture
def build(monkeypatch, tmp_path):
    """An app made as a dyno makes it: its settings from environment variables."""
    contexts = []

    def build(**env: str):
        for name in SETTINGS:
            monkeypatch.setenv(name, env.pop(name, ""))  # empty rather than unset: a developer's .env stays out
        assert not env, f"not a setting these tests know: {env}"
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / f'test{len(contexts)}.db'}",
                "STORAGE_URL": f"file://{tmp_path / 'storage'}",
                "REDIS_CONNECTION": fakeredis.FakeRedis(),
            }
        )
        context = app.app_context()
        context.push()
        contexts.append(context)
        upgrade()
        return app

    yield build
    db.session.remove()
    for context in reversed(contexts):
        context.pop()


@pytest.fixture
def client(build):
    app = build(PUBLIC_URL=f"https://{HOST}")
    user = User(username="alice")
    user.set_password(PASSWORD)
    app.token = user.new_token()  # type: ignore[attr-defined]
    db.session.add(user)
    db.session.commit()
    client = app.test_client()
    client.token = app.token  # type: ignore[attr-defined]
    return client


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_page_over_plain_http_is_sent_to_the_same_url_on_https(client, method):
    response = client.open("/videos/abc", method=method, query_string="state=ready&q=a%20b", **PLAIN)
    assert response.status_code == 308
    assert response.headers["Location"] == f"https://{HOST}/videos/abc?state=ready&q=a%20b"
    assert "Strict-Transport-Security" not in response.headers  # browsers ignore it over plain HTTP


def test_the_redirect_keeps_the_host_the_browser_asked_for(client):
    response = client.get("/login", base_url="http://my-app-1a2b.herokuapp.com", headers=PLAIN["headers"])
    assert response.headers["Location"] == "https://my-app-1a2b.herokuapp.com/login"


def test_a_login_posted_over_plain_http_is_refused_never_redirected(client):
    response = client.post("/login", data={"username": "alice", "password": PASSWORD}, **PLAIN)
    assert response.status_code == 403
    assert "Location" not in response.headers, "a redirect would hide that the password went out in clear"
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html" and f"https://{HOST}" in page
    assert PASSWORD not in page
    assert not any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie")), "not logged in"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/videos"), ("POST", "/api/videos"), ("GET", "/api/account"), ("GET", "/media/some-signed-link"),
     ("GET", "/stream/some-signed-token/master.m3u8")],
)
def test_the_api_and_download_links_over_plain_http_are_refused_with_a_json_error(client, method, path):
    headers = {**PLAIN["headers"], "Authorization": f"Bearer {client.token}"}
    response = client.open(path, method=method, base_url=PLAIN["base_url"], headers=headers)
    assert response.status_code == 403
    assert "Location" not in response.headers
    assert f"https://{HOST}" in response.get_json()["error"]


def test_the_same_calls_over_https_work(client):
    headers = {**TLS["headers"], "Authorization": f"Bearer {client.token}"}
    response = client.get("/api/videos", base_url=TLS["base_url"], headers=headers)
    assert response.status_code == 200 and response.get_json() == {"videos": [], "total": 0}


@pytest.mark.parametrize("path", ["/login", "/api/videos", "/no-such-page", "/healthz"])
def test_every_answer_over_https_carries_hsts_without_subdomains(client, path):
    response = client.get(path, **TLS)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_lifetime_is_a_setting(build):
    client = build(PUBLIC_URL=f"https://{HOST}", HSTS_SECONDS="600").test_client()
    assert client.get("/login", **TLS).headers["Strict-Transport-Security"] == "max-age=600"


def test_health_checks_are_answered_over_plain_http(client):
    response = client.get("/healthz", **PLAIN)
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


def test_the_login_form_is_served_over_https_only_and_posts_to_a_relative_url(client):
    assert client.get("/login", **PLAIN).status_code == 308
    page = client.get("/login", **TLS)
    assert page.status_code == 200
    form = re.search(r"<form[^>]*class=\"login\"[^>]*>", page.get_data(as_text=True)).group(0)
    action = re.search(r'action="([^"]*)"', form)
    assert action is None or (action.group(1).startswith("/") and not action.group(1).startswith("//")), form
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    headers = {**TLS["headers"], "Referer": f"https://{HOST}/login"}
    response = client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token},
        base_url=TLS["base_url"], headers=headers,
    )
    assert response.status_code == 302, "logging in over https still works"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie


def test_with_an_http_public_url_nothing_changes(build):
    client = build(PUBLIC_URL="http://localhost:5000").test_client()
    for extra in ({"X-Forwarded-Proto": "http"}, {"X-Forwarded-Proto": "https"}):
        response = client.get("/login", headers=extra)
        assert response.status_code == 200
        assert "Strict-Transport-Security" not in response.headers
    assert client.post("/api/videos", headers={"X-Forwarded-Proto": "http"}).status_code == 401  # no token: as ever


def test_force_https_can_be_turned_off_while_cookies_stay_secure(build):
    app = build(PUBLIC_URL=f"https://{HOST}", FORCE_HTTPS="false")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/login", **PLAIN)
    assert response.status_code == 200 and "Strict-Transport-Security" not in response.headers


def test_public_url_comes_from_the_dyno_metadata_when_not_set(build):
    app = build(HEROKU_APP_DEFAULT_DOMAIN_NAME="my-app-1a2b.herokuapp.com")
    assert app.config["PUBLIC_URL"] == "https://my-app-1a2b.herokuapp.com"
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["FORCE_HTTPS"] is True
    response = app.test_client().get("/upload", base_url="http://my-app-1a2b.herokuapp.com", headers=PLAIN["headers"])
    assert response.headers["Location"] == "https://my-app-1a2b.herokuapp.com/upload"


def test_an_explicit_public_url_wins_over_the_dyno_metadata(build):
    app = build(PUBLIC_URL="http://localhost:8000", HEROKU_APP_DEFAULT_DOMAIN_NAME="my-app-1a2b.herokuapp.com")
    assert app.config["PUBLIC_URL"] == "http://localhost:8000"
    assert app.config["SESSION_COOKIE_SECURE"] is False and app.config["FORCE_HTTPS"] is False


def test_without_either_the_public_url_is_this_machine(build, monkeypatch):
    monkeypatch.setenv("PORT", "5123")
    app = build()
    assert app.config["PUBLIC_URL"] == "http://localhost:5123"
    assert app.config["FORCE_HTTPS"] is False
