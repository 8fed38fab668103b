"""The KG jobs' inputs, resolved on the driver before any work: globs matched to absolute files,
each file's format told, line-based files planned as byte-range chunks, side files read.

Everything here runs before the pipeline is submitted; what the workers need travels with the
steps (chunks name absolute paths read through Beam's file systems, the co-occurrence table is
a value), so no worker depends on the driver's working directory.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field

from corpora.kg.graph import Cooccurrence
from corpora.kg.readers import (
    FORMATS,
    Chunk,
    UnreadableInput,
    detect_format,
    plan_chunks,
    read_head,
    sniff_format,
)
from corpora.kg.templates import TemplateError, TemplateSet, load_templates
from pipeline import beam_io
from pipeline.flags import add_input
from pipeline.jobs import UsageError

GRAPH_HELP = "triples files (repeatable): .nt, .ttl, Wikidata .json, .tsv, WebNLG .xml (optionally .gz)"
CORPUS_HELP = ("the corpus the sentences come from: a corpus directory (its data/*.parquet) or a Parquet glob "
               "(repeatable)")


def add_io_arguments(parser: argparse.ArgumentParser, align: bool = False) -> None:
    """The input and output flags both KG jobs take. kg reads the graph as ``--input`` (``--triples`` its
    old spelling, hidden); kg-align reads it as ``--triples`` and its corpus as ``--input`` (``--corpus``
    its old spelling, hidden). With an old spelling the job checks ``--input`` is given (require_input)."""
    io = parser.add_argument_group("input and output")
    if align:
        io.add_argument("--triples", action="append", required=True, metavar="PATH_OR_GLOB", help=GRAPH_HELP)
        add_input(io, old="--corpus", action="append", metavar="CORPUS", help=CORPUS_HELP)
    else:
        add_input(io, old="--triples", action="append", metavar="PATH_OR_GLOB", help=GRAPH_HELP)
    io.add_argument("--labels", action="append", default=[], metavar="PATH",
                    help="extra labels: a TSV (id<TAB>label[<TAB>lang]) or any triples file (its labels only)")
    io.add_argument("--format", dest="input_format", default="auto", choices=("auto",) + FORMATS,
                    help="input format (default: from the file name)")
    io.add_argument("--output", required=True, metavar="DIR", help="output directory")
    io.add_argument("--overwrite", action="store_true", help="replace an earlier run's output in DIR")
    io.add_argument("--lang", default="en", help="label language to use (default: en)")
    io.add_argument("--fallback-langs", default="mul", metavar="L,L",
                    help="label languages to fall back to, in order (default: mul); then untagged labels")
    io.add_argument("--chunk-mb", type=int, default=16,
                    help="split line-based inputs into byte ranges of this size (default 16: a work item each)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")


def parse_langs(value: str) -> list[str]:
    """``--fallback-langs de,mul`` -> ["de", "mul"]."""
    return [x.strip().lower() for x in value.split(",") if x.strip()]


def check_common(lang: str, chunk_mb: int, max_facts_per_entity: int) -> None:
    """The checks both KG jobs make of their shared settings (UsageError names the flag)."""
    if max_facts_per_entity < 1:
        raise UsageError("--max-facts-per-entity must be at least 1")
    if chunk_mb < 1:
        raise UsageError("--chunk-mb must be at least 1")
    if not lang:
        raise UsageError("--lang must name a language, e.g. en")


def checked_templates(path: str | None) -> TemplateSet:
    """The template set (bundled, or ``--templates FILE``), read on the driver; UsageError if unusable."""
    try:
        return load_templates(path)
    except TemplateError as exc:
        raise UsageError(str(exc)) from exc


@dataclass(frozen=True)
class LabelsChunk(Chunk):
    """A chunk of a --labels file: only its labels are used."""

    labels_only: bool = True


@dataclass
class GraphInputs:
    """The resolved inputs of a KG job: described files (``match_inputs`` entries with ``role`` and
    ``format``) and the chunks the workers read."""

    files: list[dict] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)

    def megabytes(self) -> float:
        return sum(f["bytes"] for f in self.files) / 1e6


def resolve_inputs(patterns: list[str], labels: list[str], input_format: str, chunk_mb: int,
                   flag: str = "--triples") -> GraphInputs:
    """Match globs; tell each file's format; plan byte-range chunks. UsageError on anything unusable."""
    out = GraphInputs()
    for role, pats in (("triples", patterns), ("labels", labels)):
        if not pats:
            continue
        role_flag = flag if role == "triples" else "--labels"
        try:
            matched = beam_io.match_inputs(pats)
        except ValueError as exc:
            raise UsageError(str(exc).replace("--input", role_flag)) from exc
        for f in matched:
            fmt = input_format if (input_format != "auto" and role == "triples") else detect_format(f["path"])
            if role == "labels" and fmt == "tsv":
                fmt = "labels-tsv"
            if fmt is None:
                raise UsageError(f"cannot tell the format of {f['path']} from its name; pass --format "
                                 f"({', '.join(FORMATS)})")
            try:
                fmt = sniff_format(read_head(f["path"], beam_io.open_raw), fmt, f["path"])
            except UnreadableInput as exc:
                raise UsageError(f"{role_flag} {exc}") from exc
            except OSError as exc:
                raise UsageError(f"{f['path']}: cannot read it ({exc})") from exc
            out.files.append({**f, "role": role, "format": fmt})
            planned = plan_chunks(f["path"], f["bytes"], fmt, chunk_mb * 1024 * 1024)
            if role == "labels" and fmt != "labels-tsv":
                planned = [LabelsChunk(c.path, c.fmt, c.start, c.end) for c in planned]
            out.chunks += planned
    return out


def load_cooccurrence(path: str) -> Cooccurrence:
    """Relation co-occurrence from kg-align pairs: relations stated together in one sentence (read
    on the driver through Beam's file systems; the table travels with the step that uses it)."""
    cooc = Cooccurrence()
    with beam_io.open_raw(path) as f:
        for raw in f:
            line = raw.decode("utf-8")
            if line.strip():
                row = json.loads(line)
                cooc.add_subject([t["p"] for t in row.get("facts", [])])
    return cooc
