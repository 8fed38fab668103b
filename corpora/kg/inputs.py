"""The KG jobs' input flags and the checks of their shared settings, made on the driver before
any work; what the resolved inputs are (:class:`GraphInputs`, :class:`LabelsChunk`).

Matching the files and reading the side files go through Beam's file systems, as the workers
do, so they are in the shell (:mod:`corpora.kg.beam_inputs`); this module has no Beam import.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from corpora.kg.readers import FORMATS, Chunk
from corpora.kg.templates import TemplateError, TemplateSet, load_templates
from pipeline.errors import UsageError
from pipeline.flags import add_input

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
