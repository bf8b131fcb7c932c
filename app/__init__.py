"""Conveyor: a video conversion service on Flask, RQ and Redis. This package is the Flask side;
its `domain`, `platform` and `workers` packages are the layers beneath (see the README's Layout).

Nothing is imported at module level but the settings, so that a job process importing the domain
loads no web code.
"""

from __future__ import annotations

import logging
import os

from dotenv import load_dotenv
from flask import Flask

from app import config as settings


def create_app(test_config: dict | None = None) -> Flask:
    """Defaults, then the environment (and `.env`), then what a test passes."""
    load_dotenv(override=False)
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or None)
    # owner-only: it holds the database, the generated secret key and the first admin's credentials
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    app.config.from_mapping(settings.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    settings.finish(app.config, app.instance_path)
    _private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)

    from app import cli, dashboard, errors, live, pages, uploads
    from app.api import blueprint as api
    from app.downloads import blueprint as media
    from app.extensions import db, migrate
    from app.health import blueprint as health
    from app.metrics import blueprint as metrics
    from app.platform import queueing, storage
    from app.streams import blueprint as streams
    from app.unread_body import UnreadBodyGuard

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"))
    queueing.init_app(app)
    storage.init_app(app)
    uploads.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    app.register_blueprint(api)
    app.register_blueprint(health)
    app.register_blueprint(media)
    app.register_blueprint(metrics)
    app.register_blueprint(streams)
    live.init_app(app)
    pages.init_app(app)  # sessions, CSRF and page headers too
    dashboard.init_app(app)
    # outermost, so that it is handed the server's own start_response (see app/unread_body.py)
    app.wsgi_app = UnreadBodyGuard(app.wsgi_app)
    return app


def _private_sqlite_file(url: str) -> None:
    """Make a new SQLite database file owner-only (0600) before SQLite makes it as the umask says;
    its journal files take the same mode."""
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    if not path or path.startswith(":") or "?" in path or os.path.exists(path):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:  # another process made it at the same moment
        pass
