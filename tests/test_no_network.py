"""The conftest network guard: names other than localhost and non-loopback connects are refused
before any packet leaves; loopback servers the test starts still work."""

import socket
import urllib.request

import pytest

from tests.conftest import BLOCKED, NetworkBlocked


def test_resolving_a_public_name_is_refused():
    with pytest.raises(NetworkBlocked, match="example.com"):
        socket.getaddrinfo("example.com", 80)
    assert BLOCKED.pop() == "resolve 'example.com'"


def test_connecting_past_loopback_is_refused_even_when_swallowed():
    """An address from the documentation range (192.0.2.0/24): refused before connecting; a URL
    fetch fails at its name lookup, and the attempt is kept for the test's check."""
    with socket.socket() as s, pytest.raises(NetworkBlocked, match="192.0.2.1"):
        s.connect_ex(("192.0.2.1", 80))
    with pytest.raises(NetworkBlocked, match="example.org"):
        urllib.request.urlopen("http://example.org/", timeout=1)
    assert [BLOCKED.pop(), BLOCKED.pop()] == ["resolve 'example.org'", "connect to ('192.0.2.1', 80)"]


@pytest.mark.parametrize(("bind", "host"), [("127.0.0.1", "127.0.0.1"), ("127.0.0.1", "localhost"),
                                          ("127.0.0.2", "127.0.0.2")])
def test_loopback_servers_still_answer(bind, host):
    with socket.create_server((bind, 0)) as server, socket.create_connection(
            (host, server.getsockname()[1]), timeout=5):
        pass


@pytest.mark.parametrize("runner", [[], ["--runner=DirectRunner"], ["--runner", "directrunner"],
                                    ["--runner=apache_beam.runners.direct.direct_runner.DirectRunner"]])
def test_every_spelling_of_the_local_runner_runs_offline(runner):
    """make_pipeline runs Beam's FnApiRunner for each: Beam's DirectRunner would first try to download
    the Prism runner (refused here, and the test failed)."""
    import apache_beam as beam
    from apache_beam.testing.util import assert_that, equal_to

    from pipeline.jobs import make_pipeline

    with make_pipeline(runner) as p:
        assert_that(p | beam.Create([1, 2]) | beam.Map(lambda x: x * 3), equal_to([3, 6]))
