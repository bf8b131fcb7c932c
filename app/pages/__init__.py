"""The pages people use in a browser: log in, upload, watch their videos convert."""

from flask import Flask

from app.pages import account, filters, library, review, security, upload, videos  # noqa: F401  (registers the routes)
from app.pages.blueprint import blueprint


def init_app(app: Flask) -> None:
    security.init_app(app)
    app.register_blueprint(blueprint)
