import itertools
import pickle
import random

from pipeline.dedup.unionfind import UnionFind


def test_union_find_basic():
    uf = UnionFind()
    assert uf.find("x") == "x" and "x" not in uf
    assert uf.union("doc-3", "doc-2") == "doc-2"
    uf.union("doc-9", "doc-5")
    uf.union("doc-2", "doc-9")
    uf.add("doc-7")
    assert uf.find("doc-9") == "doc-2"
    assert uf.clusters() == [["doc-2", "doc-3", "doc-5", "doc-9"]]
    assert uf.clusters(min_size=1) == [["doc-2", "doc-3", "doc-5", "doc-9"], ["doc-7"]]
    assert sorted(uf.duplicates()) == ["doc-3", "doc-5", "doc-9"]
    assert len(uf) == 5 and "doc-7" in uf


def test_roots_are_smallest_regardless_of_order():
    edges = [("e", "d"), ("b", "c"), ("d", "c"), ("z", "y"), ("a9", "b")]
    expected = None
    for perm in itertools.permutations(edges):
        for flip in (False, True):
            uf = UnionFind((b, a) if flip else (a, b) for a, b in perm)
            roots = uf.roots()
            if expected is None:
                expected = roots
            assert roots == expected
    assert expected["e"] == "a9" and expected["z"] == "y"


def test_random_graph_matches_components():
    rng = random.Random(7)
    ids = [f"id{n:04d}" for n in range(300)]
    edges = [(rng.choice(ids), rng.choice(ids)) for _ in range(250)]
    uf = UnionFind(edges)
    # reference components by BFS
    adj = {i: set() for i in ids}
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    seen, comps = set(), []
    for i in ids:
        if i in seen or not adj[i]:
            continue
        stack, comp = [i], set()
        while stack:
            x = stack.pop()
            if x in comp:
                continue
            comp.add(x)
            stack.extend(adj[x] - comp)
        seen |= comp
        if len(comp) >= 2:
            comps.append(sorted(comp))
    assert uf.clusters() == sorted(comps)
    for comp in comps:
        assert all(uf.find(x) == comp[0] for x in comp)
    # after path compression every element points at its root directly
    for x, p in uf._parent.items():
        assert p == uf.find(x)


def test_merge_two_union_finds_equals_one():
    rng = random.Random(3)
    ids = [f"d{n}" for n in range(200)]
    edges = [(rng.choice(ids), rng.choice(ids)) for _ in range(150)]
    whole = UnionFind(edges)
    left, right = UnionFind(edges[:70]), UnionFind(edges[70:])
    right.add("lonely")
    merged = left.merge(right)
    assert merged is left
    assert merged.clusters() == whole.clusters()
    assert "lonely" in merged and merged.find("lonely") == "lonely"
    # merge order does not matter
    other = UnionFind(edges[70:]).merge(UnionFind(edges[:70]))
    assert other.clusters() == whole.clusters()


def test_pickle_roundtrip():
    uf = UnionFind([("b", "a"), ("c", "b")])
    back = pickle.loads(pickle.dumps(uf))
    assert back == uf and back.find("c") == "a"
