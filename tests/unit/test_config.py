"""Settings: database URLs as add-ons hand them out, and the rendition ladder setting."""

from __future__ import annotations

import pytest

from app.config import database_url, parse_renditions


def test_postgres_urls_from_add_ons_are_accepted():
    assert database_url("postgres://u:p@h:5432/d", "/x") == "postgresql+psycopg://u:p@h:5432/d"
    assert database_url("postgresql://u@h/d", "/x") == "postgresql+psycopg://u@h/d"
    assert database_url(None, "/inst") == "sqlite:////inst/conveyor.db"


@pytest.mark.parametrize(("raw", "heights"), [("360,720,1080", [360, 720, 1080]), ("1080p, 360p", [360, 1080])])
def test_renditions_setting(raw, heights):
    assert parse_renditions(raw) == heights


@pytest.mark.parametrize("raw", ["", "abc", "0", "99999", ","])
def test_bad_renditions_setting_is_refused(raw):
    with pytest.raises(RuntimeError, match="RENDITIONS"):
        parse_renditions(raw)


def test_instance_files_are_made_owner_only(tmp_path, monkeypatch):
    import stat

    import fakeredis
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    instance = tmp_path / "instance"
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"TESTING": True, "REDIS_CONNECTION": fakeredis.FakeRedis(),
                      "STORAGE_URL": f"file://{tmp_path / 'storage'}"})
    with app.app_context():
        upgrade()
        db.session.remove()
    mode = {path.name: stat.S_IMODE(path.stat().st_mode) for path in [instance, *instance.iterdir()]}
    assert mode["instance"] == 0o700
    assert mode["conveyor.db"] == 0o600 and mode["secret_key"] == 0o600
