"""Signed callbacks: the video JSON, POSTed to the uploader's URL with an HMAC of the body made with
their webhook secret. Only public addresses are called (app/platform/safe_http.py)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time

from flask import current_app

from app.domain.models import Delivery, Video
from app.domain.notifications.channels import RETRY, Channel, Outcome, Status, network_error, short
from app.domain.presenters import video_json
from app.domain.states import State
from app.platform import safe_http

RETRY_HTTP_STATUSES = frozenset({408, 429})


class CallbackChannel(Channel):
    kind = "callback"

    def target(self, video: Video, state: State) -> str | None:
        return video.callback_url or video.owner.callback_url

    def send(self, delivery: Delivery) -> Outcome:
        cfg = current_app.config
        video = delivery.video
        body = json.dumps(payload(video, delivery.event), separators=(",", ":")).encode()
        headers = {
            "Conveyor-Signature": sign(video.owner.webhook_secret, int(time.time()), body),
            "Conveyor-Delivery": delivery.id,
            "Conveyor-Event": delivery.event,
        }
        try:
            response = safe_http.post(
                delivery.target, body, headers, allowed=cfg["CALLBACK_ALLOWED_NETWORKS"],
                timeout=cfg["CALLBACK_TIMEOUT"],
            )
        except safe_http.Refused as exc:
            return Outcome(Status.REFUSED.value, None, short(str(exc)))
        except (OSError, http.client.HTTPException) as exc:
            return Outcome(RETRY, None, network_error(exc))
        return classify(response.status, response.body)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `Conveyor-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def classify(status: int, body: bytes = b"") -> Outcome:
    """What an HTTP answer means for the delivery."""
    if 200 <= status < 300:
        return Outcome(Status.DELIVERED.value, status)
    detail = body.decode("utf-8", "replace").strip()
    error = short(f"HTTP {status}" + (f": {detail}" if detail else ""))
    if status >= 500 or status in RETRY_HTTP_STATUSES:
        return Outcome(RETRY, status, error)
    if 300 <= status < 400:
        return Outcome(Status.FAILED.value, status, f"HTTP {status}: redirects are not followed")
    return Outcome(Status.FAILED.value, status, error)


def payload(video: Video, event: str) -> dict:
    """The video as the API shows it, with the event; the delivery log stays out of it."""
    body = video_json(video)
    body.pop("deliveries", None)
    return {"event": event, **body}
