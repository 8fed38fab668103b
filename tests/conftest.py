import ipaddress
import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Hugging Face libraries call home unless offline (datasets' load_dataset counts each load on S3);
# set before any test imports them, and inherited by subprocesses.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models run fastest on one CPU thread (more threads only contend on a shared machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class NetworkBlocked(RuntimeError):
    """A test tried to resolve or connect to a host that is not this machine's loopback."""


LOOPBACK_NAMES = frozenset({"", "localhost", "ip6-localhost", "ip6-loopback"})
BLOCKED: list[str] = []  # every refused attempt, so that one a library swallows still fails its test


def is_local(host: str | bytes | None, resolving: bool) -> bool:
    """Whether ``host`` stays on this machine: a loopback name or address (127.0.0.0/8, ::1, also
    IPv4-mapped). When ``resolving``, any numeric address passes too: turning it into a socket
    address asks no DNS server (the crawler's SSRF guard resolves public literals in its tests)."""
    if host is None:
        return True
    name = (host.decode() if isinstance(host, bytes) else host).strip("[]").rstrip(".").lower()
    try:
        ip = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return name in LOOPBACK_NAMES or name.endswith(".localhost")
    return resolving or (getattr(ip, "ipv4_mapped", None) or ip).is_loopback


def _refuse(what: str) -> None:
    BLOCKED.append(what)
    raise NetworkBlocked(f"tests may not use the network: {what} (only loopback servers the test starts)")


@pytest.fixture(scope="session", autouse=True)
def no_network():
    """No test reaches past loopback: resolving a name other than localhost (``getaddrinfo``,
    ``gethostbyname``) or connecting a TCP socket to a non-loopback address raises
    ``NetworkBlocked``, before any packet leaves. Unix sockets and loopback servers work as before.
    In this process only (subprocesses are not covered)."""
    real = socket.getaddrinfo, socket.gethostbyname, socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host, *args, **kwargs):
        if not is_local(host, resolving=True):
            _refuse(f"resolve {host!r}")
        return real[0](host, *args, **kwargs)

    def gethostbyname(host):
        if not is_local(host, resolving=True):
            _refuse(f"resolve {host!r}")
        return real[1](host)

    def check(sock: socket.socket, address) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type == socket.SOCK_DGRAM:
            return  # a datagram socket's connect sends nothing, it picks a route (distributed's get_ip)
        if not is_local(address[0], resolving=False):
            _refuse(f"connect to {address!r}")

    def connect(self, address):
        check(self, address)
        return real[2](self, address)

    def connect_ex(self, address):
        check(self, address)
        return real[3](self, address)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket, "getaddrinfo", getaddrinfo)
        mp.setattr(socket, "gethostbyname", gethostbyname)
        mp.setattr(socket.socket, "connect", connect)
        mp.setattr(socket.socket, "connect_ex", connect_ex)
        yield


@pytest.fixture(autouse=True)
def no_swallowed_network_attempt(no_network):
    """Fail a test whose code caught ``NetworkBlocked`` (Beam's runner fallback, a retry loop)."""
    start = len(BLOCKED)
    yield
    if len(BLOCKED) > start:
        pytest.fail(f"network access attempted and refused: {BLOCKED[start:]}")
