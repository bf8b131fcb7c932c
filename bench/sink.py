"""Web apps for the upload benchmark's baselines and what-ifs, served by gunicorn as the Procfile does.

- `app`: reads a request body and throws it away: what receiving an upload costs gunicorn alone.
- `buffered_app()`: Conveyor's app with `wsgi.input` read from gunicorn in 1 MiB pieces (the
  multipart parser asks for 64 KiB at a time): measures a change without making it.
"""

from __future__ import annotations

import io
import json

READ = 1024 * 1024


def app(environ, start_response):
    stream, total = environ["wsgi.input"], 0
    while chunk := stream.read(READ):
        total += len(chunk)
    start_response("202 Accepted", [("Content-Type", "application/json")])
    return [json.dumps({"id": "sink", "bytes": total}).encode()]


class _Raw(io.RawIOBase):
    def __init__(self, body):
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def buffered(wsgi_app):
    def middleware(environ, start_response):
        environ["wsgi.input"] = io.BufferedReader(_Raw(environ["wsgi.input"]), READ)
        return wsgi_app(environ, start_response)

    return middleware


def buffered_app():
    from app import create_app

    flask_app = create_app()
    flask_app.wsgi_app = buffered(flask_app.wsgi_app)
    return flask_app
