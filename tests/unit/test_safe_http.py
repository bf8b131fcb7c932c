"""Callbacks can't be pointed inside our network: every address checked, the checked one connected to."""

from __future__ import annotations

import ipaddress
import re
import shutil
import socket
import ssl
import subprocess
import threading

import pytest

from app.platform import safe_http
from app.platform.safe_http import Refused, post

PUBLIC = "93.184.216.34"


def answers(*rounds: list[str]):
    """A resolver for *.example.com that gives `rounds[0]` on the first lookup, `rounds[1]` next, and so on."""
    calls: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if not str(host).endswith(".example.com"):  # the test's own loopback sockets
            return real(host, port, *args, **kwargs)
        calls.append(host)
        addresses = rounds[min(len(calls), len(rounds)) - 1]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    return getaddrinfo, calls


class FakeServer:
    """Stands in for the network at `open_socket`: records where it was asked to connect, answers HTTP."""

    def __init__(self, response: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"):
        self.response = response
        self.connected: list[tuple[str, int]] = []
        self.requests: list[tuple[bytes, bytes]] = []

    def open(self, address, port, timeout):
        self.connected.append((str(address), port))
        with socket.create_server(("127.0.0.1", 0)) as listener:
            ours = socket.create_connection(listener.getsockname(), timeout=timeout)
            theirs, _ = listener.accept()
        threading.Thread(target=self._serve, args=(theirs,), daemon=True).start()
        return ours

    def _serve(self, sock: socket.socket) -> None:
        with sock:
            self.requests.append(read_request(sock))
            sock.sendall(self.response)


def read_request(sock: socket.socket) -> tuple[bytes, bytes]:
    """The head and the whole body of one HTTP request."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
    while len(body) < length:
        body += sock.recv(65536)
    return head, body


@pytest.fixture
def server(monkeypatch) -> FakeServer:
    fake = FakeServer()
    monkeypatch.setattr(safe_http, "open_socket", fake.open)
    return fake


@pytest.mark.parametrize(
    "address",
    ["10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "127.8.9.10", "169.254.169.254", "0.0.0.0",  # noqa: S104
     "224.0.0.1", "240.0.0.1", "255.255.255.255", "100.64.0.1", "::1", "::", "fe80::1", "fc00::1",
     "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254"],
)
def test_inside_addresses_are_forbidden(address):
    assert safe_http.forbidden(ipaddress.ip_address(address))
    with pytest.raises(Refused):
        safe_http.check_address(ipaddress.ip_address(address), [])


@pytest.mark.parametrize(
    "address",
    ["2002:7f00:1::", "2002:7f00:1::1", "2002:a9fe:a9fe::1", "2002:c0a8:101::1", "2002:a00:1:1::1",  # 6to4
     "2002:6440:1::1", "2002::1",
     "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::1", "2001:0:7f00:1::",  # Teredo
     "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::a00:1", "64:ff9b::", "64:ff9b:1::a00:1",  # NAT64
     "64:ff9b:1::808:808",
     "::127.0.0.1", "::10.0.0.1", "::169.254.169.254",  # IPv4-compatible
     "::ffff:0:7f00:1", "::ffff:0:a9fe:a9fe", "::ffff:10.0.0.1", "::ffff:100.64.0.1", "::ffff:0.0.0.0",
     "fec0::1"],
)
def test_addresses_that_embed_an_inside_address_are_forbidden(address):
    assert safe_http.forbidden(ipaddress.ip_address(address))
    with pytest.raises(Refused):
        safe_http.check_address(ipaddress.ip_address(address), [])


@pytest.mark.parametrize("address", [PUBLIC, "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1",
                                     "2002:808:808::1", "64:ff9b::808:808"])
def test_public_addresses_are_allowed(address):
    safe_http.check_address(ipaddress.ip_address(address), [])


def test_allowed_networks_open_exactly_what_they_name():
    allowed = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("10.1.0.0/16")]
    safe_http.check_address(ipaddress.ip_address("127.0.0.1"), allowed)
    safe_http.check_address(ipaddress.ip_address("10.1.2.3"), allowed)
    with pytest.raises(Refused):
        safe_http.check_address(ipaddress.ip_address("10.2.0.1"), allowed)
    with pytest.raises(Refused):
        safe_http.check_address(ipaddress.ip_address("169.254.169.254"), allowed)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.com/hook", "http"),
        ("file:///etc/passwd", "http"),
        ("http://10.0.0.1/hook", "10.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://localhost:8080/hook", "127.0.0.1"),
        ("http://[::1]:8080/hook", "::1"),
        ("http://0x7f000001/hook", "127.0.0.1"),
        ("http://user:pw@example.com/hook", "credentials"),
    ],
)
def test_refused_before_any_connection(server, url, words):
    with pytest.raises(Refused, match=re.escape(words)):
        post(url, b"{}", {})
    assert server.connected == []


def test_a_name_that_resolves_inside_is_refused(monkeypatch, server):
    getaddrinfo, _ = answers(["127.0.0.1"])
    monkeypatch.setattr(safe_http.socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(Refused, match="127.0.0.1"):
        post("https://hooks.example.com/x", b"{}", {})
    assert server.connected == []


def test_every_address_of_a_name_is_checked(monkeypatch, server):
    getaddrinfo, _ = answers([PUBLIC, "10.0.0.1"])
    monkeypatch.setattr(safe_http.socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(Refused, match="10.0.0.1"):
        post("http://hooks.example.com/x", b"{}", {})
    assert server.connected == []


def test_dns_answering_differently_the_second_time_cannot_redirect_the_connection(monkeypatch, server):
    getaddrinfo, calls = answers([PUBLIC], ["127.0.0.1"])
    monkeypatch.setattr(safe_http.socket, "getaddrinfo", getaddrinfo)
    response = post("http://hooks.example.com:8080/in?x=1", b'{"a":1}', {"Conveyor-Delivery": "d1"})
    assert response.status == 200
    assert calls == ["hooks.example.com"]  # looked up once
    assert server.connected == [(PUBLIC, 8080)]  # and connected to what was checked
    head, body = server.requests[0]
    assert head.startswith(b"POST /in?x=1 HTTP/1.1\r\n")
    headers = head.split(b"\r\n")[1:]
    assert b"Host: hooks.example.com:8080" in headers and b"Conveyor-Delivery: d1" in headers
    assert body == b'{"a":1}'


def test_dns_answering_inside_first_is_refused_even_if_it_would_answer_outside_next(monkeypatch, server):
    getaddrinfo, _ = answers(["127.0.0.1"], [PUBLIC])
    monkeypatch.setattr(safe_http.socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(Refused):
        post("http://hooks.example.com/x", b"{}", {})
    assert server.connected == []


def test_redirects_are_not_followed_and_bodies_are_cut(monkeypatch, server):
    server.response = (
        b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\nContent-Length: 10000\r\n\r\n" + b"x" * 10000
    )
    getaddrinfo, _ = answers([PUBLIC])
    monkeypatch.setattr(safe_http.socket, "getaddrinfo", getaddrinfo)
    response = post("http://hooks.example.com/x", b"{}", {})
    assert response.status == 302
    assert len(response.body) == safe_http.BODY_LIMIT
    assert server.connected == [(PUBLIC, 80)]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=hooks.example.com",
         "-addext", "subjectAltName=DNS:hooks.example.com", "-keyout", folder / "key.pem", "-out", folder / "cert.pem"],
        check=True, capture_output=True,
    )
    return folder / "cert.pem", folder / "key.pem"


class TlsServer:
    """A real TLS server on loopback that notes the name each client asked for (SNI)."""

    def __init__(self, cert, key):
        self.names: list[str | None] = []
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.context.sni_callback = lambda sock, name, ctx: self.names.append(name)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return  # closed at the end of the test
            try:
                with self.context.wrap_socket(raw, server_side=True) as sock:
                    read_request(sock)
                    sock.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
            except (OSError, ssl.SSLError):
                pass  # the client gave up on the certificate


def test_tls_checks_the_certificate_against_the_name_not_the_address(monkeypatch, certificate):
    cert, key = certificate
    tls = TlsServer(cert, key)
    getaddrinfo, _ = answers([PUBLIC])
    monkeypatch.setattr(safe_http.socket, "getaddrinfo", getaddrinfo)
    # the checked public address stands for the loopback server
    monkeypatch.setattr(safe_http, "open_socket", lambda address, port, timeout: socket.create_connection(
        ("127.0.0.1", tls.port), timeout=timeout))
    context = ssl.create_default_context(cafile=str(cert))
    assert post("https://hooks.example.com/x", b"{}", {}, tls_context=context).status == 204
    assert tls.names == ["hooks.example.com"]
    with pytest.raises(ssl.SSLCertVerificationError):
        post("https://other.example.com/x", b"{}", {}, tls_context=context)
    tls.listener.close()
