"""The corpus manifest: what was read, what was written (with row counts and sha256), how."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import pipeline

SCHEMA_VERSION = 1
TOOL_NAME = "corpusforge"


def build_manifest(
    job: str,
    config: dict[str, Any],
    inputs: list[dict[str, Any]],
    data_files: list[dict[str, Any]],
    reject_files: list[dict[str, Any]] | None = None,
    index_files: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Assemble ``manifest.json``; file lists are sorted so the manifest is stable."""
    return {
        "schema_version": SCHEMA_VERSION,
        "job": job,
        "config": config,
        "inputs": sorted(inputs, key=lambda f: f["path"]),
        "outputs": {
            "data": sorted(data_files, key=lambda f: f["path"]),
            "rejects": sorted(reject_files or [], key=lambda f: f["path"]),
            "dedup_index": sorted(index_files or [], key=lambda f: f["path"]),
            "rows": sum(f["rows"] for f in data_files),
        },
        "tool": {"name": TOOL_NAME, "version": pipeline.__version__},
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
