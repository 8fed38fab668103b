"""Deterministic low-discrepancy mixing of several sources by weight (stride scheduling).

The ``j``-th sample of source ``s`` gets the virtual time ``(j + phase_s) / w_s``; the global
sample order is all virtual times merged in increasing order (ties broken by source order).
After any ``n`` samples each source has been drawn ``w_s * n`` times give or take one, so the
realised proportions match the weights to ``(number of sources) / n`` at every prefix, far
tighter than random draws (whose error shrinks only like ``1 / sqrt(n)``). The order is a pure
function of the weights and phases, so the per-source counts alone say where it stands: a
resume continues it exactly. Phases in ``(0, 1)`` come from the seed, so different seeds
interleave differently.
"""

from __future__ import annotations

import math

import numpy as np


class MixSchedule:
    """Which source each global sample comes from, given the weights (normalised here)."""

    def __init__(self, names: list[str], weights: list[float], seed: int) -> None:
        if not names or len(names) != len(weights):
            raise ValueError("MixSchedule: one weight per source, at least one source")
        w = np.asarray(weights, dtype=np.float64)
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ValueError(f"MixSchedule: weights must be positive numbers, got {weights}")
        self.names = list(names)
        self.weights = w / w.sum()
        self.phases = np.random.default_rng([seed, 0x4D4958]).uniform(0.05, 0.95, size=len(names))

    def _time(self, s: int, j: np.ndarray) -> np.ndarray:
        return (j + self.phases[s]) / self.weights[s]

    def next_block(self, counts: list[int], n: int) -> tuple[np.ndarray, np.ndarray]:
        """The next ``n`` samples after ``counts`` (samples drawn so far per source).

        Returns ``(source index, index within that source)`` arrays of length ``n``.
        """
        extra = 2
        while True:
            srcs, idxs, times = [], [], []
            quota = []
            for s, c in enumerate(counts):
                k = int(math.ceil(self.weights[s] * n)) + extra
                quota.append(k)
                j = np.arange(c, c + k, dtype=np.int64)
                srcs.append(np.full(k, s, dtype=np.int64))
                idxs.append(j)
                times.append(self._time(s, j))
            src, idx, t = np.concatenate(srcs), np.concatenate(idxs), np.concatenate(times)
            order = np.lexsort((src, t))[:n]
            taken = np.bincount(src[order], minlength=len(counts))
            if np.all(taken < np.asarray(quota)):  # every source had a candidate left: the merge is exact
                return src[order], idx[order]
            extra *= 4
