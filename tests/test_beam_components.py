"""The Beam connected components (``pipeline.beam_dedup.ConnectedComponents``) equal a plain
union-find, with repeated and reversed edges, whatever the rounds."""

import random

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipeline.beam_dedup import ConnectedComponents
from pipeline.dedup.unionfind import UnionFind
from pipeline.jobs import make_pipeline


def _graph():
    """Random small components, a long chain (left to the residual union-find) and every edge
    once more, some reversed."""
    rng = random.Random(11)
    edges = [(f"d{rng.randrange(60):03d}", f"d{rng.randrange(60):03d}") for _ in range(70)]
    edges += [(f"c{i:03d}", f"c{i + 1:03d}") for i in range(40)]
    edges = [e for e in edges if e[0] != e[1]]
    return edges + [(b, a) if i % 2 else (a, b) for i, (a, b) in enumerate(edges)]


@pytest.mark.parametrize("rounds", [1, 3])
def test_equal_to_union_find(rounds):
    edges = _graph()
    uf = UnionFind(edges)
    expected = sorted({(x, uf.find(x)) for e in edges for x in e})
    with make_pipeline([]) as p:
        roots = p | beam.Create(edges) | ConnectedComponents(rounds)
        assert_that(roots, equal_to(expected))
