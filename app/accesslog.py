"""gunicorn's access log, without credentials: a download link's signed part is a key while it is valid."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

SIGNED_LINK = re.compile(r"/media/[^/?#\s]+")


class AccessLogger(Logger):
    """Writes `/media/<signed>` for every download link in a request line, path or referrer."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = SIGNED_LINK.sub("/media/<signed>", atoms[key])
        return atoms
