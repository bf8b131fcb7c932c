"""What a callback URL may be, checked where it is given (with an upload, or as the account's
default) so that a URL Conveyor would never call is a 400 then, not a `refused` delivery later.

Only what the URL itself says is judged here (its form, and a host written as an address or a
localhost name): the name of a host is resolved at each delivery, where safe_http refuses whatever
private address it has then.
"""

from __future__ import annotations

import ipaddress
import socket
import unicodedata
from urllib.parse import urlsplit

from flask import current_app

from app.domain.errors import Refused
from app.platform import safe_http

MAX_URL = 2048
LOOPBACK = ipaddress.IPv4Address("127.0.0.1")  # what a localhost name resolves to (RFC 6761)
NOT_CALLED = "Conveyor calls public addresses only (no loopback, private or link-local ones)."


def check(value: str | None) -> str | None:
    """The URL, trimmed; None for none. Refused: not http(s), credentials, control characters, too
    long, or a host that is plainly not public (unless in CALLBACK_ALLOWED_NETWORKS)."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > MAX_URL:
        raise Refused(400, f"`callback_url` is longer than {MAX_URL} characters.")
    if any(ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in value):
        # a header line could be split, or a request line sent that no receiver reads: never called
        raise Refused(400, "`callback_url` must not contain spaces, line breaks or control characters; "
                           "percent-encode them (%20).")
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise Refused(400, "`callback_url` must be an http:// or https:// URL.")
    if parsed.username is not None or parsed.password is not None:
        raise Refused(400, "`callback_url` must not hold a user name or password; put a token in its path or query.")
    host = parsed.hostname.rstrip(".").lower()
    address = LOOPBACK if host == "localhost" or host.endswith(".localhost") else _literal_address(host)
    if address is None or not safe_http.forbidden(address):
        return value
    if any(address in network for network in current_app.config["CALLBACK_ALLOWED_NETWORKS"]):
        return value  # an operator's own network (CALLBACK_ALLOWED_NETWORKS), e.g. for local tests
    raise Refused(400, f"`callback_url` points at {host}, which is not a public address: {NOT_CALLED}")


def _literal_address(host: str) -> safe_http.IPAddress | None:
    """The address a host written as one stands for, in any form a resolver takes (`127.1`, `0x7f.1`)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not host or not all(ch in "0123456789abcdefx." for ch in host.lower()):
        return None  # a name: its addresses are checked when a callback is sent
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None
