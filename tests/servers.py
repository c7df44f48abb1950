"""Real HTTP servers on 127.0.0.1 for the tests: pages given as bytes or as handlers that
misbehave on purpose (resets, short bodies, trickles, bombs), optionally over TLS with a
self-signed certificate the test trusts."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

Handler = Callable[[BaseHTTPRequestHandler], None]


def send(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", ctype: str = "text/html; charset=utf-8",
         headers: dict[str, str] | None = None, length: int | None = None) -> None:
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body) if length is None else length))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    if body:
        h.wfile.write(body)
        h.wfile.flush()


def reset(h: BaseHTTPRequestHandler) -> None:
    """Close the connection with a TCP reset (no FIN)."""
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.close_connection = True
    h.connection.close()


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class TestServer:
    """``with TestServer({path: bytes | handler}) as s: s.url(path)``; ``s.hits`` counts requests."""

    __test__ = False  # not a test class

    def __init__(self, routes: dict[str, bytes | str | Handler] | None = None,
                 cert: tuple[Path, Path] | None = None, host: str = "127.0.0.1") -> None:
        self.host = host  # any 127.x.y.z is loopback: one "host" per address for politeness tests
        self.routes: dict[str, bytes | str | Handler] = dict(routes or {})
        self.hits: list[tuple[float, str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.cert = cert
        self.server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        assert self.server is not None
        scheme = "https" if self.cert else "http"
        return f"{scheme}://{self.host}:{self.server.server_address[1]}{path}"

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for _, p, _ in self.hits if p == path)

    def __enter__(self) -> TestServer:
        owner = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with owner.lock:
                    owner.hits.append((time.monotonic(), self.path, dict(self.headers.items())))
                route = owner.routes.get(self.path)
                try:
                    if route is None:
                        send(self, 404, b"<html><body>not found</body></html>")
                    elif callable(route):
                        route(self)
                    else:
                        send(self, 200, route.encode("utf-8") if isinstance(route, str) else route)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass

        self.server = _Quiet((self.host, 0), H)
        if self.cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(self.cert[0]), str(self.cert[1]))
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost and its key (PEM files), for a test to trust."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gongkai test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
