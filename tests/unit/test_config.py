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
