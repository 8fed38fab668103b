"""Check shards: one ``.bin``/``.idx`` pair against its manifest entry (:func:`verify_shard`),
and a whole token-shard directory against its ``manifest.json`` (:func:`verify_shards`)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from pipeline.shards.layout import DEFAULT_CHUNK_TOKENS, ShardFormatError, dtype_code
from pipeline.shards.manifest import SHARD_KEYS, check_shard_entry, shard_totals
from pipeline.shards.reader import ShardReader


def _sha256_file(path: str, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _short(h: Any) -> str:
    return f"{h[:12]}..." if isinstance(h, str) and len(h) > 12 else repr(h)


def verify_shard(
    prefix: str,
    expected: Mapping[str, Any] | None = None,
    vocab_size: int | None = None,
    *,
    eod_id: int | None = None,
    dtype: str | None = None,
    name: str | None = None,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
) -> list[str]:
    """Check one shard; return its problems (an empty list when it is fine).

    Always: both files exist and pass :class:`ShardReader`'s structural checks. With
    ``expected`` (a manifest shard entry): sha256 and size of both files, and the document
    and token counts. With ``vocab_size``: every token id in ``[0, vocab_size)``. With
    ``eod_id``: every document ends with it, and it occurs nowhere else. With ``dtype`` (a numpy name): the ``.idx``
    declares that dtype. Every problem starts with ``name`` (default: ``prefix``).
    """
    label = name or prefix
    problems: list[str] = []
    bin_path, idx_path = prefix + ".bin", prefix + ".idx"
    exists = {ext: os.path.isfile(p) for ext, p in ((".bin", bin_path), (".idx", idx_path))}
    for ext, ok in exists.items():
        if not ok:
            problems.append(f"{label}: {ext} file missing ({prefix}{ext})")
    if not all(exists.values()):
        return problems

    exp = dict(expected or {})
    for ext, path in ((".bin", bin_path), (".idx", idx_path)):
        key = ext[1:]
        size = os.path.getsize(path)
        if f"{key}_bytes" in exp and exp[f"{key}_bytes"] != size:
            problems.append(f"{label}: {ext} size mismatch (manifest {exp[f'{key}_bytes']} bytes, file {size} bytes)")
        if f"{key}_sha256" in exp:
            actual = _sha256_file(path)
            if actual != exp[f"{key}_sha256"]:
                problems.append(
                    f"{label}: {ext} sha256 mismatch (manifest {_short(exp[f'{key}_sha256'])}, file {_short(actual)})"
                )

    try:
        reader = ShardReader(prefix)
    except (ShardFormatError, OSError, ValueError) as exc:
        problems.append(f"{label}: {exc}")
        return problems
    with reader:
        if dtype is not None and reader.dtype.name != np.dtype(dtype).name:
            problems.append(f"{label}: .idx declares dtype {reader.dtype.name}, manifest says {dtype}")
        if "documents" in exp and exp["documents"] != reader.document_count:
            problems.append(f"{label}: documents mismatch (manifest {exp['documents']}, file {reader.document_count})")
        if "tokens" in exp and exp["tokens"] != reader.total_tokens:
            problems.append(f"{label}: tokens mismatch (manifest {exp['tokens']}, file {reader.total_tokens})")
        if vocab_size is not None and reader.total_tokens:
            problems.extend(_check_vocab(reader, vocab_size, label, chunk_tokens))
        if eod_id is not None and reader.sequence_count:
            lengths = reader.lengths.astype(np.int64)
            empty = np.flatnonzero(lengths == 0)
            nonempty = np.flatnonzero(lengths > 0)
            last = reader.pointers[nonempty] // reader.itemsize + lengths[nonempty] - 1
            wrong = nonempty[reader._tokens[last] != eod_id] if last.size else nonempty[:0]
            if empty.size:
                problems.append(f"{label}: {empty.size} empty document(s) (first: document {int(empty[0])})")
            if wrong.size:
                problems.append(
                    f"{label}: {wrong.size} document(s) do not end with the end-of-document id {eod_id} "
                    f"(first: document {int(wrong[0])})"
                )
            problems.extend(_check_eod_inside(reader, eod_id, label, chunk_tokens))
    return problems


def _check_eod_inside(reader: ShardReader, eod_id: int, label: str, chunk_tokens: int) -> list[str]:
    """End-of-document ids anywhere but at the last position of a document (chunked scan):
    a document cut in two for whoever reads the shard (the sign of text tokenized with its
    special tokens matched)."""
    lengths = reader.lengths.astype(np.int64)
    starts = reader.pointers // reader.itemsize
    ends = (starts + lengths - 1)[lengths > 0]  # increasing: documents are laid out in order
    count, docs, first = 0, set(), None
    for start, chunk in reader.iter_chunks(chunk_tokens):
        pos = np.flatnonzero(chunk == eod_id) + start
        if not pos.size:
            continue
        at = np.minimum(np.searchsorted(ends, pos), ends.size - 1)
        inside = pos[ends[at] != pos]
        if inside.size:
            count += int(inside.size)
            docs.update((np.searchsorted(starts, inside, side="right") - 1).tolist())
            first = int(inside[0]) if first is None else first
    if not count:
        return []
    doc = reader.document_of_token(first)
    return [f"{label}: {count} end-of-document id(s) {eod_id} inside {len(docs)} document(s), not at their end "
            f"(first: document {doc}, token {first - int(starts[doc])} of {int(lengths[doc])}; tokenized with "
            "special-token spellings in the text matched?)"]


def _check_vocab(reader: ShardReader, vocab_size: int, label: str, chunk_tokens: int) -> list[str]:
    problems = []
    hi_seen = None
    first_bad = None
    neg_seen = False
    for start, chunk in reader.iter_chunks(chunk_tokens):
        cmax = int(chunk.max())
        cmin = int(chunk.min())
        hi_seen = cmax if hi_seen is None else max(hi_seen, cmax)
        if (cmax >= vocab_size or cmin < 0) and first_bad is None:
            first_bad = start + int(np.argmax((chunk >= vocab_size) | (chunk < 0)))
        neg_seen = neg_seen or cmin < 0
    if first_bad is not None:
        doc = reader.document_of_token(first_bad)
        what = []
        if hi_seen is not None and hi_seen >= vocab_size:
            what.append(f"max token id {hi_seen} >= vocab size {vocab_size}")
        if neg_seen:
            what.append("negative token ids")
        problems.append(f"{label}: {' and '.join(what)} (first at token {first_bad}, document {doc})")
    return problems


def _discover_prefixes(directory: str) -> tuple[set[str], list[str]]:
    """Shard prefixes (relative, '/'-separated) with a .bin or .idx on disk, and leftover temporaries."""
    prefixes: set[str] = set()
    temporaries: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for fname in sorted(files):
            rel = os.path.relpath(os.path.join(root, fname), directory).replace(os.sep, "/")
            if ".bin.tmp-" in fname or ".idx.tmp-" in fname:
                temporaries.append(rel)
            elif fname.endswith((".bin", ".idx")):
                prefixes.add(rel[:-4])
    return prefixes, temporaries


def verify_shards(directory: str, *, chunk_tokens: int = DEFAULT_CHUNK_TOKENS) -> tuple[bool, dict[str, Any]]:
    """Verify every shard of a token-shard directory against its ``manifest.json``.

    Checks each listed shard with :func:`verify_shard` (checksums, sizes, counts, structure,
    token ids below the manifest's ``vocab_size``, documents ending with ``eod_id`` and holding
    it nowhere else, dtype), the manifest's totals against its shard list, and flags
    ``.bin``/``.idx`` files on disk that the manifest does not list. Leftover temporaries (``*.bin.tmp-*``) and a tokenizer
    file whose sha256 changed are warnings, not failures.

    Returns ``(ok, report)``; ``report`` has ``directory``, ``manifest``, ``ok``, ``shards``
    (per listed shard: ``path, source, split, documents, tokens, status ("ok" | "FAIL"),
    problems``), ``unlisted`` (prefixes), ``problems`` (every problem, one line each, naming
    the shard), ``warnings``, and ``totals`` (``manifest``: from the manifest's shard list;
    ``verified``: the same counters over the shards that passed).
    """
    manifest_path = os.path.join(directory, "manifest.json")
    report: dict[str, Any] = {
        "directory": directory, "manifest": manifest_path, "ok": False, "shards": [], "unlisted": [],
        "problems": [], "warnings": [], "totals": {"manifest": shard_totals([]), "verified": shard_totals([])},
    }
    problems: list[str] = report["problems"]
    if not os.path.isdir(directory):
        problems.append(f"{directory}: no such directory")
        return False, report
    try:
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        problems.append(f"{manifest_path}: missing (a token-shard directory has a manifest.json beside the shards)")
        return False, report
    except (OSError, ValueError) as exc:
        problems.append(f"{manifest_path}: unreadable JSON ({exc})")
        return False, report
    if not isinstance(manifest, dict) or not isinstance(manifest.get("shards"), list):
        problems.append(f"{manifest_path}: not a token-shard manifest (no 'shards' list)")
        return False, report
    for key in ("vocab_size", "eod_id", "dtype"):
        if key not in manifest:
            problems.append(f"{manifest_path}: missing '{key}'")
    vocab_size = manifest.get("vocab_size")
    eod_id = manifest.get("eod_id")
    dtype = manifest.get("dtype")
    if dtype is not None:
        try:
            dtype_code(dtype)
        except (TypeError, ValueError):
            problems.append(f"{manifest_path}: unknown dtype {dtype!r}")
            dtype = None

    entries: list[dict[str, Any]] = []
    listed: set[str] = set()
    for i, shard in enumerate(manifest["shards"]):
        try:
            if not isinstance(shard, dict):
                raise ValueError(f"manifest shard #{i}: not an object")
            check_shard_entry(shard, where=f"manifest shard #{i} ({shard.get('path', '?')})")
        except ValueError as exc:
            problems.append(f"{manifest_path}: {exc}")
            continue
        if shard["path"] in listed:
            problems.append(f"{shard['path']}: listed twice in the manifest")
            continue
        listed.add(shard["path"])
        entries.append(shard)
    report["totals"]["manifest"] = shard_totals(entries)
    if "totals" in manifest:
        mt = manifest["totals"]
        ours = report["totals"]["manifest"]
        for key in ("shards", "documents", "tokens"):
            if isinstance(mt, dict) and key in mt and mt[key] != ours[key]:
                problems.append(f"{manifest_path}: totals.{key} is {mt[key]}, but the shard list sums to {ours[key]}")

    passed: list[dict[str, Any]] = []
    for shard in entries:
        prefix = os.path.join(directory, *shard["path"].split("/"))
        shard_problems = verify_shard(
            prefix, expected=shard, vocab_size=vocab_size, eod_id=eod_id, dtype=dtype,
            name=shard["path"], chunk_tokens=chunk_tokens,
        )
        status = "ok" if not shard_problems else "FAIL"
        report["shards"].append({
            "path": shard["path"], "source": shard["source"], "split": shard["split"],
            "documents": shard["documents"], "tokens": shard["tokens"],
            "status": status, "problems": shard_problems,
        })
        problems.extend(shard_problems)
        if not shard_problems:
            passed.append({k: shard[k] for k in SHARD_KEYS})
    report["totals"]["verified"] = shard_totals(passed)

    on_disk, temporaries = _discover_prefixes(directory)
    for prefix in sorted(on_disk - listed):
        report["unlisted"].append(prefix)
        problems.append(f"{prefix}: present on disk but not listed in manifest.json")
    for tmp in temporaries:
        report["warnings"].append(f"{tmp}: leftover temporary file from an interrupted write (safe to delete)")

    tok = manifest.get("tokenizer")
    if isinstance(tok, dict) and isinstance(tok.get("path"), str) and isinstance(tok.get("sha256"), str):
        if os.path.isfile(tok["path"]):
            actual = _sha256_file(tok["path"])
            if actual != tok["sha256"]:
                report["warnings"].append(
                    f"{tok['path']}: tokenizer changed since the shards were written "
                    f"(manifest {_short(tok['sha256'])}, file {_short(actual)})"
                )
        else:
            report["warnings"].append(f"{tok['path']}: tokenizer file not found here; its sha256 was not checked")

    ok = not problems
    report["ok"] = ok
    return ok, report
