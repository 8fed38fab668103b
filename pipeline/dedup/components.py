"""Connected components by star contraction (pure core of MinHash clustering).

Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014): alternating
*large-star* and *small-star* steps keep every component's connectivity while turning it
into a star around its smallest id. Each step only needs one node's neighbourhood, so a Beam
job runs it as one shuffle keyed by node, spread over every worker. After a fixed number of
rounds each node takes the smallest id of its neighbourhood as its label; the few edges whose
two ends still have different labels (components the rounds did not finish) are resolved by
a union-find over *labels*, which is small because contraction already merged almost
everything. The final root of every node is the smallest id of its component, as with a plain
union-find, so the result does not depend on the number of rounds.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator

Edge = tuple[Hashable, Hashable]


def large_star(node: Hashable, neighbours: Iterable[Hashable]) -> Iterator[Edge]:
    """Connect every *larger* neighbour of ``node`` to the smallest id of its closed neighbourhood."""
    ns = set(neighbours)
    m = min(ns | {node})
    for v in ns:
        if v > node:
            yield v, m


def small_star(node: Hashable, neighbours: Iterable[Hashable]) -> Iterator[Edge]:
    """Connect ``node`` and its *smaller* neighbours to the smallest of them."""
    smaller = {v for v in neighbours if v <= node}
    m = min(smaller | {node})
    for v in smaller | {node}:
        if v != m:
            yield v, m


def label(node: Hashable, neighbours: Iterable[Hashable]) -> Hashable:
    """The smallest id of ``node``'s closed neighbourhood."""
    return min(set(neighbours) | {node})


def components(edges: Iterable[Edge], rounds: int = 3) -> dict[Hashable, Hashable]:
    """node -> root (smallest id of its component), computed the way the Beam job does it: for
    tests, and as the reference the distributed version must equal."""
    from pipeline.dedup.unionfind import UnionFind

    edges = list(edges)
    for _ in range(rounds):
        edges = list(_step(edges, large_star, both_ways=True))
        edges = list(_step(edges, small_star, both_ways=False))
    hood = _neighbourhoods(edges, both_ways=True)
    labels = {u: label(u, ns) for u, ns in hood.items()}
    residual = UnionFind((labels[a], labels[b]) for a, b in edges if labels[a] != labels[b])
    return {u: residual.find(lab) for u, lab in labels.items()}


def directed(edge: Edge, both_ways: bool) -> Iterator[Edge]:
    """The (node, neighbour) pairs a step groups: both directions for large-star and labels,
    larger -> smaller for small-star."""
    a, b = edge
    if a == b:
        return
    if both_ways:
        yield a, b
        yield b, a
    else:
        yield (a, b) if a > b else (b, a)


def _neighbourhoods(edges: Iterable[Edge], both_ways: bool) -> dict[Hashable, set]:
    hood: dict[Hashable, set] = {}
    for e in edges:
        for u, v in directed(e, both_ways):
            hood.setdefault(u, set()).add(v)
    return hood


def _step(edges, star, both_ways: bool) -> set[Edge]:
    return {e for u, ns in _neighbourhoods(edges, both_ways).items() for e in star(u, ns)}
