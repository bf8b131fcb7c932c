"""The delivery job: POST a signed callback or send an e-mail, record the attempt, let RQ retry.

Network errors, timeouts, 5xx, 408 and 429 raise `TryLater`, so RQ runs the job again after the
next pause in `NOTIFY_RETRY_INTERVALS`; any other answer is final and the job simply returns.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import http.client
import json
import logging
import smtplib
import time
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from flask import current_app

from app.domain.models import Delivery, DeliveryAttempt, Video, utcnow
from app.domain.notifications import Kind, Status
from app.domain.presenters import video_json
from app.extensions import db
from app.platform import mailer, safe_http
from app.platform.links import external_url

log = logging.getLogger(__name__)

RETRY = "retry"  # an attempt's outcome that is not final
RETRY_HTTP_STATUSES = frozenset({408, 429})
ERROR_CHARS = 200


class TryLater(Exception):
    """This attempt failed for a reason that may pass; the message holds no URL, address or body."""


@dataclass(frozen=True)
class Outcome:
    status: str  # a Status value, or RETRY
    code: int | None = None
    error: str | None = None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `Conveyor-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def classify(status: int, body: bytes = b"") -> Outcome:
    """What an HTTP answer means for the delivery."""
    if 200 <= status < 300:
        return Outcome(Status.DELIVERED.value, status)
    detail = body.decode("utf-8", "replace").strip()
    error = _short(f"HTTP {status}" + (f": {detail}" if detail else ""))
    if status >= 500 or status in RETRY_HTTP_STATUSES:
        return Outcome(RETRY, status, error)
    if 300 <= status < 400:
        return Outcome(Status.FAILED.value, status, f"HTTP {status}: redirects are not followed")
    return Outcome(Status.FAILED.value, status, error)


def deliver(delivery_id: str) -> dict:
    """One attempt at one delivery."""
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.status != Status.PENDING.value:
        return {"delivery": delivery_id, "skipped": True}  # the video was deleted, or it is done
    outcome = _callback(delivery) if delivery.kind == Kind.CALLBACK.value else _email(delivery)
    _record(delivery, outcome)
    log.info("delivery %s attempt %s: %s %s", delivery.id, delivery.attempts, outcome.status, outcome.code or "")
    if outcome.status == RETRY:
        code = f" ({outcome.code})" if outcome.code else ""
        raise TryLater(f"{delivery.kind} delivery {delivery.id}, attempt {delivery.attempts}, failed{code}")
    return {"delivery": delivery_id, "status": outcome.status}


def delivery_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ's failure callback: note when the next attempt comes, or give up when none is left."""
    db.session.rollback()
    delivery = db.session.get(Delivery, job.args[0])
    if delivery is None or delivery.status != Status.PENDING.value:
        return
    if exc_type is not TryLater:  # the job itself broke (a timeout, the database): count it too
        _record(delivery, Outcome(RETRY, None, f"Conveyor could not make the attempt ({exc_type.__name__})"))
    if job.retries_left:
        delivery.next_attempt_at = utcnow() + timedelta(seconds=job.get_retry_interval())
    else:
        delivery.status = Status.FAILED.value
        delivery.next_attempt_at = None
        delivery.finished_at = utcnow()
    db.session.commit()


def payload(video: Video, event: str) -> dict:
    """The video as the API shows it, with the event; the delivery log stays out of it."""
    body = video_json(video)
    body.pop("deliveries", None)
    return {"event": event, **body}


def _callback(delivery: Delivery) -> Outcome:
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
            delivery.target, body, headers, allowed=cfg["CALLBACK_ALLOWED_NETWORKS"], timeout=cfg["CALLBACK_TIMEOUT"]
        )
    except safe_http.Refused as exc:
        return Outcome(Status.REFUSED.value, None, _short(str(exc)))
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(RETRY, None, _network_error(exc))
    return classify(response.status, response.body)


def _email(delivery: Delivery) -> Outcome:
    cfg = current_app.config
    try:
        server = mailer.MailServer.from_url(cfg["MAIL_URL"])
        mailer.send(server, compose(delivery, cfg["MAIL_FROM"]), delivery.target, timeout=cfg["CALLBACK_TIMEOUT"])
    except mailer.Undeliverable as exc:
        return Outcome(Status.FAILED.value, exc.code, _short(str(exc)))
    except mailer.MailConfigError as exc:  # the operator may fix it before the last attempt
        return Outcome(RETRY, None, _short(str(exc)))
    except smtplib.SMTPResponseException as exc:
        return Outcome(RETRY, exc.smtp_code, _short(f"the mail server answered {exc.smtp_code}"))
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome(RETRY, None, _network_error(exc))
    return Outcome(Status.DELIVERED.value, 250)


def compose(delivery: Delivery, sender: str) -> EmailMessage:
    """A short text and HTML mail with a link to the video's page; every user text escaped."""
    video = delivery.video
    link = external_url(f"/videos/{video.id}")
    title = video.title or video.filename or "Untitled"
    if delivery.event == "video.ready":
        subject = f"Ready: {title}"
        line = f'Your video "{title}" is converted and ready to watch and download.'
    else:
        subject = f"Not converted: {title}"
        line = f'Your video "{title}" could not be converted. {video.error or ""}'.strip()
    message = EmailMessage()
    message["Subject"] = _short(subject, 150)
    message["From"] = sender
    message["To"] = delivery.target
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "conveyor.invalid"
    message["Message-ID"] = f"<{delivery.id}@{domain}>"  # the same on every attempt: mail clients drop repeats
    message.set_content(f"{line}\n\n{link}\n\n-- \nConveyor\n")
    message.add_alternative(
        f"<!doctype html><html><body><p>{html.escape(line)}</p>"
        f'<p><a href="{html.escape(link)}">Open the video</a></p>'
        f"<p style=\"color:#666\">Conveyor</p></body></html>\n",
        subtype="html",
    )
    return message


def _record(delivery: Delivery, outcome: Outcome) -> None:
    delivery.attempts += 1
    delivery.log.append(
        DeliveryAttempt(number=delivery.attempts, at=utcnow(), code=outcome.code, error=outcome.error)
    )
    delivery.next_attempt_at = None
    if outcome.status != RETRY:
        delivery.status = outcome.status
        delivery.finished_at = utcnow()
    db.session.commit()


def _network_error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc) or type(exc).__name__
    return _short(f"{type(exc).__name__}: {text}")


def _short(text: str, limit: int = ERROR_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
