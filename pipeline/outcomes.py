"""What a stage returns, and how it is counted: the pure half of the stage contract (no Beam).

A stage is a pure callable. What it returns for one input (an element, a batch, a group or a
file) is a record, a :class:`~pipeline.records.Drop`, or an iterable of *outcomes*:

- a record: kept, counted as ``out`` (and as ``in`` when the wrapper does not know the inputs);
- a ``Drop``: counted under its reason (``drop:<reason>``), written to rejects with --rejects;
- :class:`Count`: a named count of the stage (``count:<name>``), not a record;
- :class:`Kept`: one input kept as some records (a splitter), one ``out``, with named counts;
- :class:`Weighted`: a record or Drop standing for ``n`` inputs (a batch of rows, a shard);
- :class:`Forward`: a value passed on uncounted, half of a join whose stage counts it later;
- :class:`At`: an outcome of a second stage the same function serves (the file a reader read,
  the copy an id join kept); counted under that stage, its records stay inside the function;
- :class:`To`: an outcome for a named second output of the stage (a reader's labels beside
  its facts), counted as the outcome it holds.

:class:`Tally` turns outcomes into counts and the values to emit; ``pipeline.beam_steps`` is
its only Beam shell, so every stage is counted the same way and a stage never counts by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.records import Drop
from pipeline.stats import IN, OUT, StageCounter, count_key, drop_key

__all__ = ["At", "Count", "Forward", "Kept", "Tally", "To", "Weighted"]


@dataclass(frozen=True)
class Count:
    """A named count of the stage (stats.json ``counts``): something seen, not a record."""

    name: str
    n: int = 1


@dataclass(frozen=True)
class Kept:
    """One input kept as ``records`` (one, or several for a splitter): one ``out``; ``counts``
    are named counts of the stage (e.g. ``{"passages": 3}``)."""

    records: Sequence[Any]
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Weighted:
    """A record or Drop standing for ``n`` inputs (a slice of rows, the documents of a shard)."""

    item: Any
    n: int


@dataclass(frozen=True)
class Forward:
    """A value passed on uncounted: half of a join, counted by its stage where the join completes."""

    value: Any


@dataclass(frozen=True)
class At:
    """An outcome of another stage (``stage``) that the same function serves: counted there, each
    record or Drop one input of it; its records are consumed inside the function, never emitted."""

    stage: str
    item: Any


@dataclass(frozen=True)
class To:
    """An outcome (a record, a Forward value, ...) for the stage's named output ``output`` instead of
    the main one: counted as ``item`` is; what it emits comes out as ``To(output, value)``."""

    output: str
    item: Any


class Tally:
    """Counts outcomes per (stage, key) and yields what goes on: records, Forward values and Drops
    (a Drop's ``stage`` is set to the stage that counted it). Per worker; drained per bundle."""

    def __init__(self) -> None:
        self.counter = StageCounter()

    def one(self, stage: str, result: Any) -> Iterator[Any]:
        """A one-to-one step's result (record, Drop or Kept): one input."""
        self.counter.add(stage, IN)
        yield from self.route(stage, result, count_in=False)

    def each(self, stage: str, outcomes: Iterable[Any], inputs: int | None = None) -> Iterator[Any]:
        """A stream of outcomes. With ``inputs`` (the group's or batch's size) that many are counted
        in; without, every record and Drop is one input (a reader's records, a join's pairs)."""
        if inputs is not None:
            self.counter.add(stage, IN, inputs)
        for item in outcomes:
            yield from self.route(stage, item, count_in=inputs is None)

    def counts(self, stage: str, counts: Mapping[str, int] | None, zeros: bool = False) -> None:
        """Named counts (a step's ``last_counts``, a Kept's); zeros are recorded only with ``zeros``
        (a count name that a stage reports even when nothing was counted)."""
        for name, n in (counts or {}).items():
            if n or zeros:
                self.counter.add(stage, count_key(name), n)

    def route(self, stage: str, item: Any, count_in: bool, emit: bool = True, n: int = 1) -> Iterator[Any]:
        add = self.counter.add
        if isinstance(item, At):
            yield from self.route(item.stage, item.item, count_in=True, emit=False, n=n)
        elif isinstance(item, Weighted):
            yield from self.route(stage, item.item, count_in, emit, n * item.n)
        elif isinstance(item, Forward):
            yield item.value
        elif isinstance(item, To):
            for value in self.route(stage, item.item, count_in, emit, n):
                yield value if isinstance(value, Drop) else To(item.output, value)
        elif isinstance(item, Count):
            if item.n:
                add(stage, count_key(item.name), item.n * n)
        elif isinstance(item, Drop):
            item.stage = stage
            if count_in:
                add(stage, IN, n)
            add(stage, drop_key(item.reason), n)
            yield item
        elif isinstance(item, Kept):
            if count_in:
                add(stage, IN, n)
            add(stage, OUT, n)
            self.counts(stage, item.counts, zeros=True)
            if emit:
                yield from item.records
        else:
            if count_in:
                add(stage, IN, n)
            add(stage, OUT, n)
            if emit:
                yield item
