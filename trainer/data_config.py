"""The loader's settings, defined once: :class:`DataSettings` (every field but the shard paths, with its
default) is the base of both :class:`DataConfig` (what :mod:`trainer.data` reads) and
:class:`trainer.config.TrainConfig` (the run's flat ``key=value`` / YAML settings), so a data setting is named,
typed, defaulted and range-checked here only. Kept free of heavy imports: the CLI loads it to parse a config.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

OBJECTIVES = ("clm", "fim", "mlm", "prefix-lm")
ON_EXHAUST = ("repeat", "stop")


class DataError(ValueError):
    """Bad data or data configuration, found before training starts; the message names the fix."""


@dataclass
class DataSettings:
    """How the loader mixes sources and builds samples (see :mod:`trainer.data`); everything but the paths."""

    mix: dict[str, float] | None = None  # source -> weight; None: every source by its share of tokens
    seq_len: int = 256
    micro_batch_size: int = 8
    seed: int = 0
    on_exhaust: str = "repeat"  # repeat (counted epochs) | stop
    objective: str = "clm"  # clm | fim | mlm | prefix-lm
    fim_rate: float = 0.5
    fim_spm_rate: float = 0.5
    mlm_probability: float = 0.15
    prefix_sep_token: str = "<|sep|>"
    cache_dir: str | None = None  # local cache of remote (fsspec) shards; None: the default cache
    cache_max_bytes: int = 50 * 2**30
    verify_checksums: bool = True

    @classmethod
    def names(cls) -> list[str]:
        """The field names of the data settings (the keys TrainConfig shares with DataConfig)."""
        return [f.name for f in fields(DataSettings)]

    def data_settings(self) -> dict:
        """These settings as keyword arguments (from a DataConfig, or a TrainConfig that inherits them)."""
        return {name: getattr(self, name) for name in DataSettings.names()}

    def validate_settings(self) -> None:
        """Raise :class:`DataError` naming the field when a value is out of range."""
        for name in ("seq_len", "micro_batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DataError(f"{name}={value!r} must be an integer >= 1")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise DataError(f"seed={self.seed!r} must be an integer >= 0")
        if self.on_exhaust not in ON_EXHAUST:
            raise DataError(f"on_exhaust={self.on_exhaust!r}: choose one of {', '.join(ON_EXHAUST)}")
        if self.objective not in OBJECTIVES:
            raise DataError(f"objective={self.objective!r}: choose one of {', '.join(OBJECTIVES)}")
        for name in ("fim_rate", "fim_spm_rate"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise DataError(f"{name}={value!r} must be in [0, 1]")
        if not isinstance(self.mlm_probability, (int, float)) or not 0.0 < self.mlm_probability < 1.0:
            raise DataError(f"mlm_probability={self.mlm_probability!r} must be in (0, 1)")
        if self.mix is not None:
            if not isinstance(self.mix, dict) or not self.mix:
                raise DataError(f"mix must map source names to weights, e.g. {{'web': 0.8, 'kg': 0.2}}; got {self.mix!r}")
            for name, w in self.mix.items():
                if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
                    raise DataError(f"mix weight of {name!r} must be a number >= 0, got {w!r}")
            if not any(w > 0 for w in self.mix.values()):
                raise DataError(f"mix: at least one weight must be > 0, got {self.mix!r}")
        if isinstance(self.cache_max_bytes, bool) or not isinstance(self.cache_max_bytes, int) \
                or self.cache_max_bytes < 1:
            raise DataError(f"cache_max_bytes={self.cache_max_bytes!r} must be a positive integer")


@dataclass
class DataConfig(DataSettings):
    """What the loader reads and how it builds samples (see :mod:`trainer.data`)."""

    # shard directories (local or fsspec URLs); NAME=DIR makes all of DIR source NAME. Keyword-only, as the one
    # field without a default after the inherited ones.
    paths: list[str] = field(kw_only=True)

    def validate(self) -> None:
        """Raise :class:`DataError` naming the field when a value is out of range."""
        if isinstance(self.paths, str) or not self.paths or not all(isinstance(p, str) and p for p in self.paths):
            raise DataError(f"data paths: give one or more shard directories, got {self.paths!r}")
        self.validate_settings()
