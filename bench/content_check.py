"""Content check cost: the conversion job of one clip with CONTENT_CHECK on and off.

The job runs in this process (SQLite, fakeredis, local storage) exactly as a worker runs it:
probe, one ffmpeg for every rendition and the poster (and, with the check, the sampled gray
frames from the same decode), hashing and matching, publishing. The blocklist holds the hash of
a real picture and BLOCKLIST_SIZE random ones, so matching does real work. Runs alternate (off,
on, off, ...) so drift in the machine's load hits both; the figure is the median over pairs.

On a busy machine the whole-job difference is smaller than the noise, so the check's own work is
measured too: the Python part (load the list, hash, match) timed inside the job, and the ffmpeg
branch as the CPU of one decode feeding AMPLIFY copies of it, minus the decode alone, over AMPLIFY.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import time
from pathlib import Path

import fakeredis
import numpy as np
from flask_migrate import upgrade

from app import create_app
from app.domain import content
from app.domain.models import BlocklistEntry, BlocklistHash, User, Video
from app.extensions import db
from app.platform.storage import get_storage
from bench.common import Figure, clip, log, main, median, scratch
from jobs.convert import convert_video
from media import fingerprint
from media.binaries import find
from tests.blocked import make_picture

BLOCKLIST_SIZE = 10_000
GOAL = 0.10


def settings(quick: bool) -> dict:
    return {"seconds": 10 if quick else 30, "repeats": 2 if quick else 3, "decodes": 3 if quick else 5}


AMPLIFY = 20  # copies of the sampling branch in one decode: their cost stands out of the noise


def decode_cpu(source: Path, folder: Path, copies: int) -> float:
    """CPU seconds of ffmpeg decoding the source once and running `copies` sampling branches on it."""
    args = [find("ffmpeg"), "-nostdin", "-y", "-loglevel", "error", "-i", str(source)]
    if copies:
        labels = "".join(f"[s{i}]" for i in range(copies))
        branch = fingerprint.filter_string(shrink=True)  # the frames; the size is noted from one frame only
        graph = [f"[0:v]split={copies}{labels}"] + [f"[s{i}]{branch}[o{i}]" for i in range(copies)]
        args += ["-filter_complex", ";".join(graph)]
        for i in range(copies):
            args += ["-map", f"[o{i}]", "-f", "rawvideo", str(folder / f"frames-{i}.gray")]
    else:
        args += ["-map", "0:v", "-f", "null", "-"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(args, check=True, preexec_fn=lambda: os.nice(10))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def branch_cpu(source: Path, folder: Path, repeats: int) -> float:
    """CPU one sampling branch adds to ffmpeg: (decode + AMPLIFY branches - decode alone) / AMPLIFY."""
    added = []
    for _ in range(repeats):
        plain = decode_cpu(source, folder, 0)
        added.append((decode_cpu(source, folder, AMPLIFY) - plain) / AMPLIFY)
    return max(0.0, median(added))


def make_app(folder: Path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
            "STORAGE_URL": f"file://{folder / 'storage'}",
            "REDIS_CONNECTION": fakeredis.FakeRedis(),
            "JOB_RETRIES": 0,
        }
    )
    with app.app_context():
        upgrade()
    return app


def fill_blocklist(picture: Path) -> None:
    rng = np.random.default_rng(8)
    rows = [fingerprint.hash_media(picture).hex(0)]
    rows += [rng.bytes(32).hex() for _ in range(BLOCKLIST_SIZE)]
    db.session.add_all(BlocklistEntry(source="bench", hashes=[BlocklistHash(hash=h)]) for h in rows)
    db.session.commit()


def convert_once(source: Path, user_id: int, check: bool) -> tuple[float, float]:
    """Wall and CPU seconds (this process and its ffmpeg) of one conversion job."""
    from flask import current_app

    current_app.config["CONTENT_CHECK"] = check
    video = Video(user_id=user_id, title="bench", filename=source.name)
    db.session.add(video)
    db.session.commit()
    get_storage().put_file(video.source_key, source)
    before = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    started = time.monotonic()
    convert_video(video.id)
    wall = time.monotonic() - started
    after = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum((a.ru_utime - b.ru_utime) + (a.ru_stime - b.ru_stime) for a, b in zip(after, before, strict=True))
    db.session.expire_all()
    state = db.session.get(Video, video.id).state
    if state != "ready":
        raise RuntimeError(f"the bench clip ended {state}")
    get_storage().delete_prefix(video.prefix)
    return wall, cpu


class TimedScreening:
    """content.Screening with its Python work timed (the list loaded, then the frames hashed and matched
    as they come), summed over one job: what `taken()` hands back and resets."""

    def __init__(self):
        self.spent = 0.0
        self.original = (content.Screening.__init__, content.Screening.advance)

    def timed(self, method):
        def wrapper(*args, **kwargs):
            started = time.monotonic()
            try:
                return method(*args, **kwargs)
            finally:
                self.spent += time.monotonic() - started

        return wrapper

    def __enter__(self) -> TimedScreening:
        init, advance = self.original
        content.Screening.__init__, content.Screening.advance = self.timed(init), self.timed(advance)
        return self

    def __exit__(self, *exc) -> None:
        content.Screening.__init__, content.Screening.advance = self.original

    def taken(self) -> float:
        spent, self.spent = self.spent, 0.0
        return spent


def run(quick: bool) -> list[Figure]:
    options = settings(quick)
    folder = scratch() / "content-check"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    source = clip(options["seconds"], 1920, 1080)
    app = make_app(folder)
    samples: dict[str, list[float]] = {"off": [], "on": [], "off_cpu": [], "on_cpu": [], "python": []}
    with app.app_context():
        fill_blocklist(make_picture(folder / "picture.png"))
        user = User(username="bench")
        user.set_password("bench-password")
        user.new_token()
        db.session.add(user)
        db.session.commit()
        with TimedScreening() as python:
            try:
                convert_once(source, user.id, False)  # warm-up: imports, caches, the disk
                for index in range(options["repeats"]):
                    for mode in ("off", "on") if index % 2 == 0 else ("on", "off"):
                        wall, cpu = convert_once(source, user.id, mode == "on")
                        samples[mode].append(wall)
                        samples[f"{mode}_cpu"].append(cpu)
                        if mode == "on":
                            samples["python"].append(python.taken())
                        log(f"check {mode}: {wall:.2f} s wall, {cpu:.2f} s CPU")
            finally:
                db.session.remove()
    branch = branch_cpu(source, folder, options["decodes"])
    log(f"the sampling branch adds {branch:.3f} s of ffmpeg CPU")
    off, on = median(samples["off"]), median(samples["on"])
    # each run is paired with the one beside it, so that the machine's drift cancels out
    added = median([b / a - 1 for a, b in zip(samples["off"], samples["on"], strict=True)])
    added_cpu = median([b / a - 1 for a, b in zip(samples["off_cpu"], samples["on_cpu"], strict=True)])
    own = (branch + median(samples["python"])) / median(samples["off_cpu"])
    name = f"{options['seconds']} s 1080p30, 360/720/1080p, {BLOCKLIST_SIZE + 1} hashes listed"
    return [
        Figure("content_check", "conversion job, check on", on, "s", off, "check off", samples=samples["on"],
               note=name),
        Figure("content_check", "time added by the check", added * 100, "%", goal=f"< {GOAL:.0%}",
               met=added < GOAL, note="median over pairs of runs of (on / off - 1), wall time"),
        Figure("content_check", "CPU added by the check", added_cpu * 100, "%",
               note="ffmpeg and Python, user + system"),
        Figure("content_check", "hash + match in Python", median(samples["python"]), "s",
               note=f"{options['seconds'] * fingerprint.FRAMES_PER_SECOND} frames, mirrored too"),
        Figure("content_check", "sampling branch in ffmpeg", branch, "s",
               note=f"CPU: decode + {AMPLIFY} branches minus decode alone, over {AMPLIFY}"),
        Figure("content_check", "check's own work / job CPU", own * 100, "%", goal=f"< {GOAL:.0%}", met=own < GOAL,
               note="the two lines above, over the job's CPU with the check off"),
    ]


if __name__ == "__main__":
    main(run)
