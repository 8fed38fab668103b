"""SSRF guard: refuse URLs whose host resolves to a private, loopback, link-local, multicast
or otherwise non-public address, and any scheme but http/https.

The guard resolves the host itself and the fetcher then connects to the address it
checked (the IP is pinned), so a DNS answer that changes between check and connect (DNS
rebinding) cannot sneak a request to an internal address. Every redirect hop goes through
the guard again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipeline.crawl.urls import ALLOWED_SCHEMES, DEFAULT_PORTS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Blocked(Exception):
    """The URL may not be fetched; ``reason`` names why (for the crawl log)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def address_problem(ip: IPAddress) -> str | None:
    """Why an address is not a public unicast one (None when it is)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for name in ("loopback", "link_local", "multicast", "private", "unspecified", "reserved"):
        if getattr(ip, f"is_{name}"):
            return name
    if not ip.is_global:
        return "not_global"  # shared address space (100.64/10), benchmarking nets, ...
    return None


@dataclass(frozen=True)
class Target:
    """Where a request goes: the checked IP address to connect to, and the port."""

    ip: str
    port: int


class AddressGuard:
    """Resolves hosts and decides whether they may be fetched; answers are cached per host."""

    def __init__(self, allow_private: bool = False, resolver=None) -> None:
        self.allow_private = allow_private
        self._resolver = resolver  # async (host, port) -> list[str]; default: the event loop's getaddrinfo
        self._cache: dict[tuple[str, int], Target | Blocked] = {}

    async def _resolve(self, host: str, port: int) -> list[str]:
        if self._resolver is not None:
            return await self._resolver(host, port)
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return [info[4][0] for info in infos]

    async def check(self, url: str) -> Target:
        """The address to connect to for ``url``; raises Blocked (``unsupported_scheme``,
        ``blocked_address``, ``dns_error``)."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise Blocked("unsupported_scheme", scheme or "none")
        host = (parts.hostname or "").lower()
        port = parts.port or DEFAULT_PORTS[scheme]
        key = (host, port)
        cached = self._cache.get(key)
        if cached is None:
            cached = await self._decide(host, port)
            self._cache[key] = cached
        if isinstance(cached, Blocked):
            raise cached
        return cached

    async def _decide(self, host: str, port: int) -> Target | Blocked:
        literal = True
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            literal = False
            try:
                addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in await self._resolve(host, port)]
            except (OSError, UnicodeError, ValueError) as exc:
                return Blocked("dns_error", f"{host}: {exc}")
            if not addresses:
                return Blocked("dns_error", f"{host}: no address")
        if not self.allow_private:
            # Every address the name resolves to must be public: a name that mixes a public
            # and an internal address is refused rather than trusted half-way.
            for ip in addresses:
                problem = address_problem(ip)
                if problem:
                    what = f"{ip} is {problem}" if literal else f"{host} resolves to {ip} ({problem})"
                    return Blocked("blocked_address", f"{what}; pass --allow-private-hosts to crawl internal hosts")
        return Target(str(addresses[0]), port)
