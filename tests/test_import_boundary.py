"""The import boundary: the core (pipeline/, tokenizer/, trainer/, corpora/ less the Beam shell
named below) never imports Apache Beam, nor a shell module (which imports Beam), neither when
it is imported nor inside a function. Only the shell adapts the core to Beam
(docs/architecture.md, "Layers")."""

from __future__ import annotations

import ast
import fnmatch
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "tokenizer", "trainer", "corpora")

#: The thin Beam shell: stage wrappers, sinks, the driver, the Dask engine, and the jobs'
#: compositions and Beam transforms. These may import apache_beam.
SHELL = (
    "pipeline/beam_*.py",
    "pipeline/jobs.py",
    "pipeline/dask_*.py",  # the Dask engine: dask_runner and its plan / tasks / overrides
    "corpora/web.py",
    "corpora/tokenize.py",
    "corpora/crawl.py",
    "corpora/demo.py",  # runs the jobs one after the other
    "corpora/verify_shards.py",  # a front-door command (pipeline.jobs.Job)
    "corpora/*/job.py",
    "corpora/*/*_job.py",
    "corpora/*/transforms.py",
    "corpora/*/beam_*.py",
    "corpora/*/demo.py",
)

#: Core modules that still import Beam or the shell, with the reason. This list may only shrink (a
#: test fails when a listed module no longer does, so it gets removed); it is empty since the
#: doc2query collection / evaluation / job helpers and the KG inputs moved (issue #15).
NOT_YET_MOVED: dict[str, str] = {}


def _is_shell(rel: str) -> bool:
    return any(fnmatch.fnmatchcase(rel, pattern) for pattern in SHELL)


def core_modules(root: Path = ROOT) -> list[str]:
    """Every module of the core under ``root``, as a path relative to it."""
    out = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if path.name != "__main__.py" and not _is_shell(rel):
                out.append(rel)
    return out


def shell_imports(source: str, package: str | None = None) -> list[str]:
    """The shell modules (``pipeline.beam_io``, ``pipeline.jobs``, ``corpora.tokenize``, ...) a source
    imports, anywhere in it (inside functions too); relative imports are resolved when the source's
    ``package`` is given."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.level == 0 or package):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = parts[:len(parts) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            names = [module, *(f"{module}.{a.name}" for a in node.names)]
        else:
            continue
        found += [n for n in names if _is_shell(n.replace(".", "/") + ".py")]
    return found


def core_shell_imports(root: Path = ROOT) -> dict[str, list[str]]:
    """Core modules under ``root`` that import a shell module (anywhere in the source): path -> imports."""
    out = {}
    for rel in core_modules(root):
        package = _module_name(rel) if rel.endswith("/__init__.py") else _module_name(rel).rpartition(".")[0]
        found = shell_imports((root / rel).read_text(encoding="utf-8"), package)
        if found:
            out[rel] = found
    return out


def _module_name(rel: str) -> str:
    name = rel[:-3].replace("/", ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def _imports_beam(rel: str) -> bool:
    return beam_in_source((ROOT / rel).read_text(encoding="utf-8"))


def beam_in_source(source: str) -> bool:
    """Whether the source imports apache_beam anywhere (module level or inside a function)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "apache_beam" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "apache_beam" and not node.level:
            return True
    return False


# One fresh interpreter imports every core module with apache_beam made unimportable, and
# reports each module whose import tried to load it (even if the attempt was caught).
_PROBE = r"""
import importlib, json, sys

class Block:
    current = None
    offenders = {}

    def find_spec(self, name, path=None, target=None):
        if name == "apache_beam" or name.startswith("apache_beam."):
            Block.offenders.setdefault(Block.current, name)
            raise ImportError(f"{name} is blocked: the core must not import Beam")
        return None

sys.meta_path.insert(0, Block())
errors = {}
for module in json.loads(sys.argv[1]):
    Block.current = module
    try:
        importlib.import_module(module)
    except ImportError as exc:
        if module not in Block.offenders:
            errors[module] = repr(exc)
    except Exception as exc:
        errors[module] = repr(exc)
print(json.dumps({"offenders": Block.offenders, "errors": errors}))
"""


def probe(modules: list[str], path: Path = ROOT) -> dict:
    """Import ``modules`` in a fresh interpreter (in ``path``) with Beam blocked; what tried to load it."""
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(modules)], cwd=path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def imported() -> dict:
    """The probe over every core module: ``offenders`` (path -> what it loaded) and ``errors``."""
    modules = {_module_name(rel): rel for rel in core_modules()}
    result = probe(sorted(modules))
    return {"offenders": {modules[m]: beam for m, beam in result["offenders"].items()},
            "errors": result["errors"]}


def test_no_core_module_imports_beam_when_imported(imported):
    assert imported["errors"] == {}, f"core modules that fail to import: {imported['errors']}"
    offenders = {rel: beam for rel, beam in imported["offenders"].items() if rel not in NOT_YET_MOVED}
    assert offenders == {}, (
        f"core modules that import Apache Beam when imported: {offenders}; move the Beam part into the "
        "shell (a beam_*.py, transforms.py or job module) or inject what the core needs")


def test_no_core_module_imports_beam_anywhere_in_its_source():
    offenders = [rel for rel in core_modules() if rel not in NOT_YET_MOVED and _imports_beam(rel)]
    assert offenders == [], f"core modules with an apache_beam import (even inside a function): {offenders}"


def test_no_core_module_imports_the_shell():
    """Not even inside a function, where the probe cannot see it: the shell imports Beam."""
    offenders = {rel: found for rel, found in core_shell_imports().items() if rel not in NOT_YET_MOVED}
    assert offenders == {}, (
        f"core modules that import the Beam shell: {offenders}; open files through pipeline.fileio, keep "
        "Beam-only code in the shell, and have the shell pass the core what it needs")


def test_the_allow_list_only_shrinks(imported):
    """Every listed module exists, is not shell, and still imports Beam (in its source or when
    imported): when one stops, it is removed here."""
    core = set(core_modules())
    shell_users = core_shell_imports()
    stale = [rel for rel in NOT_YET_MOVED
             if rel not in core or not (_imports_beam(rel) or rel in imported["offenders"] or rel in shell_users)]
    assert stale == [], f"remove from NOT_YET_MOVED (moved, renamed or now shell): {stale}"


def test_the_checks_catch_an_offender(tmp_path):
    """A module importing Beam at import time is reported by the probe; one importing it
    inside a function, by the source check."""
    (tmp_path / "eager.py").write_text("import apache_beam as beam\n")
    (tmp_path / "careful.py").write_text("try:\n    import apache_beam\nexcept ImportError:\n    pass\n")
    (tmp_path / "clean.py").write_text("import json\n")
    assert probe(["eager", "careful", "clean"], tmp_path) == {
        "offenders": {"eager": "apache_beam", "careful": "apache_beam"}, "errors": {}}
    assert beam_in_source("def f():\n    from apache_beam.io.filesystems import FileSystems\n")
    assert not beam_in_source("import json\nbeam = 'apache_beam'\n")
    assert shell_imports("def f():\n    from pipeline.beam_io import open_raw\n") == [
        "pipeline.beam_io", "pipeline.beam_io.open_raw"]
    assert shell_imports("from pipeline import beam_io, fileio\nimport pipeline.jobs\n") == [
        "pipeline.beam_io", "pipeline.jobs"]
    assert shell_imports("from pipeline import fileio\nfrom .beam_io import x\n") == []


def test_the_shell_import_check_catches_an_offender(tmp_path):
    """In a small tree: core modules importing a shell module (in a function, by ``from package
    import``, relatively) are flagged; the shell importing the shell, and the core importing the
    core, are not."""
    files = {
        "pipeline/beam_io.py": "import apache_beam\n",
        "pipeline/fileio.py": "import os\n",
        "pipeline/lazy.py": "def f():\n    from pipeline.beam_io import open_raw\n    return open_raw\n",
        "pipeline/relative.py": "from . import beam_io\n",
        "pipeline/clean.py": "from pipeline import fileio\nfrom . import fileio as f2\n",
        "corpora/tokenize.py": "from pipeline import beam_io\n",  # shell: may import the shell
        "corpora/x/core.py": "from corpora import tokenize\n",
        "corpora/x/job.py": "import pipeline.jobs\nfrom corpora.x import core\n",
    }
    for rel, source in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(source)
    assert core_shell_imports(tmp_path) == {
        "corpora/x/core.py": ["corpora.tokenize"],
        "pipeline/lazy.py": ["pipeline.beam_io", "pipeline.beam_io.open_raw"],
        "pipeline/relative.py": ["pipeline.beam_io"],
    }
