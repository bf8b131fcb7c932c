"""The `flask --app app ...` commands: users, videos, blocklist."""

from __future__ import annotations

from flask import Flask

from app.cli.blocklist import blocklist
from app.cli.users import users
from app.cli.videos import videos


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(videos)
    app.cli.add_command(blocklist)
