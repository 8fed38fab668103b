"""Where the SOCIAL-CHEM steps find their inputs and put their outputs, checked before any work,
through :mod:`pipeline.fileio` (local paths, ``gs://``, ``s3://``, ``memory://``); no Beam."""

from __future__ import annotations

import os

from pipeline import fileio
from pipeline.errors import UsageError


def absolute(path: str) -> str:
    """A local path made absolute (workers of a cluster run in other directories); URLs unchanged."""
    return path if fileio.is_remote(path) else os.path.abspath(os.path.expanduser(path))


def prepare_dir(output: str, names: list[str], overwrite: bool) -> None:
    """Refuse ``output`` when it holds any of ``names`` (outputs of an earlier run) unless
    ``overwrite``; then remove them (a plain step's outputs are written whole, each by rename)."""
    existing = [n for n in names if fileio.exists(fileio.join(output, n))]
    if existing and not overwrite:
        raise UsageError(f"--output {output} already holds {', '.join(existing)} of an earlier run; "
                         "choose another directory or pass --overwrite")
    for n in existing:
        fileio.delete(fileio.join(output, n), recursive=True)
    if not fileio.is_remote(output):
        os.makedirs(output, exist_ok=True)


def require_file(path: str, flag: str, hint: str = "") -> str:
    """``path`` when it is a file; a UsageError naming ``flag`` when it is not, or cannot be reached."""
    try:
        if fileio.is_file(path):
            return path
    except OSError as exc:  # a URL whose file system is not installed, or a store that refused
        raise UsageError(f"{flag} {path}: {exc}") from exc
    raise UsageError(f"{flag} {path}: no such file{hint}")


def input_file(path: str, default_name: str, flag: str) -> str:
    """``path``, or ``path/default_name`` when it is a directory; a UsageError when no such file."""
    try:
        is_dir = fileio.is_dir(path)
    except OSError as exc:
        raise UsageError(f"{flag} {path}: {exc}") from exc
    resolved = fileio.join(path, default_name) if is_dir else path
    return require_file(resolved, f"{flag} {path}" if is_dir else flag,
                        f" (looked for {default_name} in the directory)" if is_dir else "")


def tsv_input(path: str, flag: str = "--input", default: str = "socialchem.tsv") -> str:
    """A TSV file, or a step's output directory (its socialchem.tsv / annotations.tsv / aggregated.tsv)."""
    if fileio.is_dir(path):
        for name in (default, "socialchem.tsv", "annotations.tsv", "aggregated.tsv"):
            if fileio.is_file(fileio.join(path, name)):
                return fileio.join(path, name)
        raise UsageError(f"{flag} {path}: no socialchem.tsv, annotations.tsv or aggregated.tsv in the directory")
    return input_file(path, default, flag)
