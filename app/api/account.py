"""The caller's account: where notifications go, and the secret that signs callbacks."""

from __future__ import annotations

from flask import jsonify, request

from app.api.blueprint import blueprint
from app.auth import current_user, token_required
from app.domain import callback_urls
from app.domain.accounts import check_email
from app.domain.models import User, new_webhook_secret
from app.errors import ApiError
from app.extensions import db

EDITABLE = ("callback_url", "email")


def account_json(user: User) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "webhook_secret": user.webhook_secret,
        "callback_url": user.callback_url,
    }


@blueprint.get("/account")
@token_required
def show_account():
    return jsonify(account_json(current_user()))


@blueprint.patch("/account")
@token_required
def edit_account():
    """`{"callback_url": "https://..." | null, "email": "..." | null}`; fields left out stay as they are."""
    changes = request.get_json(silent=True)
    if not isinstance(changes, dict):
        raise ApiError(400, 'Send a JSON object, e.g. {"callback_url": "https://example.com/hook"}.')
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ApiError(400, f"Only {', '.join(EDITABLE)} can be changed here, not {', '.join(unknown)}.")
    user = current_user()
    if "callback_url" in changes:
        user.callback_url = callback_urls.check(_text(changes["callback_url"], "callback_url"))
    if "email" in changes:
        user.email = check_email(_text(changes["email"], "email"))
    db.session.commit()
    return jsonify(account_json(user))


@blueprint.post("/account/webhook-secret")
@token_required
def rotate_webhook_secret():
    """A new secret at once; callbacks sent from now on are signed with it."""
    user = current_user()
    user.webhook_secret = new_webhook_secret()
    db.session.commit()
    return jsonify(account_json(user))


def _text(value, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"`{field}` must be a string or null.")
    return value
