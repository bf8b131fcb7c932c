"""The API's blueprint, alone in its module so that the route modules and the package import it
without importing each other."""

from flask import Blueprint

blueprint = Blueprint("api", __name__, url_prefix="/api")
