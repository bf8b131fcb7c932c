"""Page logins kept on the server: logout, a new password or an admin ends them for good; they expire."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.cli.users import users
from app.domain.models import UserSession, utcnow
from app.extensions import db
from tests.unit.test_account_page import NEW, change
from tests.unit.test_pages import csrf_token, log_in


@pytest.fixture
def alice(make_user):
    return make_user("alice")[0]


def logged_in_client(app):
    client = app.test_client()
    with app.app_context():  # Flask-Login keeps who logged in last in the context's `g`
        assert log_in(client).status_code == 302
    return client


def copy_of(app, client):
    """Another browser, anywhere, holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def can_read(client) -> bool:
    with client.application.app_context():  # a request of its own, as another process would make
        pages = client.get("/videos").status_code == 200
        api = client.get("/api/videos").status_code == 200
    assert pages == api, "pages and session API calls agree"
    return pages


def test_logout_ends_the_session_for_every_copy_of_its_cookie(app, alice):
    browser = logged_in_client(app)
    thief = copy_of(app, browser)
    thief.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert can_read(thief)
    with app.app_context():
        browser.post("/logout", data={"csrf_token": csrf_token(browser, "/videos")})
    assert not can_read(browser)
    assert not can_read(thief), "the copied cookie stopped working at once"
    assert db.session.scalar(db.select(UserSession)).revoked_at is not None


def test_a_new_password_ends_the_other_sessions_but_not_this_one(app, alice):
    here, elsewhere = logged_in_client(app), logged_in_client(app)
    with app.app_context():
        assert change(here).status_code == 303
        assert "You are logged out everywhere else." in here.get("/account").get_data(as_text=True)
    assert can_read(here)
    assert not can_read(elsewhere)
    fresh = app.test_client()
    with app.app_context():
        assert log_in(fresh, password=NEW).status_code == 302
    assert can_read(fresh)


def test_the_password_command_ends_every_session(app, alice):
    browser = logged_in_client(app)
    result = app.test_cli_runner().invoke(users, ["password", "alice", "--password", NEW])
    assert result.exit_code == 0, result.output
    assert "every page login of alice has ended" in result.output
    assert not can_read(browser)


def test_an_admin_lists_and_ends_a_users_sessions(app, alice):
    runner = app.test_cli_runner()
    assert "alice is not logged in anywhere" in runner.invoke(users, ["sessions", "alice"]).output
    first, second = logged_in_client(app), logged_in_client(app)
    listing = runner.invoke(users, ["sessions", "alice"]).output
    assert listing.splitlines()[0] == "started\tlast seen\tfrom" and listing.count("127.0.0.1") == 2
    result = runner.invoke(users, ["sessions", "alice", "--revoke"])
    assert result.exit_code == 0 and "2 sessions of alice ended" in result.output
    assert not can_read(first) and not can_read(second)
    assert "no user 'nobody'" in runner.invoke(users, ["sessions", "nobody"]).output


@pytest.mark.parametrize(("column", "setting", "unit"), [
    ("last_seen_at", "SESSION_IDLE_MINUTES", "minutes"),
    ("created_at", "SESSION_MAX_HOURS", "hours"),
])
def test_sessions_expire_when_idle_and_at_their_lifetime(app, alice, column, setting, unit):
    browser = logged_in_client(app)
    limit = timedelta(**{unit: app.config[setting]})

    def age(by: timedelta) -> None:
        record = db.session.scalar(db.select(UserSession))
        setattr(record, column, utcnow() - by)
        db.session.commit()

    age(limit - timedelta(minutes=2))
    assert can_read(browser)
    age(limit + timedelta(minutes=1))
    assert not can_read(browser)
    assert browser.get("/videos").headers["Location"].startswith("/login")


def test_use_keeps_a_session_alive_and_the_cookie_expires_with_its_lifetime(app, alice):
    browser = logged_in_client(app)
    record = db.session.scalar(db.select(UserSession))
    record.last_seen_at -= timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1)
    db.session.commit()
    assert can_read(browser)
    db.session.expire_all()
    assert db.session.scalar(db.select(UserSession)).last_seen_at > record.created_at - timedelta(seconds=1)
    assert app.permanent_session_lifetime == timedelta(hours=app.config["SESSION_MAX_HOURS"])


def test_only_a_hash_of_the_session_key_is_stored(app, alice):
    browser = logged_in_client(app)
    data = app.session_interface.get_signing_serializer(app).loads(browser.get_cookie("session").value)
    record = db.session.scalar(db.select(UserSession))
    assert data["sid"] not in record.key_hash and len(record.key_hash) == 64


def test_a_session_of_someone_else_does_not_open_this_account(app, alice, make_user):
    make_user("bob")
    browser = logged_in_client(app)
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(browser.get_cookie("session").value)
    forged = app.test_client()
    forged.set_cookie("session", serializer.dumps({**data, "_user_id": "2"}))
    assert not can_read(forged), "alice's session key does not open bob's account"
