"""GET/PATCH /api/account and rotating the webhook secret."""

from __future__ import annotations

import pytest


def test_the_account_shows_the_webhook_secret(client, auth):
    response = client.get("/api/account", headers=auth)
    assert response.status_code == 200
    body = response.json
    assert body["username"] == "alice" and body["email"] is None and body["callback_url"] is None
    assert body["webhook_secret"].startswith("whsec_") and len(body["webhook_secret"]) > 30


def test_each_user_has_a_secret_of_their_own(client, make_user):
    secrets = set()
    for name in ("ann", "ben"):
        token = make_user(name)[1]
        secrets.add(client.get("/api/account", headers={"Authorization": f"Bearer {token}"}).json["webhook_secret"])
    assert len(secrets) == 2


def test_rotating_the_secret_replaces_it(client, auth):
    old = client.get("/api/account", headers=auth).json["webhook_secret"]
    response = client.post("/api/account/webhook-secret", headers=auth)
    assert response.status_code == 200
    new = response.json["webhook_secret"]
    assert new != old and client.get("/api/account", headers=auth).json["webhook_secret"] == new


def test_the_account_needs_a_token(client):
    assert client.get("/api/account").status_code == 401
    assert client.post("/api/account/webhook-secret").status_code == 401


def test_a_default_callback_url_and_email_can_be_set_and_cleared(client, auth):
    response = client.patch(
        "/api/account", headers=auth, json={"callback_url": "https://hooks.example.com/in", "email": "a@example.com"}
    )
    assert response.status_code == 200
    assert response.json["callback_url"] == "https://hooks.example.com/in" and response.json["email"] == "a@example.com"
    response = client.patch("/api/account", headers=auth, json={"callback_url": None})
    assert response.json["callback_url"] is None and response.json["email"] == "a@example.com"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"callback_url": "ftp://example.com/x"}, "http:// or https://"),
        ({"callback_url": "https://user:pw@example.com/x"}, "user name or password"),
        ({"callback_url": "https://example.com/" + "x" * 3000}, "longer than"),
        ({"callback_url": 5}, "string or null"),
        ({"callback_url": "https://example.com/a\r\nX-Evil: 1"}, "line breaks"),
        ({"callback_url": "https://example.com/a b"}, "spaces"),
        ({"email": "not an address"}, "not an e-mail address"),
        ({"email": "a@example.com,b@example.com"}, "not an e-mail address"),
        ({"email": "Eve <eve@example.com>"}, "not an e-mail address"),
        ({"webhook_secret": "mine"}, "Only callback_url, email"),
        (["callback_url"], "JSON object"),
    ],
)
def test_bad_account_changes_get_a_clear_400(client, auth, body, words):
    response = client.patch("/api/account", headers=auth, json=body)
    assert response.status_code == 400
    assert words in response.json["error"]
    assert client.get("/api/account", headers=auth).json["callback_url"] is None
