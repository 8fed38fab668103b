"""TrainConfig: every setting of a training run, from a YAML file plus ``key=value`` overrides, checked before any
work starts (unknown keys with a suggestion, types, ranges, ``seq_len`` against the position encoding)."""

from __future__ import annotations

import difflib
import math
import os
import types
import typing
from dataclasses import asdict, dataclass, field, fields

import yaml

from trainer.data_config import DataConfig, DataError, DataSettings
from trainer.model import ACTIVATION_CHECKPOINTING, POSITION_ENCODINGS, PRESETS, GPTConfig
from trainer.optim import SCHEDULES
from trainer.parallel import LayoutError, make_layout

CONFIG_DIR = os.path.join(os.path.dirname(__file__), "configs")


class ConfigError(ValueError):
    """A setting is unknown, malformed or inconsistent; the message names it and the fix."""


@dataclass
class TrainConfig(DataSettings):
    """One training run. Model shape comes from ``preset`` unless a shape key is set explicitly.

    The data settings (``mix``, ``seq_len``, ``micro_batch_size``, ``seed``, ``objective``, ...) are inherited
    from :class:`trainer.data_config.DataSettings`, defined there once; ``data`` holds DataConfig's ``paths``.
    """

    # data: the shard directories; the other data keys come from DataSettings
    data: list[str] = field(default_factory=list)
    # model
    preset: str | None = "tiny"
    n_layer: int | None = None
    n_head: int | None = None
    d_model: int | None = None
    max_seq_len: int | None = None
    pos: str = "learned"
    dropout: float = 0.0
    bias: bool = True
    vocab_size: int | None = None  # None: the shards' vocabulary, rounded up to a multiple of 64
    tokenizer: str | None = None  # the model's tokenizer directory; when set, the shards must use it
    # optimization
    max_steps: int = 1000
    grad_accum_steps: int = 1
    lr: float = 6e-4
    min_lr: float = 6e-5
    warmup_steps: int = 100
    decay_steps: int | None = None  # None: max_steps
    schedule: str = "cosine"
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    grad_clip: float = 1.0  # 0 disables clipping
    # system
    device: str = "auto"  # auto | cpu | cuda
    dtype: str = "auto"  # auto (bf16 on GPU, fp32 on CPU) | bf16 | fp32
    parallel: str = "ddp"  # ddp | fsdp (data parallelism over the "dp" ranks)
    tensor_parallel: int = 1  # Megatron-style split inside each block (trainer/parallel.py)
    sequence_parallel: bool = True  # with tensor_parallel > 1: LayerNorm/dropout regions split over the sequence
    pipeline_parallel: int = 1  # stages over the layers
    virtual_pipeline_stages: int = 1  # model chunks per pipeline rank; > 1: interleaved 1F1B (trainer/pipeline.py)
    activation_checkpointing: str = "none"  # none | full (every block) | selective (attention only)
    compile: bool = False
    deterministic: bool = False  # always on for CPU
    threads: int | None = None  # torch CPU threads per process (None: torch's default; torchrun sets 1)
    # evaluation, logging, checkpoints
    out_dir: str = "runs/train"
    eval_interval: int = 200
    eval_batches: int = 20
    log_interval: int = 10
    checkpoint_interval: int = 500
    keep_checkpoints: int = 3  # 0 keeps all
    resume: str = "auto"  # auto (latest in out_dir) | never | a checkpoint directory
    progress: bool = True

    # ------------------------------------------------------------------------------------------------------
    def model_config(self, vocab_size: int) -> GPTConfig:
        """The GPTConfig of this run for a data vocabulary of ``vocab_size`` ids."""
        shape = dict(PRESETS[self.preset]) if self.preset else {}
        for key in ("n_layer", "n_head", "d_model"):
            if getattr(self, key) is not None:
                shape[key] = getattr(self, key)
        shape["seq_len"] = self.max_seq_len or shape.get("seq_len") or self.seq_len
        multiple = math.lcm(64, self.tensor_parallel)  # the vocabulary splits evenly over tensor-parallel ranks
        vocab = self.vocab_size or -(-vocab_size // multiple) * multiple
        return GPTConfig(vocab_size=vocab, pos=self.pos, dropout=self.dropout, bias=self.bias,
                         causal=self.objective != "mlm", **shape)

    def data_config(self) -> DataConfig:
        """The loader's DataConfig for this run: ``data`` as its paths, and every inherited data setting."""
        mix = dict(self.mix) if self.mix is not None else None
        return DataConfig(paths=list(self.data), **{**self.data_settings(), "mix": mix})

    def as_dict(self) -> dict:
        return asdict(self)

    def validate(self) -> TrainConfig:
        """Raise ConfigError on the first bad setting; return self."""
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ConfigError(message)

        need(self.preset is None or self.preset in PRESETS,
             f"preset={self.preset!r}: choose one of {', '.join(PRESETS)} (or null and set n_layer/n_head/d_model)")
        if self.preset is None:
            missing = [k for k in ("n_layer", "n_head", "d_model") if getattr(self, k) is None]
            need(not missing, f"preset is null, so set {', '.join(missing)}")
        need(self.pos in POSITION_ENCODINGS, f"pos={self.pos!r}: choose one of {', '.join(POSITION_ENCODINGS)}")
        need(self.schedule in SCHEDULES, f"schedule={self.schedule!r}: choose one of {', '.join(SCHEDULES)}")
        need(self.device in ("auto", "cpu", "cuda"), f"device={self.device!r}: choose auto, cpu or cuda")
        need(self.dtype in ("auto", "bf16", "fp32"), f"dtype={self.dtype!r}: choose auto, bf16 or fp32")
        need(self.parallel in ("ddp", "fsdp"), f"parallel={self.parallel!r}: choose ddp or fsdp")
        need("://" not in str(self.out_dir),  # torch.save / torch.distributed.checkpoint, appends, renames
             f"out_dir={self.out_dir!r}: the run directory must be a local (or mounted) folder; copy finished "
             "checkpoints to a bucket afterwards")
        need(self.resume == "auto" or self.resume == "never" or os.path.isdir(self.resume),
             f"resume={self.resume!r}: use auto, never, or an existing checkpoint directory")
        try:
            self.validate_settings()  # the data settings: seq_len, micro_batch_size, objective, mix, ...
        except DataError as exc:
            raise ConfigError(str(exc)) from exc
        for key in ("max_steps", "grad_accum_steps", "eval_interval",
                    "log_interval", "checkpoint_interval"):
            need(getattr(self, key) >= 1, f"{key}={getattr(self, key)} must be at least 1")
        need(self.threads is None or self.threads >= 1, f"threads={self.threads} must be at least 1 (or null)")
        for key in ("warmup_steps", "eval_batches", "keep_checkpoints"):
            need(getattr(self, key) >= 0, f"{key}={getattr(self, key)} must not be negative")
        need(self.lr > 0 and 0 <= self.min_lr <= self.lr, f"need 0 <= min_lr ({self.min_lr}) <= lr ({self.lr}), lr > 0")
        need(0 <= self.dropout < 1, f"dropout={self.dropout} must be in [0, 1)")
        need(self.grad_clip >= 0, f"grad_clip={self.grad_clip} must be >= 0 (0 disables clipping)")
        need(self.decay_steps is None or self.decay_steps >= self.warmup_steps,
             f"decay_steps={self.decay_steps} must be >= warmup_steps={self.warmup_steps}")
        try:
            model = self.model_config(self.vocab_size or 64)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        need(self.activation_checkpointing in ACTIVATION_CHECKPOINTING,
             f"activation_checkpointing={self.activation_checkpointing!r}: choose one of "
             f"{', '.join(ACTIVATION_CHECKPOINTING)}")
        try:  # the layout's fit to the model; the process count is checked when the run starts
            make_layout(self.tensor_parallel * self.pipeline_parallel, self.tensor_parallel, self.pipeline_parallel,
                        n_head=model.n_head, n_layer=model.n_layer, vocab_size=model.vocab_size,
                        seq_len=self.seq_len, sequence_parallel=self.sequence_parallel, parallel=self.parallel,
                        micro_batches=self.grad_accum_steps, virtual_stages=self.virtual_pipeline_stages)
        except LayoutError as exc:
            raise ConfigError(str(exc)) from exc
        need(not (self.compile and self.pipeline_parallel > 1),
             "compile=true is not applied to pipeline stages (pipeline_parallel > 1); set compile=false")
        need(self.seq_len <= model.seq_len,
             f"seq_len={self.seq_len} is longer than the model supports: its {model.pos} position encoding covers "
             f"max_seq_len={model.seq_len} positions; set max_seq_len={self.seq_len} or more (a new model), "
             f"or a shorter seq_len")
        return self


# ---------------------------------------------------------------------------------------------------------
# Loading: YAML file, then key=value overrides

def _base_type(annotation: str) -> tuple[type, bool]:
    """(type, nullable) of a TrainConfig field annotation such as ``int | None``."""
    hint = typing.get_type_hints(TrainConfig)[annotation]
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        inner = [a for a in args if a is not type(None)]
        return inner[0], True
    return hint, False


def coerce(key: str, value, where: str):
    """``value`` (from YAML, or a string from the command line) as the type of field ``key``."""
    kind, nullable = _base_type(key)
    origin = typing.get_origin(kind) or kind
    if value is None or (isinstance(value, str) and value.lower() in ("null", "none") and nullable):
        if nullable:
            return None
        raise ConfigError(f"{where}: {key} must not be null")
    try:
        if origin is bool:
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                return value.lower() in ("true", "1", "yes")
            if not isinstance(value, bool):
                raise ValueError(value)
            return value
        if origin is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(float(value)) if isinstance(value, str) and "e" in value.lower() else int(value)
        if origin is float:
            return float(value)
        if origin is str:
            return str(value)
        if origin is list:
            items = value.split(",") if isinstance(value, str) else value
            return [str(v) for v in items]
        if origin is dict:
            return parse_mix(value) if isinstance(value, str) else {str(k): float(v) for k, v in value.items()}
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {key}={value!r} is not a valid {getattr(origin, '__name__', origin)}") from exc
    raise ConfigError(f"{where}: cannot set {key}")


def parse_mix(text: str) -> dict[str, float]:
    """``"web=0.8,kg=0.2"`` -> {"web": 0.8, "kg": 0.2}."""
    mix = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, weight = part.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--mix {text!r}: expected name=weight pairs separated by commas, e.g. web=0.8,kg=0.2")
        try:
            mix[name.strip()] = float(weight)
        except ValueError as exc:
            raise ConfigError(f"--mix {text!r}: weight {weight!r} of {name!r} is not a number") from exc
    return mix


def _check_key(key: str, where: str) -> None:
    names = [f.name for f in fields(TrainConfig)]
    if key not in names:
        close = difflib.get_close_matches(key, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f"; known keys: {', '.join(names)}"
        raise ConfigError(f"{where}: unknown key {key!r}{hint}")


def resolve_config_path(path: str) -> str:
    """A YAML path, or the name of a bundled config (``tiny`` -> trainer/configs/tiny.yaml)."""
    if os.path.isfile(path):
        return path
    bundled = os.path.join(CONFIG_DIR, path if path.endswith(".yaml") else path + ".yaml")
    if os.path.isfile(bundled):
        return bundled
    names = sorted(f[:-5] for f in os.listdir(CONFIG_DIR) if f.endswith(".yaml"))
    raise ConfigError(f"--config {path}: no such file, nor a bundled config (bundled: {', '.join(names)})")


def load_config(path: str | None, overrides: list[str] = (), **values) -> TrainConfig:
    """TrainConfig from a YAML file (or bundled name), then ``values`` (CLI flags), then ``key=value`` strings."""
    merged: dict = {}
    if path:
        path = resolve_config_path(path)
        try:
            with open(path) as fh:
                loaded = yaml.safe_load(fh) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of key: value")
        for key, value in loaded.items():
            _check_key(str(key), path)
            merged[key] = coerce(key, value, path)
    for key, value in values.items():
        if value is not None:
            _check_key(key, "flag")
            merged[key] = coerce(key, value, f"--{key.replace('_', '-')}")
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"override {item!r}: expected key=value, e.g. lr=3e-4")
        key = key.strip()
        _check_key(key, f"override {item!r}")
        merged[key] = coerce(key, value.strip(), f"override {item!r}")
    return TrainConfig(**merged).validate()


def config_from_dict(values: dict) -> TrainConfig:
    """A TrainConfig saved with a checkpoint (unknown keys from other versions are dropped)."""
    names = {f.name for f in fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in values.items() if k in names})
