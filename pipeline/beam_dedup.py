"""Beam shell of deduplication: exact (hash of normalized text) and MinHash LSH near-dup.

Both return the same outputs as every stage (main, ``stats``, ``rejects``), so a corpus
job plugs them in with ``CorpusRun.apply``. What runs where:

- exact: hash per document (distributed), GroupByKey of the *ids* on the hash (distributed
  shuffle; a page copied a million times costs a million ids there, never its texts), the
  keep rule (:func:`pipeline.dedup.exact.exact_verdicts`: the smallest id survives) per hash,
  then the verdicts joined back to the documents by (id, hash).
- MinHash: signatures in batches (distributed, vectorized), the (band key, id) entries of many
  documents packed per partition of the key space (:mod:`pipeline.dedup.bands`), GroupByKey on
  the partition (distributed), each partition's buckets found by sorting its keys, candidate
  edges from each bucket, then
  connected components by star contraction (:class:`ConnectedComponents`: a few rounds of
  shuffles keyed by node, then a union-find over only the labels the rounds left apart), so
  no worker holds the whole duplicate graph. Clusters are grouped by root and the documents
  to remove are joined back by id with CoGroupByKey (distributed).

Documents wait for their verdict parked (:func:`spill_folder`): on Beam's local runner, which holds
a join's input in memory, they are written to spill files (:mod:`pipeline.dedup.spill`), no join
of documents is made: only the verdicts of the dropped documents are made (exact: joined by name
to the spill file that holds each, so a worker holds one file's at a time; MinHash: keyed by id,
a dict side input), and each file is read back once, in order, so the runner holds no document;
elsewhere
(or with ``--dedup_spill_dir memory``) they wait packed (:mod:`pipeline.dedup.packed`: a
zstd-compressed pickle) in a CoGroupByKey, unless ``--dedup_spill_dir`` names a folder every
worker shares.

With ``against`` (an earlier build's output directory), the earlier build's saved hashes
or signatures join the grouping under ids that sort before every new id, so a cluster
with an earlier document removes all of its new members.
"""

from __future__ import annotations

import logging

import apache_beam as beam
import numpy as np
from apache_beam.transforms.combiners import ToSetCombineFn
from apache_beam.transforms.window import GlobalWindows

from pipeline import beam_io
from pipeline.beam_dedup_spill import SPILL_FILES, Park, Unpark, read_back, read_back_by_file, spill_folder
from pipeline.beam_steps import REJECTS, STATS, FlatStep, GroupStep, WriteParquet
from pipeline.dedup.removals import PREVIOUS, cluster_removals, removal_outcomes
from pipeline.dedup.spill import spill_file_of

log = logging.getLogger("corpusforge")

INDEX_FILES = "index_files"  # extra output: the saved index files, listed in manifest.json
EXACT_DIR = "dedup/exact"
MINHASH_DIR = "dedup/minhash"
# Arrow bytes an index writer buffers before it writes a row group (Beam's default, 64 MB, made
# the signature index the largest thing a MinHash worker held on a large bundle).
INDEX_ROW_GROUP_BYTES = 16 << 20


# ---------------------------------------------------------------- exact ----


def _new_verdicts(entries):
    """One hash's entries, ``("new", id, *extra)`` or ``("old", id)`` -> ``((id, *extra), verdict)``
    for each new document, in id order (:func:`pipeline.dedup.exact.exact_verdicts`)."""
    from pipeline.dedup.exact import exact_verdicts

    new = sorted(e[1:] for e in entries if e[0] == "new")
    old = [e[1] for e in entries if e[0] == "old"]
    return zip(new, exact_verdicts([n[0] for n in new], old), strict=True)


def _verdicts(element):
    """(hash, [("new", id) | ("old", id)]) -> ((id, hash), verdict) for each new document."""
    key, entries = element
    for _, v in _new_verdicts(entries):
        yield (v.id, key), v


def _drop_verdicts(element):
    """(hash, [("new", id, reference) | ("old", id)]) -> (spill file, (reference, verdict)) for each
    new document dropped; the kept one gets none (no verdict means kept when read back)."""
    for (_, ref), v in _new_verdicts(element[1]):
        if v.reason is not None:
            yield spill_file_of(ref), (ref, v)


def _exact_read_back(ref: bytes, doc, drops: dict):
    """A parked document with its verdict: the dropped one's, else kept (what ``_apply_verdicts`` takes)."""
    from pipeline.dedup.exact import ExactVerdict

    return doc.id, {"doc": [doc], "verdict": [drops.get(ref) or ExactVerdict(doc.id, None, "", False)]}


def _apply_verdicts(_key, joined: dict):
    """((id, hash), {"doc": [docs], "verdict": [verdicts]}) -> the kept docs; the others dropped."""
    from pipeline.dedup.exact import apply_exact_verdicts

    return apply_exact_verdicts(joined["doc"], joined["verdict"])


class ExactDedup(beam.PTransform):
    """Remove documents whose normalized text equals another's; the smallest id survives."""

    def __init__(self, stage: str, output: str, keep_rejects: bool = False, against: str | None = None) -> None:
        super().__init__(label=stage)
        self.stage = stage
        self.output = output
        self.keep_rejects = keep_rejects
        self.against = against

    def expand(self, docs):
        from pipeline.dedup.exact import exact_key as text_hash

        hashed = docs | "Hash" >> beam.Map(lambda d: (text_hash(d.text), d))
        index_rows = hashed | "IndexRow" >> beam.Map(lambda kv: {"id": kv[1].id, "hash": kv[0]})
        # Only ids cross the shuffle on the hash; documents are joined back by (id, hash), or,
        # parked in spill files, read back file by file with the verdicts of the dropped ones.
        folder = spill_folder(docs.pipeline, self.stage)
        if folder is None:
            tagged = hashed | "TagNew" >> beam.MapTuple(lambda h, d: (h, ("new", d.id)))
            by_id = (hashed | "KeyById" >> beam.MapTuple(lambda h, d: ((d.id, h), d))
                     | "Park" >> beam.ParDo(Park(None)))
        else:
            parked = (hashed | "KeyById" >> beam.MapTuple(lambda h, d: ((h, d.id), d))
                      | "Park" >> beam.ParDo(Park(folder)).with_outputs(SPILL_FILES, main="refs"))
            tagged = parked["refs"] | "TagNew" >> beam.MapTuple(lambda k, ref: (k[0], ("new", k[1], ref)))
        if self.against:
            previous = docs.pipeline | "ReadPrevious" >> beam.io.ReadFromParquet(
                beam_io.join(self.against, EXACT_DIR, "*.parquet"))
            old = previous | "TagOld" >> beam.Map(lambda r: (r["hash"], ("old", r["id"])))
            tagged = (tagged, old) | "WithPrevious" >> beam.Flatten()
            # The saved index carries the earlier entries forward, so builds chain: C against B
            # also sees what A had.
            index_rows = (index_rows, previous) | "CarryForward" >> beam.Flatten()
        index_files = index_rows | "SaveIndex" >> WriteParquet(
            beam_io.join(self.output, EXACT_DIR, "part"), _exact_schema(), INDEX_ROW_GROUP_BYTES)
        grouped = tagged | "GroupByHash" >> beam.GroupByKey()
        if folder is None:
            verdicts = grouped | "KeepSmallestId" >> beam.FlatMap(_verdicts)
            joined = ({"doc": by_id, "verdict": verdicts} | "JoinVerdicts" >> beam.CoGroupByKey()
                      | "Unpark" >> beam.ParDo(Unpark("doc")))
        else:
            drops = grouped | "KeepSmallestId" >> beam.FlatMap(_drop_verdicts)
            joined = read_back_by_file(docs.pipeline, folder, parked[SPILL_FILES], drops, _exact_read_back)
        outputs = (joined
                   | "ApplyVerdicts" >> GroupStep(self.stage, _apply_verdicts, self.keep_rejects, part="doc"))
        return {"out": outputs["out"], STATS: outputs[STATS], REJECTS: outputs[REJECTS], INDEX_FILES: index_files}


def _exact_schema():
    import pyarrow as pa

    return pa.schema([pa.field("id", pa.string()), pa.field("hash", pa.string())])


def _minhash_schema():
    import pyarrow as pa

    return pa.schema([pa.field("id", pa.string()), pa.field("signature", pa.list_(pa.uint32()))])


# -------------------------------------------------------------- minhash ----


class _Signatures:
    """A batch of documents -> (id, signature, band keys or None, shingle-hash set or None).

    Signatures and band keys are computed for the whole batch in one vectorized step.
    Documents with no shingles (empty text) get no band keys, so they are never clustered.
    The MinHasher is built on the first call on each worker (it is not shipped).
    """

    def __init__(self, params) -> None:
        self.params = params
        self.hasher = None

    def __getstate__(self) -> dict:
        return {"params": self.params, "hasher": None}

    def _hasher(self):
        if self.hasher is None:
            from pipeline.dedup.minhash import MinHasher

            self.hasher = MinHasher(self.params)
        return self.hasher

    def __call__(self, batch):
        hasher = self._hasher()
        sigs = hasher.signatures([d.text for d in batch])
        keys, empty = hasher.band_key_array(sigs)
        verify = self.params.verify_threshold is not None
        if verify:
            from pipeline.dedup.shingles import shingle_hash_set

            cfg = self.params.shingle_config
        for j, doc in enumerate(batch):
            shingles = shingle_hash_set(doc.text, cfg) if verify else None
            yield doc.id, sigs[j], None if empty[j] else keys[j].tolist(), shingles

    def previous(self, row):
        """A saved signature row of an earlier build -> the same tuple as a new document's."""
        hasher = self._hasher()
        sig = np.asarray(row["signature"], dtype=np.uint32)
        keys = None if hasher.is_empty(sig) else hasher.band_keys(sig)
        yield PREVIOUS + row["id"], sig, keys, None


class _BandBlobs(beam.DoFn):
    """(id, signature, band keys, shingles) -> (partition, blob of band entries) (:mod:`pipeline.dedup.bands`):
    the entries of many documents per blob, so the band shuffle holds a few thousand blobs, not
    one element per band of every document. Shingle sets stay out of the band shuffle:
    verification joins them to the (far fewer) candidate edges instead."""

    def start_bundle(self) -> None:
        from pipeline.dedup.bands import BandBuffer

        self.buffer = BandBuffer()

    def process(self, element):
        doc_id, _, keys, _ = element
        if keys:
            self.buffer.add(doc_id, keys)
        if self.buffer.full:
            yield from self.buffer.drain()

    def finish_bundle(self):
        for entry in self.buffer.drain():
            yield GlobalWindows.windowed_value(entry)


def _partition_edges(element, verify: bool):
    """(partition, blobs) -> the candidate edges of each LSH bucket in it (:func:`_bucket_edges`)."""
    from pipeline.dedup.bands import buckets

    _, blobs = element
    for bucket in buckets(blobs):
        yield from _bucket_edges(bucket, verify)


def _bucket_edges(element, verify: bool, max_pairs_bucket: int = 64):
    """Candidate edges of one LSH bucket: a star from the smallest id; when verifying, every
    pair of a small bucket (so a pair is not lost because the star's centre differs)."""
    _, members = element
    members = sorted(set(members))
    if len(members) < 2:
        return
    if verify and len(members) <= max_pairs_bucket:
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                yield a, b
        return
    for other in members[1:]:
        yield members[0], other


def _attach_first(element):
    """id -> {edges: [(a, b)...], shingles: [set]} -> (b, (a, shingles of a)) per edge."""
    _, grouped = element
    sets = grouped["shingles"]
    shingles = sets[0] if sets else None
    for a, b in grouped["edges"]:
        yield b, (a, shingles)


def _verify_edges(element, threshold: float):
    """b -> {half: [(a, shingles a)...], shingles: [set of b]} -> (a, b) when Jaccard passes.
    Earlier builds keep no shingles: their pairs are trusted."""
    from pipeline.dedup.shingles import jaccard

    b, grouped = element
    sets = grouped["shingles"]
    sh_b = sets[0] if sets else None
    for a, sh_a in grouped["half"]:
        if sh_a is None or sh_b is None or jaccard(sh_a, sh_b) >= threshold:
            yield a, b


def _edge_set(edge):
    """One residual edge as a union-find of its two labels (what ``_merge_union_finds`` merges)."""
    from pipeline.dedup.unionfind import UnionFind

    return UnionFind([edge])


def _merge_union_finds(union_finds):
    """Union-finds (of edges, or merged already) -> one; associative, so Beam combines it anywhere."""
    from pipeline.dedup.unionfind import UnionFind

    merged = UnionFind()
    for uf in union_finds:
        merged.merge(uf)
    return merged


def _star_round(edges, name: str, star, both_ways: bool, distinct: bool = False):
    """One star step: its edges may repeat (the next step's neighbour sets drop the repeats),
    unless ``distinct``. A node's neighbours are gathered as a set by a combine, so duplicate
    edges are dropped before the shuffle too: one shuffle, not a group and a ``Distinct``."""
    from pipeline.dedup.components import directed

    edges = (
        edges
        | f"{name}Direct" >> beam.FlatMap(directed, both_ways)
        | f"{name}Group" >> beam.CombinePerKey(ToSetCombineFn())
        | name >> beam.FlatMapTuple(star)
    )
    return edges | f"{name}Distinct" >> beam.Distinct() if distinct else edges


def _edge_by_first(edge):
    return edge[0], edge


def _with_first_label(element):
    """node -> {edge: [(a, b)...], label: [label of a]} -> (b, label of a) per edge."""
    _, grouped = element
    (lab,) = grouped["label"]
    for _, b in grouped["edge"]:
        yield b, lab


def _residual(element):
    """node b -> {first: [labels of a...], label: [label of b]} -> the label pairs still apart."""
    _, grouped = element
    (lab_b,) = grouped["label"]
    for lab_a in grouped["first"]:
        if lab_a != lab_b:
            yield lab_a, lab_b


def _root(node_label, residual):
    node, lab = node_label
    return node, residual.find(lab)


class ConnectedComponents(beam.PTransform):
    """Edges -> (node, root) for every node of an edge, root = the smallest id of its component.

    Star contraction in ``rounds`` distributed rounds (:mod:`pipeline.dedup.components`), then
    a union-find over the labels that the rounds left apart, which is small: no worker holds
    the whole graph."""

    def __init__(self, rounds: int = 3) -> None:
        super().__init__()
        self.rounds = rounds

    def expand(self, edges):
        from pipeline.dedup.components import directed, label, large_star, small_star

        for r in range(self.rounds):
            edges = _star_round(edges, f"LargeStar{r}", large_star, True)
            # the last round's edges are joined to labels below, one entry per edge: no repeats there
            edges = _star_round(edges, f"SmallStar{r}", small_star, False, distinct=r == self.rounds - 1)
        labels = (
            edges
            | "LabelDirect" >> beam.FlatMap(directed, True)
            | "LabelGroup" >> beam.CombinePerKey(ToSetCombineFn())
            | "Label" >> beam.MapTuple(lambda u, ns: (u, label(u, ns)))
        )
        first = (
            {"edge": edges | "EdgeByFirst" >> beam.Map(_edge_by_first), "label": labels}
            | "JoinFirstLabel" >> beam.CoGroupByKey()
            | "FirstLabel" >> beam.FlatMap(_with_first_label)
        )
        residual = (
            ({"first": first, "label": labels} | "JoinSecondLabel" >> beam.CoGroupByKey())
            | "Residual" >> beam.FlatMap(_residual)
            | "ResidualSets" >> beam.Map(_edge_set)
            | "ResidualComponents" >> beam.CombineGlobally(_merge_union_finds)
        )
        return labels | "Root" >> beam.Map(_root, beam.pvalue.AsSingleton(residual))


def _cluster_removals(cluster):
    """(root, members) -> (member id, kept id) per removed member; cluster counts on ``stats``."""
    root, members = cluster
    return cluster_removals(root, members)


def _minhash_read_back(_ref: bytes, doc, roots: dict):
    """A parked document with the root it is removed for, if any (what ``_join_removals`` takes)."""
    root = roots.get(doc.id)
    return doc.id, {"doc": [doc], "root": [] if root is None else [root]}


def _join_removals(_doc_id, grouped: dict):
    """id -> {doc: [docs], root: [roots it was removed for]} -> the doc kept, or dropped."""
    return removal_outcomes(grouped["doc"], grouped["root"])


class MinHashDedup(beam.PTransform):
    """Near-duplicate removal with MinHash LSH (FineWeb defaults: 112 perms, 14 bands x 8 rows)."""

    def __init__(self, stage: str, params, output: str, keep_rejects: bool = False,
                 against: str | None = None) -> None:
        super().__init__(label=stage)
        self.stage = stage
        self.params = params
        self.output = output
        self.keep_rejects = keep_rejects
        self.against = against

    def expand(self, docs):
        p = self.params
        sigs = (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=16, max_batch_size=512)
            | "Signatures" >> beam.FlatMap(_Signatures(p))
        )
        index_rows = sigs | "SigRow" >> beam.Map(lambda s: {"id": s[0], "signature": s[1].tolist()})
        if self.against:
            previous = docs.pipeline | "ReadPrevious" >> beam.io.ReadFromParquet(
                beam_io.join(self.against, MINHASH_DIR, "*.parquet"))
            old = previous | "OldSignatures" >> beam.FlatMap(_Signatures(p).previous)
            sigs = (sigs, old) | "WithPrevious" >> beam.Flatten()
            index_rows = (index_rows, previous) | "CarryForward" >> beam.Flatten()  # builds chain
        index_files = index_rows | "SaveSignatures" >> WriteParquet(
            beam_io.join(self.output, MINHASH_DIR, "part"), _minhash_schema(), INDEX_ROW_GROUP_BYTES)
        verify = p.verify_threshold
        edges = (
            sigs
            | "BandBlobs" >> beam.ParDo(_BandBlobs())
            | "GroupByBandPartition" >> beam.GroupByKey()
            | "CandidateEdges" >> beam.FlatMap(_partition_edges, verify is not None)
            | "DistinctEdges" >> beam.Distinct()
        )
        if verify is not None:
            # Exact Jaccard of each candidate pair: ship each shingle set to its edges by two
            # joins on id, rather than with every one of its band entries.
            shingles = sigs | "ShingleSets" >> beam.FlatMap(lambda s: [(s[0], s[3])] if s[3] is not None else [])
            half = (
                {"edges": edges | "ByFirst" >> beam.Map(lambda e: (e[0], e)), "shingles": shingles}
                | "JoinFirst" >> beam.CoGroupByKey()
                | "AttachFirst" >> beam.FlatMap(_attach_first)
            )
            edges = (
                {"half": half, "shingles": shingles}
                | "JoinSecond" >> beam.CoGroupByKey()
                | "VerifyEdges" >> beam.FlatMap(_verify_edges, verify)
            )
        removals = (
            edges
            | "ConnectedComponents" >> ConnectedComponents()
            | "ByRoot" >> beam.MapTuple(lambda node, root: (root, node))
            | "Clusters" >> beam.GroupByKey()
            | "Removals" >> FlatStep(self.stage, _cluster_removals)
        )
        folder = spill_folder(docs.pipeline, self.stage)
        by_id = docs | "KeyById" >> beam.Map(lambda d: (d.id, d))
        if folder is None:
            joined = ({"doc": by_id | "Park" >> beam.ParDo(Park(None)), "root": removals["out"]}
                      | "JoinRemovals" >> beam.CoGroupByKey() | "Unpark" >> beam.ParDo(Unpark("doc")))
        else:
            # Only the removed documents' roots are looked up while each spill file is read back.
            parked = by_id | "Park" >> beam.ParDo(Park(folder, refs=False)).with_outputs(SPILL_FILES, main="refs")
            roots = removals["out"] | "RootOfRemoved" >> beam.CombinePerKey(min)
            joined = read_back(docs.pipeline, folder, parked[SPILL_FILES], roots, _minhash_read_back)
        outputs = (joined
                   | "KeepOrDrop" >> GroupStep(self.stage, _join_removals, self.keep_rejects, part="doc"))
        stats = (removals[STATS], outputs[STATS]) | "Stats" >> beam.Flatten()
        return {"out": outputs["out"], STATS: stats, REJECTS: outputs[REJECTS], INDEX_FILES: index_files}
