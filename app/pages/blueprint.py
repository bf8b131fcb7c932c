"""The pages' blueprint, alone in its module so that the route modules and the package import it
without importing each other."""

from flask import Blueprint

blueprint = Blueprint("pages", __name__)
