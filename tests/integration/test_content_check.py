"""The content check through real processes: the blocklist CLI, gunicorn, worker.py and ffmpeg."""

from __future__ import annotations

import json
import re

import pytest
import requests

from tests.blocked import content_media  # noqa: F401  (a fixture)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def listed(stack, content_media):  # noqa: F811
    output = stack.flask("blocklist", "add", str(content_media.picture), "--note", "known bad picture")
    assert output.startswith("added blocklist entry 1")
    return output.splitlines()[1]  # the hash


def test_a_re_encoded_clip_showing_a_blocklisted_picture_is_rejected_and_nothing_is_downloadable(
    stack, alice, content_media, listed  # noqa: F811
):
    response = stack.upload(alice, content_media.with_picture, title="Holiday")
    assert response.status_code == 202
    body = stack.wait_final(alice, response.json()["id"])
    assert body["state"] == "rejected" and body["error"] == "This video can't be published."
    assert body["renditions"] == [] and body["poster_url"] is None and "result_uri" not in body
    assert "/media/" not in json.dumps(body) and listed not in json.dumps(body)
    assert sorted(p.name for p in (stack.storage / "videos" / body["id"]).iterdir()) == ["source"]
    listing = [line.split("\t") for line in stack.flask("blocklist", "list").splitlines()]
    assert listing[1][0] == "1" and listing[1][3] == "1"  # entry 1 has matched once


def test_the_clip_without_the_picture_is_published(stack, alice, content_media, listed):  # noqa: F811
    response = stack.upload(alice, content_media.without_picture)
    body = stack.wait_final(alice, response.json()["id"])
    assert body["state"] == "ready" and body["renditions"] and body["poster_url"]
    assert requests.get(body["renditions"][0]["url"], timeout=10).status_code == 200


def test_an_admin_releases_a_rejected_video_from_the_review_page(stack, alice, content_media, listed):  # noqa: F811
    video_id = stack.upload(alice, content_media.with_picture).json()["id"]
    assert stack.wait_final(alice, video_id)["state"] == "rejected"
    stack.create_user("root", admin=True)
    admin = requests.Session()
    login = admin.get(f"{stack.url}/login", timeout=10).text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', login).group(1)
    response = admin.post(
        f"{stack.url}/login", data={"username": "root", "password": "password123", "csrf_token": token},
        headers={"Referer": f"{stack.url}/login"}, timeout=10,
    )
    assert response.status_code == 200  # followed to the videos page
    page = admin.get(f"{stack.url}/review", timeout=10).text
    assert video_id in page and "known bad picture" in page
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    response = admin.post(
        f"{stack.url}/review/{video_id}/release", data={"csrf_token": token},
        headers={"Referer": f"{stack.url}/review"}, timeout=10,
    )
    assert response.status_code == 200 and "Released" in response.text
    body = stack.wait_final(alice, video_id)
    assert body["state"] == "ready" and body["renditions"] and body["poster_url"]
