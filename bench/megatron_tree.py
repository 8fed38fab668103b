"""Prepare and check a Megatron-LM tree and Python for ``bench/peers.py --megatron-lm``.

With network, a checkout is all it takes::

    git clone https://github.com/NVIDIA/Megatron-LM ~/src/Megatron-LM
    python bench/megatron_tree.py venv ~/.cache/corpusforge/peers/megatron-venv
    python bench/megatron_tree.py check ~/src/Megatron-LM --python ~/.cache/corpusforge/peers/megatron-venv/bin/python
    python bench/peers.py --cases tokenize --megatron-lm ~/src/Megatron-LM \\
        --megatron-python ~/.cache/corpusforge/peers/megatron-venv/bin/python

Without a checkout (as on the machine docs/performance.md measured on), assemble one outside
the repository: ``megatron/core`` from the ``megatron-core`` wheel
(``pip download megatron-core==0.16.1 --no-deps -d /tmp/mcore`` and unzip it into the tree),
plus ``tools/preprocess_data.py`` and ``megatron/core/tokenizers/utils/build_tokenizer.py``
from a Megatron-LM commit, plus ``megatron/training/arguments.py`` (or a module holding just
its ``_add_tokenizer_args``) and an empty ``megatron/training/__init__.py``; docs/performance.md
names the commits and says which parts were stubs. ``check`` then says whether it runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

# what tools/preprocess_data.py and megatron.core import on CPU, besides torch (torch_requirement)
VENV_PACKAGES = ["numpy", "packaging", "tokenizers", "transformers"]


def torch_requirement() -> str:
    """torch pinned to the release this Python runs (``torch==2.13.0`` for ``2.13.0+cpu``), so the
    bench venv gets the build our own set-up installed (a local CPU wheel where there is one);
    plain ``torch`` would pull the newest CUDA build, several GB. ``torch`` when none is installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"torch=={version('torch').split('+')[0]}"
    except PackageNotFoundError:
        return "torch"


def make_venv(venv: str, extra: list[str], torch: str | None = None) -> str:
    """Create ``venv`` with Megatron's tokenization needs; returns its python."""
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    # torch first and alone, as the README's set-up does: then nothing else can widen its range
    subprocess.run([python, "-m", "pip", "install", "-q", torch or torch_requirement()], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", *VENV_PACKAGES, *extra], check=True)
    return python


def check_tree(tree: str, python: str) -> int:
    """Run ``tools/preprocess_data.py --help`` in ``tree`` with ``python``; 0 when it runs."""
    script = os.path.join(tree, "tools", "preprocess_data.py")
    if not os.path.isfile(script):
        print(f"{tree}: no tools/preprocess_data.py", file=sys.stderr)
        return 2
    env = dict(os.environ, PYTHONPATH=tree)
    env.pop("VIRTUAL_ENV", None)
    r = subprocess.run([python, script, "--help"], env=env, capture_output=True, text=True)
    if r.returncode != 0 or "--tokenizer-model" not in r.stdout:
        print(r.stderr.strip().splitlines()[-1:] or r.stdout[-500:], file=sys.stderr)
        print(f"{script}: --help failed under {python}", file=sys.stderr)
        return 1
    print(f"{script}: --help runs under {python} (has --tokenizer-type, --tokenizer-model, --append-eod)")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("venv", help="create a venv with torch, numpy, transformers, tokenizers")
    v.add_argument("venv")
    v.add_argument("--extra", nargs="*", default=[], help="more pip requirements")
    v.add_argument("--torch", default=None,
                   help="torch requirement (default: the release this Python runs, e.g. torch==2.13.0)")
    c = sub.add_parser("check", help="check that TREE/tools/preprocess_data.py --help runs")
    c.add_argument("tree")
    c.add_argument("--python", default=sys.executable)
    a = p.parse_args(argv)
    if a.cmd == "venv":
        print(make_venv(os.path.expanduser(a.venv), a.extra, a.torch))
        return 0
    return check_tree(os.path.expanduser(a.tree), os.path.expanduser(a.python))


if __name__ == "__main__":
    sys.exit(main())
