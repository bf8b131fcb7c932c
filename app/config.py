"""Settings: defaults first, then the environment (and `.env`), then what a test passes."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

DEFAULT_RENDITIONS = "360,720,1080"
# growing pauses between notification attempts: 11 attempts over about a day
DEFAULT_NOTIFY_RETRY_INTERVALS = "5,30,120,600,1800,3600,7200,14400,28800,28800"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a number, got {raw!r}") from exc
    if not 0 <= value < float("inf"):
        raise RuntimeError(f"{name} must be 0 or more, got {raw!r}")
    return value


def _ints(name: str, default: list[int]) -> list[int]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return [int(part) for part in raw.split(",")]
    except ValueError as exc:
        raise RuntimeError(f"{name} must be whole numbers separated by commas, got {raw!r}") from exc


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise RuntimeError(f"{name} must be true or false, got {raw!r}")


def redis_settings() -> tuple[str, bool]:
    """REDIS_URL and REDIS_TLS_VERIFY, for the processes that connect before (or without) an app."""
    return os.environ.get("REDIS_URL", "redis://localhost:6379/0"), _flag("REDIS_TLS_VERIFY", True)


def database_url(raw: str | None, instance_path: str) -> str:
    """The SQLAlchemy URL; accepts the `postgres://` form that PaaS add-ons hand out."""
    if not raw:
        return f"sqlite:///{Path(instance_path) / 'conveyor.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def web_threads() -> int:
    """Threads per web process (gunicorn.conf.py): one per event stream it may serve, plus 8 for the rest."""
    return _int("WEB_THREADS", 0) or _int("MAX_EVENT_STREAMS", 24) + 8


def engine_options(config: dict) -> dict:
    """Pool and timeouts: a request never waits long on a database that does not answer.

    Every thread of a web process may hold one connection, so the pool has one per thread (SSE
    streams and uploads give theirs back while they wait on a client); when it is empty all the same,
    a request waits `pool_timeout` and is a 503.
    """
    uri = config["SQLALCHEMY_DATABASE_URI"]
    timeout = config["DATABASE_TIMEOUT"]
    options: dict = {"pool_pre_ping": True}
    if uri.startswith("sqlite") and (uri in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in uri):
        return options  # one in-memory database, one connection: no pool to size
    size = config["DATABASE_POOL_SIZE"]
    options.update(pool_size=min(size, 5), max_overflow=max(0, size - 5), pool_timeout=timeout)
    if uri.startswith("sqlite"):
        options["connect_args"] = {"timeout": timeout}  # how long a write waits for another's lock
    elif uri.startswith("postgresql"):
        connect_args: dict = {
            "connect_timeout": max(1, int(timeout)),  # a server that accepts and never answers
            # a server gone without a word (a failover, a partition) is noticed in about 20 s
            "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 2,
        }
        if config["DATABASE_STATEMENT_TIMEOUT"]:  # 0 for a pooler that refuses startup options
            connect_args["options"] = f"-c statement_timeout={config['DATABASE_STATEMENT_TIMEOUT'] * 1000}"
        options["connect_args"] = connect_args
    return options


def parse_renditions(raw: str) -> list[int]:
    """`"360,720,1080"` -> `[360, 720, 1080]`, sorted, even, sane."""
    heights: set[int] = set()
    for part in raw.split(","):
        part = part.strip().lower().removesuffix("p")
        if not part:
            continue
        if not part.isdigit() or not 16 <= int(part) <= 4320:
            raise RuntimeError(f"RENDITIONS: {part!r} is not a height between 16 and 4320")
        heights.add(int(part) // 2 * 2)
    if not heights:
        raise RuntimeError("RENDITIONS must name at least one height, e.g. 360,720,1080")
    return sorted(heights)


def parse_intervals(raw: str) -> list[int]:
    """`"5,30,120"` -> `[5, 30, 120]`: seconds before each retry; empty means no retries."""
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not all(part.isdigit() and 0 < int(part) <= 7 * 24 * 3600 for part in parts):
        raise RuntimeError(f"NOTIFY_RETRY_INTERVALS must be whole seconds, comma separated, got {raw!r}")
    return [int(part) for part in parts]


def parse_networks(raw: str | list) -> list[IPv4Network | IPv6Network]:
    """`"127.0.0.0/8, ::1"` -> networks callbacks may reach although they are not public."""
    if not isinstance(raw, str):
        return [ip_network(n, strict=False) if isinstance(n, str) else n for n in raw]
    networks = []
    for part in (part.strip() for part in raw.split(",")):
        if part:
            try:
                networks.append(ip_network(part, strict=False))
            except ValueError as exc:
                raise RuntimeError(f"CALLBACK_ALLOWED_NETWORKS: {part!r} is not an address or a CIDR network") from exc
    return networks


def parse_match_distance(raw: str) -> int:
    """Bits of 256 two perceptual hashes may differ by and still match; 31 is PDQ's advice."""
    if not raw.strip().isdigit() or not 0 <= int(raw) <= 96:
        raise RuntimeError(f"CONTENT_MATCH_DISTANCE must be a whole number of bits from 0 to 96, got {raw!r}")
    return int(raw)


def public_url() -> str:
    """PUBLIC_URL; else the app's own https:// address, from the platform's dyno metadata; else this machine."""
    explicit = os.environ.get("PUBLIC_URL", "").strip()
    if explicit:
        return explicit
    # set by Heroku's runtime-dyno-metadata feature; its router serves that name over HTTPS
    domain = os.environ.get("HEROKU_APP_DEFAULT_DOMAIN_NAME", "").strip()
    if domain:
        return f"https://{domain}"
    return f"http://localhost:{os.environ.get('PORT', '5000')}"


def from_environment(instance_path: str) -> dict:
    """Every setting the app reads, from environment variables."""
    env = os.environ.get
    redis_url, redis_tls_verify = redis_settings()
    return {
        "SECRET_KEY": env("SECRET_KEY", ""),
        "SQLALCHEMY_DATABASE_URI": database_url(env("DATABASE_URL"), instance_path),
        "REDIS_URL": redis_url,
        "REDIS_TLS_VERIFY": redis_tls_verify,  # false: accept a self-signed rediss:// certificate
        "STORAGE_URL": env("STORAGE_URL", f"file://{Path(instance_path) / 'storage'}"),
        "S3_ENDPOINT_URL": env("S3_ENDPOINT_URL", ""),
        "METRICS_TOKEN": env("METRICS_TOKEN", ""),
        "MAX_UPLOAD_MB": _int("MAX_UPLOAD_MB", 2048),
        "RENDITIONS": parse_renditions(env("RENDITIONS", DEFAULT_RENDITIONS)),
        "X264_PRESET": env("X264_PRESET", "veryfast"),
        "POSTER_AT_SECONDS": float(env("POSTER_AT_SECONDS", "1.0")),
        # a video longer than this is spread over every free worker, in chunks of about CHUNK_SECONDS
        # (whole 4 s segments); 0 converts every video in one job
        "CHUNK_THRESHOLD_SECONDS": _int("CHUNK_THRESHOLD_SECONDS", 120),
        "CHUNK_SECONDS": _int("CHUNK_SECONDS", 60),
        # on S3, a worker dyno keeps the sources it downloaded (its next chunks of the same video read
        # them again) in its temporary folder, up to this much; 0: download for every job
        "SOURCE_CACHE_MB": _int("SOURCE_CACHE_MB", 8192),
        "JOB_RETRIES": _int("JOB_RETRIES", 3),
        # how often a worker says it is alive; one silent for 5 of these is dead, and its job goes back
        # to the queue (a worker's recovery pass runs every 2)
        "WORKER_HEARTBEAT_SECONDS": _int("WORKER_HEARTBEAT_SECONDS", 5),
        "JOB_RETRY_INTERVALS": _ints("JOB_RETRY_INTERVALS", [10, 30, 90]),
        "CONVERT_TIMEOUT_BASE": _int("CONVERT_TIMEOUT_BASE", 120),
        "CONVERT_TIMEOUT_FACTOR": _int("CONVERT_TIMEOUT_FACTOR", 10),
        # a whole video's run: CONVERT_TIMEOUT_BASE plus this many seconds per second of 1080p30 it decodes
        "CONVERT_TIMEOUT_WORK_FACTOR": _number("CONVERT_TIMEOUT_WORK_FACTOR", 4),
        # decoded work (picture size x frame rate x length) in hours of 1080p30: one video's most, and a
        # user's in a rolling 24 h; over either, the video fails with a message that says so (0: no limit)
        "MAX_VIDEO_WORK_HOURS": _number("MAX_VIDEO_WORK_HOURS", 4),
        "USER_DAILY_WORK_HOURS": _number("USER_DAILY_WORK_HOURS", 12),
        # a user's videos in RQ's queues (queued or running) at once; the others wait their turn, stored,
        # outside them, so one user's backlog never holds back another's next upload (0: no limit)
        "MAX_ACTIVE_CONVERSIONS": _int("MAX_ACTIVE_CONVERSIONS", 4),
        "MAX_DURATION_SECONDS": _int("MAX_DURATION_SECONDS", 4 * 3600),
        "MAX_WIDTH": _int("MAX_WIDTH", 7680),
        "MAX_HEIGHT": _int("MAX_HEIGHT", 4320),
        "MAX_PIXELS": _int("MAX_PIXELS", 7680 * 4320),
        "MAX_FRAME_RATE": _int("MAX_FRAME_RATE", 240),
        "MAX_STREAMS": _int("MAX_STREAMS", 16),
        # a caption file (.vtt, .srt) added to a video, and each subtitle track taken out of an upload
        "MAX_CAPTION_KB": _int("MAX_CAPTION_KB", 1024),
        "MAX_CAPTION_CUES": _int("MAX_CAPTION_CUES", 20000),
        "UPLOAD_RATE_LIMIT": env("UPLOAD_RATE_LIMIT", "60/hour;500/day"),  # per user; empty: no limit
        # login attempts (counted before the password is checked): per username from browsers it never
        # logged in from, and per browser it did (its device cookie), so strangers can't lock anyone out
        "LOGIN_RATE_LIMIT": env("LOGIN_RATE_LIMIT", "10/minute;50/hour"),
        # login attempts per client address without a device cookie (one password sprayed over many names)
        "LOGIN_ADDRESS_RATE_LIMIT": env("LOGIN_ADDRESS_RATE_LIMIT", "20/minute;100/hour"),
        # a page login ends after this long unused, and this long after it began, whatever its cookie says
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 24 * 60),
        "SESSION_MAX_HOURS": _int("SESSION_MAX_HOURS", 7 * 24),
        "FFMPEG_MEMORY_MB": _int("FFMPEG_MEMORY_MB", 4096),
        "FFMPEG_STALL_SECONDS": _int("FFMPEG_STALL_SECONDS", 60),
        "MEDIA_URL_TTL": _int("MEDIA_URL_TTL", 24 * 3600),
        "CONTENT_CHECK": _flag("CONTENT_CHECK", True),  # frames matched against the blocklist before publishing
        "CONTENT_MATCH_DISTANCE": parse_match_distance(env("CONTENT_MATCH_DISTANCE", "31")),
        "MAX_FORM_MEMORY_SIZE": 512 * 1024,  # per text field; files are streamed to disk
        "MAX_FORM_PARTS": 20,
        "MAIL_URL": env("MAIL_URL", ""),
        "MAIL_FROM": env("MAIL_FROM", "conveyor@localhost"),
        "PUBLIC_URL": public_url(),
        "CALLBACK_ALLOWED_NETWORKS": env("CALLBACK_ALLOWED_NETWORKS", ""),
        "CALLBACK_TIMEOUT": _int("CALLBACK_TIMEOUT", 10),
        "NOTIFY_RETRY_INTERVALS": parse_intervals(env("NOTIFY_RETRY_INTERVALS", DEFAULT_NOTIFY_RETRY_INTERVALS)),
        # pages: session cookies are HttpOnly and SameSite=Lax always, Secure behind HTTPS
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", public_url().startswith("https://")),
        # plain HTTP: pages are sent to https://, everything else refused (see pages/security.py)
        "FORCE_HTTPS": _flag("FORCE_HTTPS", public_url().startswith("https://")),
        # no includeSubDomains: the app may live on a subdomain of someone's other sites
        "HSTS_SECONDS": _int("HSTS_SECONDS", 365 * 24 * 3600),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,  # a token lives as long as the session it belongs to
        "PROXY_HOPS": _int("PROXY_HOPS", 1),
        "MAX_EVENT_STREAMS": _int("MAX_EVENT_STREAMS", 24),
        # seconds to connect to the database, to wait for a pooled connection or a SQLite lock
        "DATABASE_TIMEOUT": _int("DATABASE_TIMEOUT", 3),
        # PostgreSQL cancels a statement that runs longer (seconds; 0: never)
        "DATABASE_STATEMENT_TIMEOUT": _int("DATABASE_STATEMENT_TIMEOUT", 30),
        # connections per process, at most: one per web thread by default
        "DATABASE_POOL_SIZE": _int("DATABASE_POOL_SIZE", web_threads()),
    }


def local_secret_key(instance_path: str) -> str:
    """A random key kept in the instance folder, so that every local process shares it."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip()


def finish(config: dict, instance_path: str) -> None:
    """Derive settings that depend on others."""
    config["MAX_CONTENT_LENGTH"] = config["MAX_UPLOAD_MB"] * 1024 * 1024 + 64 * 1024
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(config))
    config["CALLBACK_ALLOWED_NETWORKS"] = parse_networks(config["CALLBACK_ALLOWED_NETWORKS"])
    # the signed cookie expires with the longest a session may live (app/domain/sessions.py ends it sooner)
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=config["SESSION_MAX_HOURS"])
    if not config["SECRET_KEY"]:
        try:
            config["SECRET_KEY"] = local_secret_key(instance_path)
        except FileExistsError:  # another process made it at the same moment
            config["SECRET_KEY"] = local_secret_key(instance_path)
