"""Sending one e-mail through the SMTP server in `MAIL_URL`, with the standard library.

`smtp://user:pw@host:587` uses STARTTLS when the server offers it (`?starttls=always` insists,
`?starttls=never` skips it); `smtps://user:pw@host:465` is TLS from the first byte. A user name
means log in. The password never appears in a repr, a log line or an error message.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

STARTTLS_MODES = ("auto", "always", "never")


class MailConfigError(Exception):
    """`MAIL_URL` can't be used; the message names the part, never the password."""


class Undeliverable(Exception):
    """The server refused this message for good (a 5xx reply): trying again will not help."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class MailServer:
    host: str
    port: int
    tls: bool  # TLS from the first byte (smtps)
    starttls: str = "auto"
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> MailServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise MailConfigError("MAIL_URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise MailConfigError("MAIL_URL names no host")
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 25)
        except ValueError as exc:
            raise MailConfigError("MAIL_URL has a bad port") from exc
        starttls = parse_qs(parts.query).get("starttls", ["auto"])[-1].lower()
        if starttls not in STARTTLS_MODES:
            raise MailConfigError("MAIL_URL: starttls must be auto, always or never")
        return cls(
            host=parts.hostname,
            port=port,
            tls=parts.scheme == "smtps",
            starttls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def send(server: MailServer, message: EmailMessage, recipient: str, timeout: float = 15.0) -> None:
    """Hand the message over for `recipient` alone; raises Undeliverable for a final no, others mean "later"."""
    context = ssl.create_default_context()
    if server.tls:
        client: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=timeout)
    with client:
        client.ehlo()
        if not server.tls and server.starttls != "never":
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif server.starttls == "always":
                raise smtplib.SMTPNotSupportedError("the mail server does not offer STARTTLS")
        if server.username:
            client.login(server.username, server.password or "")
        try:
            client.send_message(message, to_addrs=[recipient])  # never more than the one address
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            if code >= 500:
                raise Undeliverable(code, f"the mail server refused the address: {_text(reply)}") from None
            raise
        except smtplib.SMTPDataError as exc:
            if exc.smtp_code >= 500:
                reply = _text(exc.smtp_error)
                raise Undeliverable(exc.smtp_code, f"the mail server refused the message: {reply}") from None
            raise


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:200]
