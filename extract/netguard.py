"""Where the crawler may connect: public addresses only, unless a source opts in.

Every connection the fetcher opens goes through :class:`GuardedBackend`: the host is resolved
here, every address it resolves to is checked against the private, loopback, link-local,
multicast and reserved ranges, and the connection is made to the checked address itself (so a
name that resolves differently a moment later cannot slip through). Hosts of sources with
``allow_private = true`` may resolve to private and loopback addresses (the tests and the
simulated portal run on 127.0.0.1).

Numeric host spellings (``0x7f000001``, ``2130706433``, ``127.1``, ``0177.0.0.1``) are what
the system resolver turns them into, and :func:`normalize_host` gives the dotted form.

>>> normalize_host("0x7f000001"), normalize_host("2130706433"), normalize_host("WWW.Gov.CN.")
('127.0.0.1', '127.0.0.1', 'www.gov.cn')
>>> refusal("169.254.169.254") is not None, refusal("8.8.8.8") is None
(True, True)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from collections.abc import Iterable

import httpcore
from httpcore._backends.auto import AutoBackend
from httpcore._backends.base import SOCKET_OPTION, AsyncNetworkBackend, AsyncNetworkStream

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(Exception):
    """A host resolved only to addresses the crawler may not connect to."""


def normalize_host(host: str) -> str:
    """Lower case, no trailing dot, IP addresses in their canonical form (legacy numeric IPv4
    spellings included)."""
    h = host.strip().strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(h))
    except ValueError:
        pass
    if h and all(c in "0123456789abcdefx." for c in h) and any(c.isdigit() for c in h):
        try:
            return socket.inet_ntoa(socket.inet_aton(h))  # 0x7f000001, 2130706433, 127.1, 0177.0.0.1
        except OSError:
            pass
    return h


def refusal(address: str | IPAddress) -> str | None:
    """Why the crawler may not connect to ``address`` (None when it is a public address)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, flag in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                       ("multicast", ip.is_multicast), ("unspecified", ip.is_unspecified),
                       ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if flag:
            return f"{ip} is a {kind} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


class AddressPolicy:
    """Which hosts may resolve to non-public addresses (those of sources with allow_private)."""

    def __init__(self, private_hosts: Iterable[str] = ()) -> None:
        self.private_hosts = {normalize_host(h) for h in private_hosts}

    def allow_private(self, hosts: Iterable[str]) -> None:
        self.private_hosts.update(normalize_host(h) for h in hosts)

    def check(self, host: str, address: str | IPAddress) -> str | None:
        """The reason a connection to ``host`` at ``address`` is refused, or None."""
        why = refusal(address)
        if why is None or normalize_host(host) in self.private_hosts:
            return None
        return f"{why} (host {host}); a source may opt in with allow_private = true"


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (numeric spellings included)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from exc
    out: list[IPAddress] = []
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if ip not in out:
                out.append(ip)
    return out


class GuardedBackend(AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses the policy allows."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self.inner = AutoBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        addresses = await resolve(host, port)
        reasons = []
        for ip in addresses:
            why = self.policy.check(host, ip)
            if why is None:
                return await self.inner.connect_tcp(str(ip), port, timeout=timeout, local_address=local_address,
                                                    socket_options=socket_options)
            reasons.append(why)
        raise BlockedAddress(reasons[0] if reasons else f"{host} resolves to no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        raise BlockedAddress("unix sockets are never used by the crawler")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
