"""The pages people use in a browser: log in, upload, watch their videos convert."""

from flask import Blueprint, Flask

blueprint = Blueprint("pages", __name__)

from app.pages import account, review, security, videos  # noqa: E402,F401  (registers the routes)


def init_app(app: Flask) -> None:
    security.init_app(app)
    app.register_blueprint(blueprint)
