"""Web apps for the upload benchmark's baselines, served by gunicorn as the Procfile does.

- `app`: reads a request body and throws it away: what receiving an upload costs gunicorn alone.
- `unbuffered_app()`: Conveyor's app reading `wsgi.input` 64 KiB at a time, as the multipart
  parser asks for it (before `UploadRequest` put a 1 MiB buffer in between): what the buffer gains.
"""

from __future__ import annotations

import json

READ = 1024 * 1024


def app(environ, start_response):
    stream, total = environ["wsgi.input"], 0
    while chunk := stream.read(READ):
        total += len(chunk)
    start_response("202 Accepted", [("Content-Type", "application/json")])
    return [json.dumps({"id": "sink", "bytes": total}).encode()]


def unbuffered_app():
    """Conveyor's app as it was before `UploadRequest` read the body through a 1 MiB buffer."""
    from app import create_app
    from app.uploads import UploadRequest

    class Unbuffered(UploadRequest):
        def __init__(self, environ, *args, **kwargs) -> None:
            super(UploadRequest, self).__init__(environ, *args, **kwargs)  # skips the buffer

    flask_app = create_app()
    flask_app.request_class = Unbuffered
    return flask_app
