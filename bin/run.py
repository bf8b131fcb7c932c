"""`make run`: Redis if none answers, migrations, a first admin, then web + worker via honcho."""

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
    # honcho's processes find this virtualenv's gunicorn and python first
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    redis_process = ensure_redis(os.environ["REDIS_URL"])
    try:
        from app import create_app

        app = create_app()
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            credentials = first_admin(Path(app.instance_path))
        url = f"http://localhost:{os.environ['PORT']}"
        print(f"\nConveyor is starting at {url}\n{credentials}\n", flush=True)
        print(f"Try: curl -H 'Authorization: Bearer <token>' -F file=@clip.mp4 {url}/api/videos\n", flush=True)
        return subprocess.call([sys.executable, "-m", "honcho", "start", "-f", "Procfile", "web", "worker"])
    except KeyboardInterrupt:
        return 0
    finally:
        if redis_process is not None:
            redis_process.send_signal(signal.SIGTERM)
            redis_process.wait(timeout=10)


def ensure_redis(url: str) -> subprocess.Popen | None:
    """Start a local redis-server when nothing answers at REDIS_URL."""
    import redis

    from app.binaries import find

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return None
    except redis.RedisError:
        pass
    parsed = urlparse(url)
    if parsed.hostname not in ("localhost", "127.0.0.1", "::1"):
        sys.exit(f"Redis at {parsed.hostname} does not answer; start it or fix REDIS_URL")
    data = ROOT / "instance" / "redis"
    data.mkdir(parents=True, exist_ok=True)
    port = str(parsed.port or 6379)
    print(f"starting redis-server on port {port} (data in {data})", flush=True)
    process = subprocess.Popen(
        [find("redis-server"), "--port", port, "--bind", "127.0.0.1", "--dir", str(data),
         "--appendonly", "yes", "--maxmemory-policy", "noeviction"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        try:
            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
            return process
        except redis.RedisError:
            time.sleep(0.1)
    sys.exit("redis-server did not start")


def first_admin(instance: Path) -> str:
    """Create an `admin` user the first time; remember its password and token in the instance folder."""
    from app.extensions import db
    from app.models import User

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
    if saved.exists():
        return f"Log in as admin; credentials are in {saved}:\n{saved.read_text()}"
    return "Users exist already; create more with `flask --app app users create NAME --password PW`."


if __name__ == "__main__":
    sys.exit(main())
