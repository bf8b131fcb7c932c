"""What a platform reads from the repository: app.json for a one-click deploy, the Procfile."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema

from app.config import from_environment

ROOT = Path(__file__).resolve().parents[2]
APP_JSON = json.loads((ROOT / "app.json").read_text())


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {kind.strip(): command.strip() for kind, _, command in (line.partition(":") for line in lines) if command}


def test_app_json_validates_against_herokus_schema():
    schema = json.loads((ROOT / "tests" / "schemas" / "heroku-app-json.schema.json").read_text())
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(APP_JSON)


def test_migrations_run_once_in_the_release_phase():
    assert "db upgrade" in procfile()["release"]
    assert not any("db upgrade" in script for script in APP_JSON.get("scripts", {}).values())


def test_every_process_type_has_a_dyno_size_and_redis_never_evicts():
    assert set(APP_JSON["formation"]) == set(procfile()) - {"release"}
    assert all(entry.get("size") for entry in APP_JSON["formation"].values())
    redis = next(addon for addon in APP_JSON["addons"] if isinstance(addon, dict) and addon["plan"] == "heroku-redis")
    assert redis["options"]["maxmemory_policy"] == "noeviction"


def test_the_worker_dyno_holds_what_ffmpeg_is_allowed(tmp_path, monkeypatch):
    """A standard-2x has 1 GB: the ffmpeg cap and picture limits app.json sets are ones Conveyor reads."""
    env = APP_JSON["env"]
    assert APP_JSON["formation"]["worker"]["size"] == "standard-2x"
    for name in ("FFMPEG_MEMORY_MB", "MAX_WIDTH", "MAX_HEIGHT", "MAX_PIXELS", "WORKER_PROCESSES"):
        monkeypatch.setenv(name, env[name]["value"])
    settings = from_environment(str(tmp_path))
    assert settings["MAX_WIDTH"] * settings["MAX_HEIGHT"] <= settings["MAX_PIXELS"] <= 3840 * 2160
    assert settings["FFMPEG_MEMORY_MB"] >= 2560  # a 4K ladder measured 2.3 GB of address space


def test_every_variable_app_json_sets_is_documented():
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    for name in APP_JSON["env"]:
        assert re.search(rf"`{name}`", readme), f"{name} is not in the README's configuration"
        assert re.search(rf"^# ?{name}=", example, re.MULTILINE), f"{name} is not in .env.example"
