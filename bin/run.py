"""`make run`: Redis if none answers, migrations, a first admin, then web + worker via honcho.

`make run WORKERS=4` runs four worker processes; `HOST=0.0.0.0 make run` serves the network too.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dotenv import load_dotenv  # noqa: E402


def main() -> int:
    os.chdir(ROOT)
    load_dotenv(ROOT / ".env")
    os.environ.setdefault("REDIS_URL", "redis://localhost:6379/0")
    os.environ.setdefault("PORT", "5000")
    os.environ.setdefault("HOST", "127.0.0.1")  # a laptop's stack is not for the whole network
    workers = os.environ.get("WORKERS", "1")
    if not workers.isdigit() or int(workers) < 1:
        sys.exit(f"WORKERS must be a whole number of worker processes, at least 1, not {workers!r}")
    # honcho's processes find this virtualenv's gunicorn and python first
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    from app import create_app
    from app.config import redis_settings

    app = create_app()
    redis_process = ensure_redis(*redis_settings(), Path(app.instance_path) / "redis")
    try:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            credentials = first_admin(Path(app.instance_path))
        url = f"http://{os.environ['HOST']}:{os.environ['PORT']}"
        print(f"\nConveyor is starting at {url}\n{credentials}\n", flush=True)
        print(f"Try: curl -H 'Authorization: Bearer <token>' -F file=@clip.mp4 {url}/api/videos\n", flush=True)
        return run_processes(int(workers))
    except KeyboardInterrupt:  # before honcho took over
        return 0
    finally:
        stop(redis_process)


def run_processes(workers: int) -> int:
    """web + worker from the Procfile through honcho, never `release` (it exits, and honcho would
    stop everything with it); migrations ran above.

    Ctrl-C reaches every process of the terminal's group: honcho stops web and workers by itself
    (they deregister from Redis on the way out), so this process only waits for it to finish.
    """
    interrupted = []
    signal.signal(signal.SIGINT, lambda signum, frame: interrupted.append(signum))  # unlike SIG_IGN, not inherited
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", "Procfile", "-c", f"worker={workers}", "web", "worker"]
    )
    code = honcho.wait()
    return 0 if interrupted else code  # stopped as asked: not a failure


def ensure_redis(url: str, tls_verify: bool, data: Path) -> subprocess.Popen | None:
    """Start a local redis-server when nothing answers at REDIS_URL; it keeps its data in `data`."""
    import redis

    from app.platform.queueing import connect
    from media.binaries import find

    try:
        connect(url, tls_verify=tls_verify, socket_connect_timeout=1).ping()
        return None
    except redis.RedisError:
        pass
    parsed = urlparse(url)
    if parsed.hostname not in ("localhost", "127.0.0.1", "::1"):
        sys.exit(f"Redis at {parsed.hostname} does not answer; start it or fix REDIS_URL")
    data.mkdir(parents=True, exist_ok=True)
    port = str(parsed.port or 6379)
    print(f"starting redis-server on port {port} (data in {data})", flush=True)
    process = subprocess.Popen(
        [find("redis-server"), "--port", port, "--bind", "127.0.0.1", "--dir", str(data),
         "--appendonly", "yes", "--maxmemory-policy", "noeviction"],
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C is not for it: it stops last, once the workers have said goodbye
    )
    for _ in range(50):
        try:
            connect(url, socket_connect_timeout=1).ping()
            return process
        except redis.RedisError:
            time.sleep(0.1)
    stop(process)
    sys.exit("redis-server did not start")


def stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def first_admin(instance: Path) -> str:
    """Create an `admin` user the first time; remember its password and token in the instance folder
    for as long as they are the ones that work."""
    from app.domain.accounts import saved_credentials_current
    from app.domain.models import User
    from app.extensions import db

    saved = instance / "admin-credentials.txt"
    if db.session.scalar(db.select(User).limit(1)) is None:
        password = secrets.token_urlsafe(12)
        user = User(username="admin", is_admin=True)
        user.set_password(password)
        token = user.new_token()
        db.session.add(user)
        db.session.commit()
        fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"user: admin\npassword: {password}\nAPI token: {token}\n")
    if saved.exists() and not saved_credentials_current(saved):
        saved.unlink()
        return (
            f"The admin's credentials were changed since the first `make run`, so {saved} is removed; to reset "
            "the password: `.venv/bin/flask --app app users password admin` (a new API token: `users token admin`)."
        )
    if saved.exists():
        return f"Log in as admin; credentials are in {saved}:\n{saved.read_text()}"
    return "Users exist already; create more with `flask --app app users create NAME --password PW`."


if __name__ == "__main__":
    sys.exit(main())
