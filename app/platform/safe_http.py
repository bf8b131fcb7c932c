"""One HTTP POST to a URL someone else chose, without letting it reach inside our network.

The host is resolved once; every address it resolves to is checked; the connection goes to a
checked address while the Host header, TLS SNI and certificate check still use the name. So DNS
that changes its answer between check and connect cannot win. Redirects are never followed,
timeouts are short, and only the first few hundred bytes of a response are read.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

BODY_LIMIT = 300
USER_AGENT = "Conveyor-Webhook/1"


class Refused(Exception):
    """The URL may not be called: a scheme or address Conveyor does not send to. Never retried."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes  # at most BODY_LIMIT bytes


def forbidden(address: IPAddress) -> bool:
    """Loopback, private, link-local (cloud metadata), multicast, reserved, unspecified..."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global  # shared address space (100.64.0.0/10) and the like
    )


def check_address(address: IPAddress, allowed: Iterable[IPNetwork]) -> None:
    if forbidden(address) and not any(address in network for network in allowed):
        raise Refused(f"{address} is not a public address; callbacks are not sent there")


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the name has, once; a failure here is a network error, retried later."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OSError(f"{host} has no address")
    return addresses


def open_socket(address: IPAddress, port: int, timeout: float) -> socket.socket:
    """The one place a connection is made: to an address that was checked."""
    return socket.create_connection((str(address), port), timeout=timeout)


class _Pinned:
    """Makes http.client connect to the checked address, whatever the name resolves to now."""

    def __init__(self, addresses: list[IPAddress], port: int):
        self.addresses = addresses
        self.port = port

    def __call__(self, _address, timeout, _source_address=None) -> socket.socket:
        error: OSError | None = None
        for address in self.addresses:
            try:
                return open_socket(address, self.port, timeout)
            except OSError as exc:
                error = exc
        assert error is not None
        raise error


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    allowed: Iterable[IPNetwork] = (),
    timeout: float = 10.0,
    tls_context: ssl.SSLContext | None = None,
) -> Response:
    """POST `body`; raises Refused before any connection, OSError/HTTPException on network trouble."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused("only http:// and https:// callback URLs are called")
    if parts.username is not None or parts.password is not None:
        raise Refused("credentials in the URL are not sent; put a token in the path or query instead")
    host = parts.hostname
    if not host:
        raise Refused("the callback URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Refused("the callback URL has a bad port") from exc
    allowed = list(allowed)
    addresses = resolve(host, port)
    for address in addresses:
        check_address(address, allowed)

    if parts.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=tls_context or ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection._create_connection = _Pinned(addresses, port)  # type: ignore[attr-defined]
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        connection.request(
            "POST", target, body=body, headers={"User-Agent": USER_AGENT, "Content-Type": "application/json", **headers}
        )
        response = connection.getresponse()
        try:
            head = response.read(BODY_LIMIT)
        except (OSError, http.client.HTTPException):
            head = b""  # the status is the answer; a slow or broken body does not change it
        return Response(response.status, head)
    finally:
        connection.close()
