"""Real receivers on loopback for notifications: an HTTP server for callbacks, an SMTP server for mail."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)


class HttpReceiver:
    """Answers POSTs with scripted statuses per path (200 once the script runs out) and keeps them all."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.received: list[Received] = []
        self.scripts: dict[str, list[int]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    script = receiver.scripts.get(self.path, [])
                    status = script.pop(0) if script else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"<b>answer</b> " * 100)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def script(self, path: str, statuses: list[int]) -> None:
        with self.lock:
            self.scripts[path] = list(statuses)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def __enter__(self) -> HttpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage
    login: str | None  # the user name the client logged in with
    at: float = field(default_factory=time.time)


class MailReceiver:
    """An SMTP server (aiosmtpd) on loopback; with `login`, it offers AUTH and checks that name and password."""

    def __init__(self, login: tuple[str, str] | None = None):
        self.port = free_port()
        self.login = login
        self.mails: list[Mail] = []
        options = {}
        if login:
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    @property
    def url(self) -> str:
        user = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        return f"smtp://{user}127.0.0.1:{self.port}"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and self.login == (
            auth_data.login.decode(), auth_data.password.decode()
        )
        return AuthResult(success=ok, auth_data=auth_data.login.decode() if ok else None)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's naming)
        message = message_from_bytes(envelope.content, policy=policy.default)
        login = session.auth_data if session.authenticated else None
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message, login))
        return "250 Message accepted"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.recipients]

    def __enter__(self) -> MailReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

