"""gunicorn's access log, without credentials: a signed link's token is a key while it is valid
(a download's `/media/<token>`, a stream's `/stream/<token>/...`)."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

SIGNED_LINK = re.compile(r"/(media|stream)/[^/?#\s]+")


class AccessLogger(Logger):
    """Writes `/media/<signed>` and `/stream/<signed>/...` for every signed link in a request line,
    path or referrer."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = SIGNED_LINK.sub(r"/\1/<signed>", atoms[key])
        return atoms
