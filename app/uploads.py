"""Receiving uploads: file parts are streamed to a staging file beside storage, never held in memory.

What is then checked, and how a video is made of it, is `app.domain.ingest`.
"""

from __future__ import annotations

import io
import os
from typing import IO

from flask import Flask, Request, current_app

READ_BUFFER = 1 << 20  # the form parser reads 64 KiB at a time; the server's body reader is slow at that size


class _Body(io.RawIOBase):
    """The server's request body as a raw stream, so that a BufferedReader can read it in large pieces."""

    def __init__(self, source: IO[bytes]):
        self.source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class UploadRequest(Request):
    """Sends file parts straight into the storage's staging folder, not into memory."""

    def __init__(self, environ, *args, **kwargs) -> None:
        if environ.get("CONTENT_TYPE", "").startswith("multipart/form-data") and "wsgi.input" in environ:
            environ["wsgi.input"] = io.BufferedReader(_Body(environ["wsgi.input"]), READ_BUFFER)
        super().__init__(environ, *args, **kwargs)

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None) -> IO[bytes]:
        staged = current_app.extensions["storage"].staging_file()
        self.__dict__.setdefault("_staged", []).append(staged)
        return staged

    def close(self) -> None:
        """At the end of the request: close staged files and remove those not saved under a key."""
        super().close()
        for staged in self.__dict__.pop("_staged", []):
            staged.close()
            try:
                os.unlink(staged.name)
            except FileNotFoundError:
                pass  # it was moved under its key


def init_app(app: Flask) -> None:
    from app import ratelimit  # after the queue: the limits are counted in its Redis

    app.request_class = UploadRequest
    ratelimit.init_app(app)
