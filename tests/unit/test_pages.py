"""The pages: logging in and out, CSRF on every form and session API call, who sees what."""

from __future__ import annotations

import re

import pytest

from app.domain.models import Rendition, Video
from app.extensions import db

XSS = "<img src=x onerror=alert(1)>"


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def log_in(client, name: str = "alice", password: str = "password1", **query):  # noqa: S107
    token = csrf_token(client)
    return client.post("/login", query_string=query, data={"username": name, "password": password, "csrf_token": token})


def add_video(user, **fields) -> str:
    fields = {"title": "Clip", "filename": "clip.mp4", **fields}
    video = Video(user_id=user.id, **fields)
    db.session.add(video)
    db.session.commit()
    return video.id


@pytest.fixture
def alice(make_user):
    return make_user("alice")[0]


def test_pages_send_anonymous_visitors_to_log_in(client):
    for path in ("/videos", "/upload", "/videos/whatever"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_logging_in_sets_a_protected_session_cookie_and_goes_where_asked(client, alice):
    response = log_in(client, next="/upload")
    assert response.status_code == 302 and response.headers["Location"] == "/upload"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP locally: a Secure cookie would never come back
    assert client.get("/videos").status_code == 200


def test_the_session_cookie_is_secure_behind_https(app, client, alice):
    app.config["SESSION_COOKIE_SECURE"] = True
    https = {"base_url": "https://localhost"}
    page = client.get("/login", **https).get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"username": "alice", "password": "password1", "csrf_token": token},
        headers={"Referer": "https://localhost/login"}, **https,
    )
    assert response.status_code == 302
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_https_from_the_platform_router_makes_https_links(client, alice):
    video_id = add_video(alice, state="ready", status=1.0, poster_key="videos/x/poster.jpg")
    log_in(client)
    page = client.get(f"/videos/{video_id}", headers={"X-Forwarded-Proto": "https"}).get_data(as_text=True)
    assert "https://localhost/" in page and "http://localhost/" not in page


@pytest.mark.parametrize("password", ["wrong", "", "password1 "])
def test_a_wrong_password_is_refused(client, alice, password):
    response = log_in(client, password=password)
    assert response.status_code in (400, 401)
    assert client.get("/videos").status_code == 302


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(client, alice):
    unknown = log_in(client, name="mallory", password="password1")
    wrong = log_in(client, name="alice", password="password2")
    assert unknown.status_code == wrong.status_code == 401
    assert "Wrong username or password." in unknown.get_data(as_text=True)


def test_password_guessing_is_stopped_per_username(app, client, alice, make_user):
    app.config["LOGIN_RATE_LIMIT"] = "3/minute"
    make_user("bob")
    for _ in range(3):
        assert log_in(client, password="guess").status_code == 401
    blocked = log_in(client)  # even the right password, until the minute has passed
    assert blocked.status_code == 429
    assert "Too many failed logins" in blocked.get_data(as_text=True)
    assert client.get("/videos").status_code == 302
    assert log_in(client, name=" ALICE ").status_code == 429, "the same name, however written"
    assert log_in(client, name="bob").status_code == 302, "other accounts are not locked out"


def test_logging_in_needs_the_csrf_token(client, alice):
    response = client.post("/login", data={"username": "alice", "password": "password1"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/videos").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "/\t/evil.example"])
def test_login_never_redirects_to_another_site(client, alice, target):
    response = log_in(client, next=target)
    assert response.headers["Location"] == "/videos"


def test_logout_is_a_post_with_the_csrf_token(client, alice):
    log_in(client)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no token: another site cannot log anyone out
    assert client.get("/videos").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/videos")})
    assert response.status_code == 302
    assert client.get("/videos").status_code == 302


def test_a_request_from_another_site_cannot_replace_the_session(client, alice):
    log_in(client)
    stranger = client.application.test_client()  # what arrives without the cookie (SameSite=Lax)
    for response in (stranger.post("/logout"), stranger.post("/videos"), stranger.get("/no-such-page")):
        assert response.status_code in (400, 404, 405)
        assert not response.headers.getlist("Set-Cookie")
    assert client.get("/videos").status_code == 200


def test_the_session_works_on_the_api_and_changes_need_the_csrf_header(client, alice):
    video_id = add_video(alice)
    log_in(client)
    assert [v["id"] for v in client.get("/api/videos").json["videos"]] == [video_id]
    refused = client.post(f"/api/videos/{video_id}/cancel")
    assert refused.status_code == 400 and "CSRF" in refused.json["error"]
    assert db.session.get(Video, video_id).state == "queued"
    accepted = client.post(f"/api/videos/{video_id}/cancel", headers={"X-CSRFToken": csrf_token(client, "/videos")})
    assert accepted.status_code == 202 and accepted.json["state"] == "cancelled"


def test_bearer_calls_need_no_csrf_token(client, make_user):
    user, token = make_user("bob")
    video_id = add_video(user)
    response = client.delete(f"/api/videos/{video_id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204


def test_a_user_sees_only_their_own_videos(client, alice, make_user):
    bob = make_user("bob")[0]
    theirs = add_video(bob, title="Bob's secret")
    log_in(client)
    assert "Bob&#39;s secret" not in client.get("/videos").get_data(as_text=True)
    page = client.get(f"/videos/{theirs}")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Bob" not in page.get_data(as_text=True)
    assert client.get(f"/api/videos/{theirs}").status_code == 404
    assert client.get(f"/api/videos/{theirs}/events").status_code == 404


def test_user_text_is_escaped_on_every_page(client, alice):
    video_id = add_video(alice, title=XSS, filename=f"{XSS}.mp4", state="failed", error="bad file")
    log_in(client)
    for path in ("/videos", f"/videos/{video_id}"):
        page = client.get(path).get_data(as_text=True)
        assert XSS not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_pages_allow_only_their_own_scripts(client, alice):
    log_in(client)
    for path in ("/videos", "/upload", "/login"):
        response = client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "<script>" not in response.get_data(as_text=True)  # every script is a file
    assert client.get("/videos").headers["Cache-Control"] == "no-store"


def test_the_video_page_lets_the_player_use_media_source_and_nothing_else(client, alice):
    video_id = add_video(alice, state="processing")
    log_in(client)
    header = client.get(f"/videos/{video_id}").headers["Content-Security-Policy"]
    policy = dict(part.strip().split(" ", 1) for part in header.split(";"))
    assert policy["media-src"] == "* blob:", "hls.js plays through a MediaSource's blob: URL"
    assert policy["script-src"] == "'self'" and "worker-src" not in policy  # hls.js runs without a worker
    assert policy["connect-src"] == "'self'", "local storage: segments come from the site"


def test_errors_are_pages_for_pages_and_json_for_the_api(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    api = client.get("/api/no-such-thing")
    assert api.status_code == 404 and api.json["error"]


def test_the_video_page_hands_the_player_its_renditions(client, alice):
    video_id = add_video(alice, state="ready", status=1.0, poster_key="videos/x/poster.jpg")
    db.session.add(Rendition(video_id=video_id, name="240p", width=426, height=240, size=1000, key="videos/x/240p.mp4"))
    db.session.commit()
    log_in(client)
    page = client.get(f"/videos/{video_id}").get_data(as_text=True)
    assert '"name": "240p"' in page and "/media/" in page
    assert 'data-action="delete"' in page
