"""Count the collectives a piece of code issues (all-reduce, all-gather, reduce-scatter, ...), e.g. to check that
a tensor-parallel block communicates as Megatron's scheme predicts. A TorchDispatchMode: it lets DTensor turn its
operations into collectives first, then counts those."""

from __future__ import annotations

from collections import Counter

import torch
from torch.utils._python_dispatch import TorchDispatchMode

COLLECTIVES = ("all_reduce", "all_gather_into_tensor", "reduce_scatter_tensor", "all_to_all_single", "broadcast",
               "allreduce_", "_allgather_base_", "_reduce_scatter_base_", "allgather_", "reduce_scatter_")


class CollectiveCounter(TorchDispatchMode):
    """``with CollectiveCounter() as c: ...``; then ``c.counts`` maps a collective's name to how often it ran on
    this rank (functional collectives and c10d ops alike; waits not counted)."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if isinstance(func, torch._ops.HigherOrderOperator):
            return func(*args, **kwargs)
        from torch.distributed.tensor import DTensor

        if any(t is DTensor for t in types):
            return NotImplemented  # DTensor first desugars the op into local ops and collectives, seen below
        namespace, _, name = func._schema.name.partition("::")
        if "c10d" in namespace and name in COLLECTIVES:
            self.counts[name] += 1
        return func(*args, **kwargs)
