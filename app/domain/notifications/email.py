"""E-mail: a short text and HTML mail with a link to the video's page, through `MAIL_URL`'s server."""

from __future__ import annotations

import html
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from flask import current_app

from app.domain.models import Delivery, Video
from app.domain.notifications.channels import RETRY, Channel, Outcome, Status, network_error, short
from app.domain.states import State
from app.platform import mailer
from app.platform.links import external_url

MAIL_STATES = frozenset({State.READY, State.FAILED, State.REJECTED})  # not what the uploader did themselves


class EmailChannel(Channel):
    kind = "email"

    def target(self, video: Video, state: State) -> str | None:
        owner = video.owner
        return owner.email if owner.email and state in MAIL_STATES and current_app.config["MAIL_URL"] else None

    def send(self, delivery: Delivery) -> Outcome:
        cfg = current_app.config
        try:
            server = mailer.MailServer.from_url(cfg["MAIL_URL"])
            mailer.send(server, compose(delivery, cfg["MAIL_FROM"]), delivery.target, timeout=cfg["CALLBACK_TIMEOUT"])
        except mailer.Undeliverable as exc:
            return Outcome(Status.FAILED.value, exc.code, short(str(exc)))
        except mailer.MailConfigError as exc:  # the operator may fix it before the last attempt
            return Outcome(RETRY, None, short(str(exc)))
        except smtplib.SMTPResponseException as exc:
            return Outcome(RETRY, exc.smtp_code, short(f"the mail server answered {exc.smtp_code}"))
        except (OSError, smtplib.SMTPException) as exc:
            return Outcome(RETRY, None, network_error(exc))
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
    message["Subject"] = short(subject, 150)
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
