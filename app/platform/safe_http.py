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


# IPv6 forms that carry an IPv4 address inside them: a relay or translator connects to that one
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix: the IPv4 address in the last 32 bits
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # a network's own translator, to wherever it is set up
TEREDO = ipaddress.ip_network("2001::/32")  # a tunnel through a relay; its embedded client can't be trusted
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # SIIT
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # the deprecated ::a.b.c.d
SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, still routed inside some networks


def forbidden(address: IPAddress) -> bool:
    """Loopback, private, link-local (cloud metadata), multicast, reserved, unspecified..., and any
    IPv6 address that embeds an IPv4 address which is one of these (mapped, NAT64, 6to4, ...)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in TEREDO or address in NAT64_LOCAL or address in SITE_LOCAL:
            return True
        inner = embedded_ipv4(address)
        if inner is not None:
            return forbidden(inner)  # judged as the address it leads to
        if address.sixtofour is not None and forbidden(address.sixtofour):
            return True
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global  # shared address space (100.64.0.0/10) and the like
    )


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, -translated, -compatible, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64 or address in IPV4_TRANSLATED or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


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
