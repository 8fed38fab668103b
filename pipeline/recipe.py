"""Recipes: the ordered processing steps of a build (filters, then dedup), from flags or YAML.

A recipe file names the steps and their parameters::

    steps:
      - gopher_quality
      - gopher_repetition: {dup_line_frac: 0.3}
      - c4: {filter_terminal_punct: false, langs: [en]}
      - fineweb
      - pii
      - exact_dedup
      - minhash_dedup: {bands: 14, rows: 8}
      - c4_span_dedup: {min_sentences: 3}

Every filter step may take ``langs`` (apply only to documents in those languages; others
pass through untouched); dedup steps see the whole corpus. ``exact_dedup`` and
``minhash_dedup`` can also compare with an earlier build (``against``). Unknown steps, unknown fields and out-of-range values fail at load
time with a message naming them. The resolved recipe (every parameter, defaults included)
goes into manifest.json so a build can be repeated exactly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from pipeline.filters.base import DocumentFilter
from pipeline.filters.registry import FILTERS, make_filter

INCREMENTAL_STEPS = ("exact_dedup", "minhash_dedup")  # they save an index a later build reads
DEDUP_STEPS = INCREMENTAL_STEPS + ("c4_span_dedup",)
COMMON_FIELDS = ("langs",)


@dataclass
class RecipeStep:
    """One resolved step: a filter instance, or a dedup step with its parameters."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    langs: frozenset[str] | None = None
    filter: DocumentFilter | None = None

    @property
    def is_dedup(self) -> bool:
        return self.name in DEDUP_STEPS

    @property
    def takes_previous_build(self) -> bool:
        """A dedup step that can also remove what an earlier build has (``against``)."""
        return self.name in INCREMENTAL_STEPS

    def describe(self) -> dict[str, Any]:
        """Every parameter, defaults included, for the manifest."""
        if self.filter is not None:
            params = {k: v for k, v in dataclasses.asdict(self.filter).items()}  # type: ignore[call-overload]
        else:
            params = dict(self.params)
        if self.langs is not None:
            params["langs"] = sorted(self.langs)
        return {self.name: params}


def known_steps() -> list[str]:
    return sorted(FILTERS) + list(DEDUP_STEPS)


def _parse_langs(where: str, value: Any) -> frozenset[str]:
    from pipeline.langid import parse_langs

    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"{where}: langs must be a list of language codes, e.g. [en, de]")
    langs = parse_langs(",".join(str(v) for v in value))
    assert langs is not None
    return langs


def _dedup_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validate dedup parameters now (bad values must fail before any work)."""
    from pipeline.dedup.minhash import MinHashParams

    params = dict(params)
    if name == "c4_span_dedup":
        return _span_dedup_params(params)
    against = params.pop("against", None)
    if against is not None and not isinstance(against, str):
        raise ValueError(f"step {name!r}: against must be the path of an earlier corpus directory")
    if name == "exact_dedup":
        if params:
            raise ValueError(f"unknown field(s) {', '.join(map(repr, sorted(params)))} for step 'exact_dedup'; "
                             "valid fields: against")
        resolved: dict[str, Any] = {}
    else:
        valid = [f.name for f in dataclasses.fields(MinHashParams)] + ["threshold"]
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(map(repr, unknown))} for step 'minhash_dedup'; "
                             f"valid fields: {', '.join(valid + ['against'])}")
        threshold = params.pop("threshold", None)
        try:
            if threshold is not None:
                if "bands" in params or "rows" in params:
                    raise ValueError("give either threshold or bands/rows, not both")
                mh = MinHashParams.from_threshold(float(threshold), num_perm=int(params.pop("num_perm", 112)))
                mh = mh.with_(**params) if params else mh
            else:
                mh = MinHashParams(**params)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"step 'minhash_dedup': {exc}") from exc
        resolved = dataclasses.asdict(mh)
    if against is not None:
        resolved["against"] = against
    return resolved


def _span_dedup_params(params: dict[str, Any]) -> dict[str, Any]:
    from pipeline.dedup.spans import SpanDedupParams

    valid = [f.name for f in dataclasses.fields(SpanDedupParams)]
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(map(repr, unknown))} for step 'c4_span_dedup'; "
                         f"valid fields: {', '.join(valid)}")
    return dataclasses.asdict(SpanDedupParams(**params))


def resolve_step(name: str, params: dict[str, Any] | None) -> RecipeStep:
    """Build one step, raising ValueError that names the step and the bad field."""
    if not isinstance(name, str) or name not in known_steps():
        raise ValueError(f"unknown step {name!r}; known steps: {', '.join(known_steps())}")
    params = dict(params or {})
    langs = _parse_langs(f"step {name!r}", params.pop("langs")) if "langs" in params else None
    if name in DEDUP_STEPS:
        if langs is not None:
            raise ValueError(f"step {name!r}: langs applies to filters only (dedup sees the whole corpus)")
        return RecipeStep(name, _dedup_params(name, params))
    return RecipeStep(name, params, langs, make_filter(name, params))


def parse_steps(items: list[Any]) -> list[RecipeStep]:
    """Resolve the ``steps`` list of a recipe (names, or one-key mappings name -> params)."""
    steps = [resolve_step(*_name_and_params(i, item)) for i, item in enumerate(items)]
    _check_order(steps)
    return steps


def step_names(items: list[Any]) -> list[str]:
    """The step names of a recipe's ``steps`` list, without resolving the steps."""
    return [_name_and_params(i, item)[0] for i, item in enumerate(items)]


def _name_and_params(i: int, item: Any) -> tuple[str, dict[str, Any]]:
    """Step ``i`` of a ``steps`` list (a name, or a one-key mapping name -> params) as (name, params)."""
    if isinstance(item, str):
        return item, {}
    if isinstance(item, dict) and len(item) == 1:
        name, params = next(iter(item.items()))
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ValueError(f"step {i + 1} ({name!r}): parameters must be a mapping, got {params!r}")
        return name, params
    raise ValueError(f"step {i + 1}: expected a step name or {{name: {{params}}}}, got {item!r}")


def _check_order(steps: list[RecipeStep]) -> None:
    names = [s.name for s in steps]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"step(s) {', '.join(dupes)} appear more than once")


def steps_from_flag(value: str) -> list[RecipeStep]:
    """``--filters gopher_quality,c4,...`` with published defaults."""
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise ValueError("--filters needs at least one step name")
    return parse_steps(names)


def load_recipe(path: str) -> list[RecipeStep]:
    """Load a YAML recipe file; errors name the file."""
    import yaml

    from pipeline import fileio

    try:
        data = yaml.safe_load(fileio.read_bytes(path).decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - missing file, bad YAML: all reported the same way
        raise ValueError(f"recipe {path}: cannot read it ({exc})") from exc
    if not isinstance(data, dict) or "steps" not in data:
        raise ValueError(f"recipe {path}: expected a mapping with a 'steps' list")
    unknown = sorted(set(data) - {"steps", "description"})
    if unknown:
        raise ValueError(f"recipe {path}: unknown top-level field(s) {', '.join(unknown)} (allowed: steps, description)")
    if not isinstance(data["steps"], list):
        raise ValueError(f"recipe {path}: 'steps' must be a list")
    try:
        return parse_steps(data["steps"])
    except ValueError as exc:
        raise ValueError(f"recipe {path}: {exc}") from exc


def with_previous_build(step: RecipeStep, directory: str) -> RecipeStep:
    """Give a dedup step an earlier build to deduplicate against (unless it names one)."""
    if step.takes_previous_build and not step.params.get("against"):
        step.params["against"] = directory.rstrip("/")
    return step


def check_previous_build(name: str, directory: str, params: dict[str, Any]) -> None:
    """The earlier build must have the saved index of this step, made with compatible settings."""
    import json

    from pipeline import fileio

    sub = "dedup/exact" if name == "exact_dedup" else "dedup/minhash"
    manifest_path = fileio.join(directory, "manifest.json")
    if not fileio.exists(manifest_path):
        raise ValueError(f"{name}: against {directory}: not a finished corpus (no manifest.json)")
    if not fileio.match(fileio.join(directory, sub, "*.parquet")):
        raise ValueError(f"{name}: against {directory}: it has no {sub}/ index (was it built with {name}?)")
    if name == "minhash_dedup":
        earlier = json.loads(fileio.read_bytes(manifest_path).decode("utf-8")).get("config", {}).get("recipe", [])
        old = next((s["minhash_dedup"] for s in earlier if "minhash_dedup" in s), None)
        if old is None:
            raise ValueError(f"{name}: against {directory}: its manifest records no minhash_dedup step")
        keys = ("num_perm", "seed", "scheme", "ngram", "char_ngram", "max_shingles", "strip_accents",
                "normalize_numbers")
        diff = [k for k in keys if old.get(k) != params.get(k)]
        if diff:
            pairs = ", ".join(f"{k}: {old.get(k)} there, {params.get(k)} here" for k in diff)
            raise ValueError(f"{name}: against {directory}: signatures are not comparable ({pairs})")
