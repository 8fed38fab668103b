"""StageChain: stages fused over a batch count and keep exactly what they would one by one."""

from __future__ import annotations

import pytest

from pipeline.chain import StageChain
from pipeline.outcomes import Tally
from pipeline.records import Drop


def _odd_dropped(x: int):
    return Drop("x", "odd") if x % 2 else x


def _big_dropped(x: int):
    return Drop("x", "big") if x > 10 else x * 10


def _halve(x: int):
    return x // 2


STEPS = [("first", _odd_dropped), ("second", _big_dropped), ("third", _halve)]


def _one_by_one(batch):
    tally, kept, drops = Tally(), [], []
    for x in batch:
        items = [x]
        for stage, step in STEPS:
            items = [o for item in items for o in tally.one(stage, step(item))]
            drops += [d for d in items if isinstance(d, Drop)]
            items = [i for i in items if not isinstance(i, Drop)]
        kept += items
    return kept, sorted((d.stage, d.reason) for d in drops), dict(tally.counter.drained())


def _chained(batches):
    tally, kept, drops = Tally(), [], []
    chain = StageChain(STEPS)
    for batch in batches:
        for item in tally.each("third", chain(batch)):
            (drops if isinstance(item, Drop) else kept).append(item)
    return kept, sorted((d.stage, d.reason) for d in drops), dict(tally.counter.drained())


@pytest.mark.parametrize("size", [1, 3, 7, 100])
def test_a_chain_counts_and_keeps_what_the_stages_would_alone(size):
    data = list(range(30))
    batches = [data[i:i + size] for i in range(0, len(data), size)]
    assert _chained(batches) == _one_by_one(data)


def test_each_stage_sees_the_whole_batch_before_the_next():
    seen = []
    chain = StageChain([("a", lambda x: seen.append(("a", x)) or x), ("b", lambda x: seen.append(("b", x)) or x)])
    list(chain([1, 2, 3]))
    assert seen == [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2), ("b", 3)]


def test_an_empty_chain_is_refused():
    with pytest.raises(ValueError):
        StageChain([])
