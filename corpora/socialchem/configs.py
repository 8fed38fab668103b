"""The config of every ``socialchem`` step, checked when it is made: a bad value raises a
``UsageError`` naming the flag before any data is read. ``from_args`` builds one from the step's
flags; tests and the demo build them directly. No Beam import."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import TypeVar

from corpora.socialchem.files import open_text
from corpora.socialchem.situations import MiningConfig
from corpora.socialchem.step_io import absolute, input_file, require_file, tsv_input
from pipeline.errors import UsageError
from pipeline.flags import require_input
from pipeline.generation import GenerationConfig, GeneratorError, check_generator_spec

C = TypeVar("C")
ANSWER_SUFFIXES = (".csv", ".jsonl", ".json")


def from_args(cls: type[C], args: argparse.Namespace, **renamed: str) -> C:
    """A step config from its flags: every init field of ``cls`` read from ``args`` (``renamed``:
    field -> flag attribute where they differ)."""
    names = [n for n, f in cls.__dataclass_fields__.items() if f.init]
    return cls(**{n: getattr(args, renamed.get(n, n)) for n in names})


# -- Beam steps --------------------------------------------------------------------------------

@dataclass
class SituationsConfig:
    """The situations step: corpora in, situations.jsonl/.tsv (+ rejects/) out. The word list
    (``blocklist``, a file) is read when the config is made and travels with the step."""

    input: list[str]
    output: str
    min_words: int = 3
    max_words: int = 30
    blocklist: str | None = None
    no_default_blocklist: bool = False
    id_prefix: str = "web"
    rejects: bool = False
    mining: MiningConfig = field(init=False, repr=False)

    def __post_init__(self) -> None:
        require_input(self.input, "a corpus directory or Parquet glob")
        if self.min_words < 1 or self.max_words < self.min_words:
            raise UsageError("--min-words must be at least 1 and --max-words at least --min-words")
        words: list[str] = []
        if self.blocklist:
            require_file(self.blocklist, "--blocklist", " (one word or phrase per line)")
            with open_text(self.blocklist) as f:
                words = [w.strip().lower() for w in f if w.strip() and not w.startswith("#")]
        if not self.id_prefix or "/" in self.id_prefix:
            raise UsageError("--id-prefix must be non-empty and without '/'")
        self.mining = MiningConfig(min_words=self.min_words, max_words=self.max_words, blocklist=words,
                                   use_default_blocklist=not self.no_default_blocklist, id_prefix=self.id_prefix)
        self.output = absolute(self.output.rstrip("/"))


@dataclass
class RenderStepConfig:
    """The render step: released-format TSV rows in, a corpus of training text out."""

    input: list[str]
    output: str
    modes: str = "rot,action"
    splits: str = "train"
    keep_bad: bool = False
    format: str = "corpusforge"
    num_shards: int = 0
    rejects: bool = False
    render: object = field(init=False, repr=False)  # corpora.socialchem.render.RenderConfig

    def __post_init__(self) -> None:
        from corpora.socialchem.render import ALL_SPLITS, RenderConfig

        splits = list(ALL_SPLITS) if self.splits == "all" else [s.strip() for s in self.splits.split(",") if s.strip()]
        self.render = RenderConfig(modes=[m.strip() for m in self.modes.split(",") if m.strip()], splits=splits,
                                   keep_bad=self.keep_bad, format=self.format)
        try:
            self.render.check()
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        if self.num_shards < 0:
            raise UsageError("--num-shards must be 0 (runner decides) or more")
        self.output = absolute(self.output.rstrip("/"))


@dataclass
class ProposeConfig:
    """The propose step: situations in, machine-made proposals.jsonl out (a generator per worker)."""

    situations: str
    generator: str
    output: str
    mode: str = "rot"
    num_proposals: int = 1
    max_new_tokens: int = 64
    batch_size: int = 16
    seed: int = 0
    generation: GenerationConfig = field(init=False, repr=False)

    def __post_init__(self) -> None:
        require_input(self.situations, "situations.jsonl or its directory")
        try:
            check_generator_spec(self.generator)
            self.generation = GenerationConfig(max_new_tokens=self.max_new_tokens, batch_size=self.batch_size,
                                               num_return_sequences=self.num_proposals,
                                               num_beams=self.num_proposals, seed=self.seed)
        except GeneratorError as exc:
            raise UsageError(str(exc)) from exc
        self.output = absolute(self.output.rstrip("/"))


# -- plain steps -------------------------------------------------------------------------------

@dataclass
class ExportTasksConfig:
    """The export-tasks step: situations -> RoT-writing tasks, or RoTs -> breakdown tasks."""

    output: str
    situations: str | None = None
    rots: str | None = None
    m: int = 1
    proposals: str | None = None
    kind: str = field(init=False)
    source: str = field(init=False)  # the situations.jsonl or rots.jsonl file
    proposals_file: str | None = field(init=False)

    def __post_init__(self) -> None:
        from corpora.socialchem.tasks import BREAKDOWN_KIND, ROT_KIND

        if bool(self.situations) == bool(self.rots):
            raise UsageError("give one of --situations (RoT-writing tasks) or --rots (breakdown tasks)")
        if self.m < 1:
            raise UsageError("--m must be at least 1 (annotators per item)")
        self.proposals_file = input_file(self.proposals, "proposals.jsonl", "--proposals") if self.proposals else None
        if self.situations:
            self.kind, self.source = ROT_KIND, input_file(self.situations, "situations.jsonl", "--situations")
        else:
            self.kind, self.source = BREAKDOWN_KIND, input_file(self.rots, "rots.jsonl", "--rots")


@dataclass
class ImportConfig:
    """The import-annotations step: completed tasks (CSV, JSONL, Label Studio JSON) against the
    exported tasks -> rots.jsonl or annotations.tsv, rejects/ with the reasons."""

    tasks: str
    input: list[str]
    output: str
    allow_machine: bool = False
    tasks_file: str = field(init=False)

    def __post_init__(self) -> None:
        if not self.input:
            raise UsageError("the following arguments are required: --input (completed tasks)")
        for path in self.input:
            require_file(path, "--input")
            if not path.endswith(ANSWER_SUFFIXES):
                raise UsageError(f"--input {path}: expected .csv, .jsonl or a Label Studio .json export")
        self.tasks_file = input_file(self.tasks, "rot_tasks.jsonl", "--tasks")


@dataclass
class AgreementConfig:
    """The agreement step: breakdowns in, alpha per dimension and aggregated rows out."""

    input: str
    output: str
    low_agreement: float = 0.5
    input_file: str = field(init=False)

    def __post_init__(self) -> None:
        if not 0 <= self.low_agreement <= 1:
            raise UsageError("--low-agreement must be in [0, 1]")
        self.input_file = tsv_input(self.input, default="annotations.tsv")


@dataclass
class SplitConfig:
    """The split step: rows in, the split column filled in by situation per area, from a seed."""

    input: str
    output: str
    aggregated: str | None = None
    seed: int = 0
    fractions: str = "0.8,0.1,0.1"
    resplit: bool = False
    shares: tuple[float, float, float] = field(init=False)
    input_file: str = field(init=False)
    aggregated_file: str | None = field(init=False)

    def __post_init__(self) -> None:
        try:
            shares = tuple(float(x) for x in self.fractions.split(","))
            if len(shares) != 3 or abs(sum(shares) - 1) > 1e-6 or min(shares) < 0:
                raise ValueError
        except ValueError:
            raise UsageError(f"--fractions {self.fractions!r}: give three non-negative numbers summing to 1, "
                             "e.g. 0.8,0.1,0.1") from None
        self.shares = shares  # type: ignore[assignment]
        self.input_file = tsv_input(self.input, default="annotations.tsv")
        self.aggregated_file = (tsv_input(self.aggregated, "--aggregated", "aggregated.tsv")
                                if self.aggregated else None)


@dataclass
class StatsConfig:
    """The stats step: a set in, distributions as stats.json, stats.md and PNG plots out."""

    input: str
    output: str
    no_plots: bool = False
    input_file: str = field(init=False)

    def __post_init__(self) -> None:
        self.input_file = tsv_input(self.input)


@dataclass
class ValidateConfig:
    """The validate step: one released-format TSV checked, the report printed (and saved as JSON)."""

    path: str
    json: str | None = None
    max_examples: int = 20
    no_split_check: bool = False

    def __post_init__(self) -> None:
        require_file(self.path, "validate")
        if self.max_examples < 0:
            raise UsageError("--max-examples must be 0 or more")
