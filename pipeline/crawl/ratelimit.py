"""Per-host politeness: at most ``concurrency`` requests in flight and requests sent at
least ``interval`` seconds apart, with pauses (Retry-After) pushing the next one back.

The interval runs from the moment a request's headers go out on the wire (the fetcher
reports it through ``Slot.sent``), not from when the crawler decided to send it, so a slow
connection set-up never squeezes two requests closer together at the server."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable


class HostPacer:
    """The request schedule of one host (one per host; the host's owner is a single worker)."""

    def __init__(self, interval: float, concurrency: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        if interval < 0 or concurrency < 1:
            raise ValueError("interval must be >= 0 and concurrency >= 1")
        self.interval = interval
        self.clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._lock = asyncio.Lock()
        self._next = 0.0
        self._last: float | None = None  # when the latest request went out (or was let through)
        self.requests = 0

    def slow_down(self, interval: float) -> None:
        """Never go faster than ``interval`` from now on (e.g. robots.txt Crawl-delay): the
        next request, too, waits ``interval`` from the latest one (robots.txt itself)."""
        self.interval = max(self.interval, interval)
        if self._last is not None:
            self._next = max(self._next, self._last + self.interval)

    def pause(self, seconds: float) -> None:
        """No request starts within ``seconds`` from now (a 429/503 with Retry-After)."""
        self._next = max(self._next, self.clock() + seconds)

    def sent(self) -> None:
        """The request just went out: the next one waits ``interval`` from now."""
        self._last = self.clock()
        self._next = max(self._next, self._last + self.interval)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[HostPacer]:
        """Hold one of the host's request slots, starting no earlier than the schedule allows;
        call ``sent()`` on what it yields when the request is sent."""
        async with self._slots:
            async with self._lock:
                while (wait := self._next - self.clock()) > 0:  # a pause may arrive while waiting
                    await asyncio.sleep(wait)
                self._last = self.clock()
                self._next = self._last + self.interval
                self.requests += 1
            yield self
