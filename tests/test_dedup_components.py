"""Star-contraction connected components equal a plain union-find, whatever the rounds."""

import random

import pytest

from pipeline.dedup.components import components
from pipeline.dedup.unionfind import UnionFind


def _reference(edges):
    uf = UnionFind(edges)
    return {x: uf.find(x) for e in edges for x in e}


@pytest.mark.parametrize("rounds", [0, 1, 3])
def test_equal_to_union_find_on_random_graphs(rounds):
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(2, 40)
        edges = [(f"d{rng.randrange(n):03d}", f"d{rng.randrange(n):03d}") for _ in range(rng.randint(1, 60))]
        edges = [e for e in edges if e[0] != e[1]]
        assert components(edges, rounds) == _reference(edges)


def test_a_long_chain_converges_through_the_residual_union_find():
    chain = [(f"d{i:04d}", f"d{i + 1:04d}") for i in range(500)]
    got = components(chain, rounds=1)
    assert set(got.values()) == {"d0000"} and len(got) == 501


def test_earlier_build_ids_sort_first_and_become_roots():
    prev = "\x00prev:web-z"
    assert components([("web-b", "web-a"), ("web-a", prev)])["web-b"] == prev
