"""Per-host politeness: at most ``concurrency`` requests in flight and requests sent at
least ``interval`` seconds apart, with pauses (Retry-After) pushing the next one back.

The interval runs from the moment a request's headers go out on the wire, not from when the
crawler decided to send it, so a slow connection set-up never squeezes two requests closer
together at the server. With a ``lead``, a slot opens that long before the request is due:
the fetcher builds the request and takes a connection meanwhile, and ``Slot.send()`` (awaited
when the headers are about to go out) waits the rest. The time that set-up takes then no
longer adds to every interval; only the event loop's wake-up delay does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable


class Slot:
    """One request's place in its host's schedule (see ``HostPacer.slot``)."""

    def __init__(self, pacer: HostPacer, due: float) -> None:
        self.pacer = pacer
        self.due = due  # the earliest time this request may go out
        self.sent_at: float | None = None

    async def send(self) -> None:
        """Wait until the request may go out, then record that it does (call it right before
        the request's headers are written)."""
        p = self.pacer
        # The check and the record below have no await between them, so two slots of one
        # host (--host-concurrency > 1) can never both pass for the same moment.
        while (wait := max(self.due, p._not_before()) - p.clock()) > 0:  # a pause may arrive while waiting
            await asyncio.sleep(wait)
        p._record(self)


class HostPacer:
    """The request schedule of one host (one per host; the host's owner is a single worker)."""

    def __init__(self, interval: float, concurrency: int = 1, clock: Callable[[], float] = time.monotonic,
                 lead: float = 0.0) -> None:
        if interval < 0 or concurrency < 1 or lead < 0:
            raise ValueError("interval and lead must be >= 0 and concurrency >= 1")
        self.interval = interval
        self.lead = lead
        self.clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._lock = asyncio.Lock()
        self._next = 0.0  # the next slot's due time (slots granted but not yet sent keep their place)
        self._hold = 0.0  # no request before this (Retry-After)
        self._last: float | None = None  # when the latest request went out
        self.requests = 0

    def slow_down(self, interval: float) -> None:
        """Never go faster than ``interval`` from now on (e.g. robots.txt Crawl-delay): the
        next request, too, waits ``interval`` from the latest one (robots.txt itself)."""
        self.interval = max(self.interval, interval)  # _not_before() measures from the latest request

    def pause(self, seconds: float) -> None:
        """No request starts within ``seconds`` from now (a 429/503 with Retry-After)."""
        self._hold = max(self._hold, self.clock() + seconds)

    def _not_before(self) -> float:
        """The earliest time any request may go out: an interval after the latest, and no pause."""
        return max(self._hold, -1.0 if self._last is None else self._last + self.interval)

    def _record(self, slot: Slot) -> None:
        now = self.clock()
        slot.sent_at = now
        self._last = now if self._last is None else max(self._last, now)
        self._next = max(self._next, self._last + self.interval)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Hold one of the host's request slots, opened ``lead`` seconds before the schedule
        lets the request go out; await ``send()`` on what it yields right before sending.
        A slot left without ``send()`` (the connection failed) counts as a request sent then."""
        async with self._slots:
            async with self._lock:
                while (wait := max(self._next, self._not_before()) - self.lead - self.clock()) > 0:
                    await asyncio.sleep(wait)
                slot = Slot(self, max(self._next, self._not_before()))
                self._next = slot.due + self.interval
                self.requests += 1
            try:
                yield slot
            finally:
                if slot.sent_at is None:
                    self._record(slot)
