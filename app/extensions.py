"""Extension objects, made once and bound to an app in `create_app`."""

import sqlite3

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


def _lower(value):
    return value.lower() if isinstance(value, str) else value


@event.listens_for(Engine, "connect")
def _unicode_lower_on_sqlite(dbapi_connection, connection_record) -> None:
    """SQLite's own lower() folds A-Z only, so a search in any case (ILIKE, lower() on both sides) would
    miss "ÉTÉ" for "été"; Python's folds every script, as PostgreSQL's ILIKE does. No index or stored
    value is built with lower(), so nothing written differs."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
