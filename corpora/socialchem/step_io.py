"""Where the SOCIAL-CHEM steps find their inputs and put their outputs: checked before any work."""

from __future__ import annotations

import os

from corpora.socialchem import files as sc_files
from pipeline.jobs import UsageError, prepare_named_outputs


def prepare_dir(output: str, names: list[str], overwrite: bool) -> None:
    """Refuse to overwrite earlier outputs in a local ``output`` unless ``--overwrite``; then remove
    them (a plain step writes a local directory)."""
    if "://" in output:
        raise UsageError(f"--output {output}: this step writes a local directory (copy it to cloud storage after)")
    prepare_named_outputs(output, names, overwrite)
    os.makedirs(output, exist_ok=True)


def input_file(path: str, default_name: str, flag: str) -> str:
    """``path``, or ``path/default_name`` when it is a directory; a UsageError when no such file."""
    resolved = sc_files.resolve(path, default_name)
    if not os.path.isfile(resolved):
        raise UsageError(f"{flag} {path}: no such file" + (f" (looked for {default_name} in the directory)"
                                                          if os.path.isdir(path) else ""))
    return resolved


def tsv_input(path: str, flag: str = "--input", default: str = "socialchem.tsv") -> str:
    """A TSV file, or a step's output directory (its socialchem.tsv / annotations.tsv / aggregated.tsv)."""
    if os.path.isdir(path):
        for name in (default, "socialchem.tsv", "annotations.tsv", "aggregated.tsv"):
            if os.path.isfile(os.path.join(path, name)):
                return os.path.join(path, name)
        raise UsageError(f"{flag} {path}: no socialchem.tsv, annotations.tsv or aggregated.tsv in the directory")
    return input_file(path, default, flag)
