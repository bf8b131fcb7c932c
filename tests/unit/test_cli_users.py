"""`flask --app app users create|password|token|list|admin`, and what `make run` prints once the admin's
credentials were changed."""

from __future__ import annotations

import importlib.util
import stat
from datetime import datetime
from pathlib import Path

import pytest

from app.domain.models import Video
from app.extensions import db
from tests.unit.test_pages import csrf_token, log_in

ROOT = Path(__file__).resolve().parents[2]


def users(app, *args: str, input: str | None = None):  # noqa: A002  (click's name for it)
    result = app.test_cli_runner().invoke(args=["users", *args], input=input)
    db.session.expire_all()  # the command committed from a session of its own
    return result


# Each in an app context of its own, as another process would be: requests made inside the
# test's context share its `g`, where Flask-Login keeps whoever logged in last.
def api_status(app, token: str) -> int:
    with app.app_context():
        return app.test_client().get("/api/videos", headers={"Authorization": f"Bearer {token}"}).status_code


def can_log_in(app, name: str, password: str) -> bool:
    with app.app_context():
        return log_in(app.test_client(), name=name, password=password).status_code == 302


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def test_a_new_password_logs_in_and_the_old_one_no_longer_does(app, alice):
    result = users(app, "password", "alice", "--password", "correct horse 9")
    assert result.exit_code == 0, result.output
    assert "password of alice changed" in result.output and "correct horse" not in result.output
    assert can_log_in(app, "alice", "correct horse 9")
    assert not can_log_in(app, "alice", "password1")


def test_the_new_password_is_asked_twice_and_not_shown(app, alice):
    result = users(app, "password", "alice", input="correct horse 9\ncorrect horse 9\n")
    assert result.exit_code == 0, result.output
    assert "New password" in result.output and "Repeat" in result.output
    assert "correct horse" not in result.output
    assert can_log_in(app, "alice", "correct horse 9")


def test_two_different_answers_change_nothing(app, alice):
    result = users(app, "password", "alice", input="correct horse 9\ncorrect horse 8\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert can_log_in(app, "alice", "password1")


@pytest.mark.parametrize(("password", "words"), [("short", "at least 8 characters"), (" " * 9, "only spaces")])
def test_a_password_that_could_not_log_in_is_refused(app, alice, password, words):
    result = users(app, "password", "alice", "--password", password)
    assert result.exit_code == 2
    assert "--password" in result.output and words in result.output
    assert can_log_in(app, "alice", "password1")


def test_a_new_token_works_at_once_and_the_old_one_stops(app, alice):
    old = alice[1]
    assert api_status(app, old) == 200
    result = users(app, "token", "alice")
    assert result.exit_code == 0, result.output
    new = result.output.splitlines()[-1]
    assert new != old
    assert api_status(app, old) == 401
    assert api_status(app, new) == 200


def test_the_list_shows_every_user(app, alice, make_user):
    user = alice[0]
    user.email = "alice@example.com"
    db.session.add(Video(user_id=user.id, title="Clip", filename="clip.mp4"))
    db.session.add(Video(user_id=user.id, title="Clip 2", filename="clip2.mp4"))
    db.session.commit()
    make_user("bob", admin=True)
    result = users(app, "list")
    assert result.exit_code == 0, result.output
    header, *rows = [line.split("\t") for line in result.output.splitlines()]
    assert header == ["name", "admin", "email", "created", "videos"]
    created = [datetime.fromisoformat(row.pop(3)) for row in rows]
    assert rows == [["alice", "no", "alice@example.com", "2"], ["bob", "yes", "", "0"]]
    assert created[0] <= created[1]


def test_the_list_says_when_there_is_nobody(app):
    result = users(app, "list")
    assert result.exit_code == 0 and "no users yet" in result.output


def test_admin_on_and_off(app, alice, make_user):
    make_user("root", admin=True)
    client = app.test_client()
    log_in(client)
    assert client.get("/review").status_code == 403

    result = users(app, "admin", "alice", "--on")
    assert result.exit_code == 0 and "alice is an admin now" in result.output
    assert client.get("/review").status_code == 200
    assert "alice is an admin already" in users(app, "admin", "alice", "--on").output

    result = users(app, "admin", "alice", "--off")
    assert result.exit_code == 0 and "alice is a plain user now" in result.output
    assert client.get("/review").status_code == 403


def test_the_last_admin_is_not_removed(app, alice, make_user):
    make_user("root", admin=True)
    result = users(app, "admin", "root", "--off")
    assert result.exit_code == 1
    assert "root is the last admin" in result.output and "users admin NAME --on" in result.output
    assert "root\tyes" in users(app, "list").output
    users(app, "admin", "alice", "--on")
    assert users(app, "admin", "root", "--off").exit_code == 0, "with another admin it may go"


def test_admin_needs_on_or_off(app, alice):
    result = users(app, "admin", "alice")
    assert result.exit_code == 2 and "--on" in result.output and "--off" in result.output


@pytest.mark.parametrize(
    "args", [("password", "nobody", "--password", "long enough 1"), ("token", "nobody"), ("admin", "nobody", "--on")]
)
def test_an_unknown_user_is_named(app, alice, args):
    result = users(app, *args)
    assert result.exit_code == 1
    assert "no user 'nobody'" in result.output and "users list" in result.output


def load_run():
    spec = importlib.util.spec_from_file_location("conveyor_bin_run", ROOT / "bin" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def saved_fields(path: Path) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in path.read_text().splitlines())


def test_make_run_shows_the_first_admin_credentials_while_they_work(app, tmp_path):
    run = load_run()
    first = run.first_admin(tmp_path)
    saved = tmp_path / "admin-credentials.txt"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    fields = saved_fields(saved)
    assert fields["password"] in first and fields["API token"] in first
    assert can_log_in(app, "admin", fields["password"]) and api_status(app, fields["API token"]) == 200
    db.session.expire_all()  # every `make run` is a new process
    assert fields["password"] in run.first_admin(tmp_path)


@pytest.mark.parametrize(
    "change", [("password", "admin", "--password", "chosen by me 1"), ("token", "admin")], ids=["password", "token"]
)
def test_make_run_stops_showing_credentials_once_changed(app, tmp_path, change):
    run = load_run()
    run.first_admin(tmp_path)
    saved = tmp_path / "admin-credentials.txt"
    old = saved_fields(saved)
    assert users(app, *change).exit_code == 0
    shown = run.first_admin(tmp_path)
    assert not saved.exists()
    assert old["password"] not in shown and old["API token"] not in shown
    assert "changed" in shown and ".venv/bin/flask --app app users password admin" in shown
    assert len(shown.splitlines()) == 1
    assert "Users exist already" in run.first_admin(tmp_path), "said once; later runs are quiet about it"


def test_the_page_password_change_counts_too(app, tmp_path):
    run = load_run()
    run.first_admin(tmp_path)
    saved = tmp_path / "admin-credentials.txt"
    password = saved_fields(saved)["password"]
    client = app.test_client()
    log_in(client, name="admin", password=password)
    data = {"current_password": password, "new_password": "chosen by me 1", "repeat": "chosen by me 1"}
    response = client.post("/account/password", data={**data, "csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 303
    db.session.expire_all()
    assert "users password admin" in run.first_admin(tmp_path) and not saved.exists()


@pytest.mark.parametrize(("flag", "evened"), [(["--normalize-loudness"], True), ([], False)])
def test_convert_asks_for_even_loudness_when_told(app, alice, clips, flag, evened):
    clip = clips("cli-loudness", seconds=1, width=64, height=36)
    result = app.test_cli_runner().invoke(args=["videos", "convert", str(clip), "--user", "alice", *flag])
    assert result.exit_code == 0, result.output
    video_id = result.output.split()[-1]
    db.session.expire_all()
    assert db.session.get(Video, video_id).normalize_loudness is evened


@pytest.mark.parametrize("email", ["Eve <eve@example.com>", "<eve@example.com>", "eve@exa_mple.com", "not an address"])
def test_create_takes_only_the_addresses_the_account_page_takes(app, email):
    result = users(app, "create", "eve", "--password", "correct horse 9", "--email", email)
    assert result.exit_code == 2 and "not an e-mail address" in result.output
    assert users(app, "list").output.count("\n") == 1  # the header alone: nobody was made


def test_create_keeps_a_plain_address_trimmed(app):
    result = users(app, "create", "eve", "--password", "correct horse 9", "--email", " eve@example.com ")
    assert result.exit_code == 0, result.output
    assert "\teve@example.com\t" in users(app, "list").output
