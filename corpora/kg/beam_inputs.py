"""The KG jobs' inputs resolved on the driver before any work, through Beam's file systems (as the
workers read them): globs matched to absolute files, each file's format told, line-based files
planned as byte-range chunks, the co-occurrence side file read.

What the workers need travels with the steps (chunks name absolute paths, the co-occurrence
table is a value), so no worker depends on the driver's working directory.
"""

from __future__ import annotations

import json

from corpora.kg.graph import Cooccurrence
from corpora.kg.inputs import GraphInputs, LabelsChunk
from corpora.kg.readers import FORMATS, UnreadableInput, detect_format, plan_chunks, read_head, sniff_format
from pipeline import beam_io
from pipeline.errors import UsageError


def resolve_inputs(patterns: list[str], labels: list[str], input_format: str, chunk_mb: int,
                   flag: str = "--triples") -> GraphInputs:
    """Match globs; tell each file's format; plan byte-range chunks. UsageError on anything unusable."""
    out = GraphInputs()
    for role, pats in (("triples", patterns), ("labels", labels)):
        if not pats:
            continue
        role_flag = flag if role == "triples" else "--labels"
        try:
            matched = beam_io.match_inputs(pats, role_flag)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
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
