"""Where the time goes, for the figures the other benchmarks print: measured, never changed here.

- The work horse: RQ forks one per job; what the job imports that the worker process did not,
  every horse imports again.
- `GET /api/videos/<id>`: the app in this process on the stack's own database and Redis, timed
  whole and by part (SQL statements, the ORM loads, signing download links), plus a cProfile.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager

from bench.common import Figure, clip, log, main
from bench.harness import Running

REPEATS = 300


def settings(quick: bool) -> dict:
    return {"repeats": 100 if quick else REPEATS, "imports": 3 if quick else 7}


IMPORT_PROBE = """
import sys, time
from app import create_app
import app.workers.runtime
create_app()
started = time.perf_counter()
import jobs.convert
print(time.perf_counter() - started)
"""


def horse_imports(env: dict, times: int) -> float:
    """Seconds to import jobs.convert in a process set up as worker.py sets itself up (median)."""
    found = []
    for _ in range(times):
        done = subprocess.run([sys.executable, "-c", IMPORT_PROBE], env=env, capture_output=True, text=True,
                              timeout=60, check=True)
        found.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(found)


def per_call(action: Callable[[], object], repeats: int, after: Callable[[], object] = lambda: None) -> float:
    """Median seconds of one call; `after` runs untimed between calls (e.g. end the session)."""
    found = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        found.append(time.perf_counter() - started)
        after()
    return statistics.median(found)


@contextmanager
def environment(values: dict):
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def statements(engine, action: Callable[[], object]) -> list[str]:
    """The SQL statements one call runs."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split())[:90])

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def api_parts(stack: Running, video_id: str, repeats: int) -> dict:
    """Time GET /api/videos/<id> and its parts in this process."""
    keys = ("INSTANCE_PATH", "DATABASE_URL", "STORAGE_URL", "REDIS_URL", "SECRET_KEY", "RENDITIONS", "PUBLIC_URL")
    with environment({k: v for k, v in stack.stack.env.items() if k in keys}):
        from itsdangerous import URLSafeTimedSerializer

        from app import create_app
        from app.domain.models import User, Video
        from app.domain.presenters import video_json
        from app.extensions import db
        from app.platform.links import media_url

        app = create_app()
        client = app.test_client()
        auth = {"Authorization": f"Bearer {stack.token}"}
        path = f"/api/videos/{video_id}"
        found = {
            "get": per_call(lambda: client.get(path, headers=auth), repeats),
            "healthz": per_call(lambda: client.get("/healthz"), repeats),
        }
        with app.test_request_context(path):
            end = db.session.remove
            found["by_token"] = per_call(lambda: User.by_token(stack.token), repeats, end)
            found["get_video"] = per_call(lambda: db.session.get(Video, video_id), repeats, end)

            def present() -> None:
                video_json(db.session.get(Video, video_id))

            found["present"] = per_call(present, repeats, end) - found["get_video"]
            video = db.session.get(Video, video_id)
            key = video.renditions[0].key
            found["sign"] = per_call(lambda: media_url(key), repeats)
            signer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="conveyor.media")
            found["sign_reused"] = per_call(lambda: signer.dumps(key), repeats)
            found["urls"] = len(video.renditions) + (1 if video.poster_key else 0)
            end()
            found["sql"] = statements(db.engine, lambda: client.get(path, headers=auth))
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(repeats):
            client.get(path, headers=auth)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(r"/(app|jobs)/", 14)
        found["profile"] = out.getvalue()
    return found


def run(quick: bool) -> list[Figure]:
    cfg = settings(quick)
    with Running(workers=1) as stack:
        video_id = stack.upload(clip(2, 1280, 720, 30), title="hotspots")["id"]
        if stack.stack.wait_final(stack.session, video_id, timeout=120)["state"] != "ready":
            raise RuntimeError("the hotspots clip did not convert")
        stack.scale(0)
        imports = horse_imports(stack.stack.env, cfg["imports"])
        parts = api_parts(stack, video_id, cfg["repeats"])
    log(f"SQL statements of one GET /api/videos/<id> ({len(parts['sql'])}):")
    for statement in parts["sql"]:
        log(f"    {statement}")
    log(f"cProfile of {cfg['repeats']} GET /api/videos/<id>, Conveyor's own functions by cumulative time:")
    for line in parts["profile"].strip().splitlines()[-15:]:
        log("    " + line.strip()[:150])
    ms = 1000
    figures = [
        Figure("hotspots", "importing jobs.convert", ms * imports, "ms",
               note="once per worker process: run_one imports it before forking work horses"),
        Figure("hotspots", "GET ready video, in process", ms * parts["get"], "ms", ms * parts["healthz"],
               "/healthz in process"),
        Figure("hotspots", "  SQL statements a GET runs", len(parts["sql"]), ""),
        Figure("hotspots", "  user by token", ms * parts["by_token"], "ms"),
        Figure("hotspots", "  load the video", ms * parts["get_video"], "ms"),
        Figure("hotspots", "  video_json (renditions, signed links)", ms * parts["present"], "ms"),
        Figure("hotspots", "  sign one download link (media_url)", ms * parts["sign"], "ms",
               note=f"{parts['urls']} links a ready video"),
        Figure("hotspots", "  sign one link with a serializer made once", ms * parts["sign_reused"], "ms",
               ms * parts["sign"], "media_url"),
    ]
    return figures


if __name__ == "__main__":
    main(run)
