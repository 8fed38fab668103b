"""SSRF guard: refuse URLs whose host resolves to a private, loopback, link-local, multicast
or otherwise non-public address, and any scheme but http/https.

An intranet (or a test server on loopback) is crawled by naming its addresses in an
:class:`AllowList` (``--allow-hosts 10.0.0.0/8,127.0.0.1``): only those open up, so a
redirect or a link to any other internal address is still refused. Link-local addresses,
cloud metadata endpoints among them (169.254.169.254, ...), stay refused even inside an
allowed range: only an address named exactly lets one through.

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


# Cloud metadata services: credentials live there, so a range never opens them (only an exact name).
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "169.254.169.253", "fd00:ec2::254", "100.100.100.200",
))


class AllowList:
    """Internal addresses the crawl may reach: single addresses and CIDR ranges.

    A range opens the private, loopback and shared addresses it contains; link-local and
    metadata addresses are opened only by naming them exactly."""

    def __init__(self, entries: list[str] | tuple[str, ...] = ()) -> None:
        self.entries = tuple(e.strip() for e in entries if e.strip())
        self.exact: set[IPAddress] = set()
        self.ranges: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for e in self.entries:
            try:
                if "/" in e:
                    self.ranges.append(ipaddress.ip_network(e, strict=False))
                else:
                    self.exact.add(ipaddress.ip_address(e))
            except ValueError as exc:
                raise ValueError(f"--allow-hosts {e!r}: not an IP address or CIDR range ({exc})") from exc

    def __bool__(self) -> bool:
        return bool(self.entries)

    def allows(self, ip: IPAddress) -> bool:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip in self.exact:
            return True
        if ip in METADATA_ADDRESSES or ip.is_link_local:
            return False
        return any(ip.version == net.version and ip in net for net in self.ranges)


@dataclass(frozen=True)
class Target:
    """Where a request goes: the checked IP address to connect to, and the port."""

    ip: str
    port: int


class AddressGuard:
    """Resolves hosts and decides whether they may be fetched; answers are cached per host."""

    def __init__(self, allow: AllowList | None = None, resolver=None) -> None:
        self.allow = allow or AllowList()
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
        # Every address the name resolves to must be public or allowed: a name that mixes a
        # public and an internal address is refused rather than trusted half-way.
        for ip in addresses:
            problem = address_problem(ip)
            if problem and not self.allow.allows(ip):
                what = f"{ip} is {problem}" if literal else f"{host} resolves to {ip} ({problem})"
                hint = ("link-local and metadata addresses open only when named exactly in --allow-hosts"
                        if ip in METADATA_ADDRESSES or getattr(ip, "is_link_local", False)
                        else "name it in --allow-hosts (an address or CIDR range) to crawl internal hosts")
                return Blocked("blocked_address", f"{what}; {hint}")
        return Target(str(addresses[0]), port)
