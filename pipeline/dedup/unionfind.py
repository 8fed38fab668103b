"""Union-find (disjoint sets) over document ids, for near-duplicate clusters (pure core).

The root of every cluster is its *smallest* id (Python ordering; ids of one union-find
must be mutually comparable, e.g. all ``str``), so the result does not depend on the order
of ``union`` calls or merges: the document kept from a cluster is always the same one.
``find`` compresses paths. ``merge`` folds another union-find in, which is what a Beam
``CombineFn.merge_accumulators`` needs; the object is a plain dict underneath and pickles.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator

__all__ = ["UnionFind"]


class UnionFind:
    """Disjoint sets whose representative is the smallest member.

    >>> uf = UnionFind()
    >>> uf.union("c", "b"); uf.union("b", "a")
    >>> uf.find("c")
    'a'
    >>> uf.clusters()
    [['a', 'b', 'c']]
    """

    __slots__ = ("_parent",)

    def __init__(self, edges: Iterable[tuple[Hashable, Hashable]] = ()) -> None:
        self._parent: dict = {}
        for a, b in edges:
            self.union(a, b)

    def add(self, x: Hashable) -> None:
        """Register ``x`` as a singleton (no-op when already present)."""
        self._parent.setdefault(x, x)

    def find(self, x: Hashable) -> Hashable:
        """The root (smallest member) of ``x``'s set; ``x`` itself when unknown."""
        parent = self._parent
        root = x
        while True:
            p = parent.get(root, root)
            if p == root:
                break
            root = p
        while x != root:  # path compression
            nxt = parent[x]
            parent[x] = root
            x = nxt
        return root

    def union(self, a: Hashable, b: Hashable) -> Hashable:
        """Join the sets of ``a`` and ``b``; returns the root of the union (the smaller root)."""
        parent = self._parent
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if rb < ra:
            ra, rb = rb, ra
        parent[rb] = ra
        return ra

    def merge(self, other: UnionFind) -> UnionFind:
        """Fold ``other`` into this one (in place) and return ``self``."""
        for x, p in other._parent.items():
            if x == p:
                self.add(x)
            else:
                self.union(x, p)
        return self

    def __contains__(self, x: Hashable) -> bool:
        return x in self._parent

    def __len__(self) -> int:
        """Number of registered elements."""
        return len(self._parent)

    def __iter__(self) -> Iterator:
        return iter(self._parent)

    def roots(self) -> dict:
        """``{element: root}`` for every registered element."""
        return {x: self.find(x) for x in list(self._parent)}

    def clusters(self, min_size: int = 2) -> list[list]:
        """The sets with at least ``min_size`` members, each sorted, ordered by their root."""
        groups: dict = {}
        for x in list(self._parent):
            groups.setdefault(self.find(x), []).append(x)
        return [sorted(g) for _, g in sorted(groups.items()) if len(g) >= min_size]

    def duplicates(self) -> Iterator:
        """Every element that is not the root of its set: the documents to remove."""
        for x in list(self._parent):
            if self.find(x) != x:
                yield x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnionFind) and self.roots() == other.roots()

    def __repr__(self) -> str:
        return f"UnionFind({len(self._parent)} elements, {len(self.clusters(1))} sets)"

    def __getstate__(self) -> dict:
        return {"parent": self._parent}

    def __setstate__(self, state: dict) -> None:
        self._parent = state["parent"]
