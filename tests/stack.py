"""The whole service as users run it: gunicorn from gunicorn.conf.py and `python worker.py` processes."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
FINAL = {"ready", "failed", "rejected", "cancelled"}
MARK = "CONVEYOR_TEST_STACK"


class Stack:
    def __init__(self, workdir: Path, redis_url: str, port: int, root: Path = ROOT, **settings: str):
        self.root = root  # the tree whose code runs: this one, or another (a benchmark's baseline)
        self.workdir = workdir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.instance = workdir / "instance"
        self.instance.mkdir(parents=True, exist_ok=True)
        self.storage = workdir / "storage"
        self.env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "INSTANCE_PATH": str(self.instance),
            "DATABASE_URL": f"sqlite:///{self.instance / 'conveyor.db'}",
            "STORAGE_URL": f"file://{self.storage}",
            "REDIS_URL": redis_url,
            "SECRET_KEY": "integration-secret",
            "PORT": str(port),
            "WEB_CONCURRENCY": "1",
            "X264_PRESET": "ultrafast",
            "RENDITIONS": "144,240,360",
            "JOB_RETRIES": "2",
            "UPLOAD_RATE_LIMIT": "100000/hour",  # tests and benchmarks upload a lot; the limit has tests of its own
            MARK: str(workdir),  # every process of this stack carries it: `stop` finds any that outlive it
            **settings,
        }
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    def flask(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=self.root, env=self.env, capture_output=True, text=True, timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done.stdout

    def migrate(self) -> None:
        self.flask("db", "upgrade")

    def create_user(self, name: str, admin: bool = False, email: str | None = None) -> requests.Session:
        args = ["users", "create", name, "--password", "password123"]
        args += ["--admin"] if admin else []
        args += ["--email", email] if email else []
        token = self.flask(*args).strip().splitlines()[-1]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        session.token = token  # type: ignore[attr-defined]
        return session

    def log_in(self, name: str, password: str = "password123") -> requests.Session:  # noqa: S107
        """A browser's session on the pages, logged in through the login form with its CSRF token."""
        session = requests.Session()
        page = session.get(f"{self.url}/login", timeout=10).text
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        response = session.post(
            f"{self.url}/login", data={"username": name, "password": password, "csrf_token": token},
            headers={"Referer": f"{self.url}/login"}, timeout=10,
        )
        response.raise_for_status()
        return session

    def start_web(self) -> None:
        log = open(self.workdir / "web.log", "ab")  # noqa: SIM115  (closed with the process)
        self.web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "app:create_app()", "--config", "gunicorn.conf.py"],
            cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        self.wait_healthy()

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"web did not start: {(self.workdir / 'web.log').read_text()[-2000:]}")

    def start_worker(self, *args: str, **env: str) -> subprocess.Popen:
        log = open(self.workdir / f"worker-{len(self.workers)}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "worker.py", *args],
            cwd=self.root, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        self.workers.append(process)
        return process

    def start_dyno(self, kind: str) -> subprocess.Popen:
        """A process type from the Procfile, run the way the platform runs it."""
        command = procfile()[kind]
        name = "web.log" if kind == "web" else f"worker-{len(self.workers)}.log"
        log = open(self.workdir / name, "ab")  # noqa: SIM115
        process = subprocess.Popen(  # noqa: S602  (a Procfile line is a shell command)
            command, shell=True, cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if kind == "web":
            self.web = process
            self.wait_healthy()
        else:
            self.workers.append(process)
        return process

    def stop_worker(self, process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """`sig` to the worker's process group, then a wait for every process of its session, not only
        the leader (a Procfile line runs under a shell that dies at once); SIGKILL after `timeout`."""
        if process.poll() is None:
            os.killpg(process.pid, sig)
        deadline = time.monotonic() + timeout
        while dyno_processes(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        signal_dyno(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        """Stop the web and every worker; fails when a process of the stack outlives them (it is killed):
        a ghost worker on the tests' shared Redis would take the next stack's jobs."""
        for process in self.workers:
            self.stop_worker(process, signal.SIGTERM, timeout=10)
        if self.web and self.web.poll() is None:
            os.killpg(self.web.pid, signal.SIGTERM)
            self.web.wait(timeout=30)
        deadline = time.monotonic() + 10  # a work horse or an ffmpeg may take a moment to see its parent go
        while (ghosts := marked_processes(str(self.workdir))) and time.monotonic() < deadline:
            time.sleep(0.1)
        if ghosts:
            send(list(ghosts), signal.SIGKILL)
            raise AssertionError(f"processes outlived their stack's stop (killed now): {ghosts}")

    def upload(self, session: requests.Session, path: Path, **fields: str) -> requests.Response:
        with path.open("rb") as handle:
            return session.post(f"{self.url}/api/videos", files={"file": (path.name, handle)}, data=fields, timeout=60)

    def video(self, session: requests.Session, video_id: str) -> dict:
        response = session.get(f"{self.url}/api/videos/{video_id}", timeout=10)
        response.raise_for_status()
        return response.json()

    def work_items(self, video_id: str) -> list[dict]:
        """The video's work items as the database has them, in plan order."""
        with sqlite3.connect(self.env["DATABASE_URL"].removeprefix("sqlite:///")) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(
                "SELECT kind, number, attempts, progress, start, duration, started_at, finished_at FROM work_items "
                "WHERE video_id = ? ORDER BY id", (video_id,),
            ).fetchall()
        return [dict(row) for row in rows]

    def wait_final(self, session: requests.Session, video_id: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.video(session, video_id)
            if body["state"] in FINAL:
                return body
            time.sleep(0.2)
        raise AssertionError(f"video {video_id} did not finish in {timeout} s: {body}\n{self.log_tails()}")

    def log_tails(self, lines: int = 40) -> str:
        """The end of every log of the stack, for a failure's report: what the workers were doing."""
        tails = []
        for log in sorted(self.workdir.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            tails.append(f"--- {log.name} (last {len(text)} lines)\n" + "\n".join(text))
        return "\n".join(tails)


@contextmanager
def running_stack(workdir: Path, redis_server, port: int, workers: int = 1, **settings: str) -> Iterator[Stack]:
    """Web and `workers` worker.py processes on the tests' Redis, emptied first; stopped on the way out."""
    redis_server.client().flushdb()
    stack = Stack(workdir, redis_server.url, port, **settings)
    stack.migrate()
    try:
        stack.start_web()
        for _ in range(workers):
            stack.start_worker()
        yield stack
    finally:
        stack.stop()


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line and not line.startswith("#"))


def dyno_processes(leader_pid: int) -> list[int]:
    """Every process of a 'dyno': all processes in the session its leader started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[3]) == leader_pid and fields[0] != "Z":  # field 6 of stat: session id
            found.append(int(entry.name))
    return found


def marked_processes(workdir: str) -> dict[int, str]:
    """Live processes started for the stack in `workdir` (its MARK in their environment): pid -> command."""
    found = {}
    marker = f"{MARK}={workdir}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
            continue
        if stat[0] != "Z":
            found[int(entry.name)] = command
    return found


def signal_dyno(leader_pid: int, sig: int) -> list[int]:
    """What a platform does on restart: the signal goes to every process of the dyno at once."""
    return send(dyno_processes(leader_pid), sig)


def send(pids: list[int], sig: int) -> list[int]:
    """`sig` to each of `pids`, those that have ended meanwhile aside."""
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    return pids


def ffmpeg_pids(marker: str = "") -> list[int]:
    """ffmpeg processes whose command line mentions `marker` (a video id); every one without it."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except (FileNotFoundError, ProcessLookupError):
                continue
            if cmdline and cmdline[0].endswith(b"ffmpeg") and any(marker.encode() in part for part in cmdline):
                pids.append(int(entry.name))
    return pids
