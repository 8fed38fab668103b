"""Text generators shared by the KG verbalizer, doc2query and SOCIAL-CHEM model assistance.

A generator turns a batch of prompts into ``num_return_sequences`` texts per prompt. Two kinds
are named by a spec string: ``hf:PATH`` (any Hugging Face seq2seq checkpoint in a local
directory) and ``native:CHECKPOINT`` (the bundled trainer's model, registered by
``trainer.generate``). Specs are checked before any work so a bad path fails at once.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol


class GeneratorError(ValueError):
    """A generator spec or checkpoint that cannot be used (named, with the fix)."""


@dataclass
class GenerationConfig:
    """Decoding settings common to every generator."""

    max_input_tokens: int = 512
    max_new_tokens: int = 64
    batch_size: int = 16
    do_sample: bool = False
    top_k: int | None = None
    temperature: float = 1.0
    num_beams: int = 1
    num_return_sequences: int = 1
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("max_input_tokens", "max_new_tokens", "batch_size", "num_beams", "num_return_sequences"):
            if getattr(self, name) < 1:
                raise GeneratorError(f"generation: {name} must be at least 1 (got {getattr(self, name)})")
        if self.temperature <= 0:
            raise GeneratorError(f"generation: temperature must be positive (got {self.temperature})")
        if self.top_k is not None and self.top_k < 1:
            raise GeneratorError(f"generation: top_k must be at least 1 (got {self.top_k})")
        if not self.do_sample and self.num_beams < self.num_return_sequences:
            raise GeneratorError(
                "generation: greedy decoding returns one sequence per beam; use do_sample=True or "
                f"num_beams >= num_return_sequences ({self.num_return_sequences})")

    def as_dict(self) -> dict:
        return asdict(self)


class TextGenerator(Protocol):
    """What every generator offers: batched prompts in, ``num_return_sequences`` texts each out."""

    stats: dict[str, int]

    def generate(self, prompts: list[str]) -> list[list[str]]: ...


def resolve_device(device: str) -> str:
    """``auto`` means CUDA when torch sees a GPU, else CPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def batch_seed(seed: int, prompts: list[str]) -> int:
    """A seed for one batch that depends on its prompts, so results do not depend on worker order."""
    digest = hashlib.sha256(json.dumps([seed, prompts]).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "little")


def check_hf_checkpoint(path: str) -> None:
    """Fail early, with the fix, when ``path`` is not a seq2seq model directory."""
    if not os.path.isdir(path):
        raise GeneratorError(f"hf:{path}: no such directory (give a local model directory saved with save_pretrained)")
    config_path = os.path.join(path, "config.json")
    if not os.path.isfile(config_path):
        raise GeneratorError(f"hf:{path}: not a Hugging Face model directory (no config.json)")
    try:
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
    except ValueError as exc:
        raise GeneratorError(f"hf:{path}: config.json is not valid JSON ({exc})") from exc
    if not config.get("is_encoder_decoder", False):
        raise GeneratorError(
            f"hf:{path}: model type {config.get('model_type')!r} is not a seq2seq (encoder-decoder) model")
    weights = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")
    if not any(os.path.isfile(os.path.join(path, w)) for w in weights):
        raise GeneratorError(f"hf:{path}: no model weights (model.safetensors or pytorch_model.bin)")
    tokenizer_files = ("tokenizer.json", "tokenizer_config.json", "spiece.model", "vocab.json")
    if not any(os.path.isfile(os.path.join(path, t)) for t in tokenizer_files):
        raise GeneratorError(f"hf:{path}: no tokenizer files beside the model (save the tokenizer there too)")


class HFSeq2SeqGenerator:
    """Batched generation with a local Hugging Face seq2seq checkpoint (T5, BART, ...)."""

    def __init__(self, path: str, config: GenerationConfig) -> None:
        check_hf_checkpoint(path)
        try:
            import torch
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - transformers is in the dev and models extras
            raise GeneratorError("hf: generators need transformers: pip install 'corpusforge[models]'") from exc
        self.path, self.config = path, config
        self.device = resolve_device(config.device)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.model = AutoModelForSeq2SeqLM.from_pretrained(path).to(self.device).eval()
        except (OSError, ValueError) as exc:
            raise GeneratorError(f"hf:{path}: cannot load the model ({exc})") from exc
        self._torch = torch
        self.stats: dict[str, int] = {"prompts": 0, "truncated_inputs": 0, "empty_outputs": 0}

    def generate(self, prompts: list[str]) -> list[list[str]]:
        cfg, torch = self.config, self._torch
        out: list[list[str]] = []
        for start in range(0, len(prompts), cfg.batch_size):
            batch = prompts[start:start + cfg.batch_size]
            enc = self.tokenizer(batch)
            too_long = sum(len(ids) > cfg.max_input_tokens for ids in enc["input_ids"])
            if too_long:  # tokenize again only when a prompt needs cutting (the tokenizer keeps its end token)
                self.stats["truncated_inputs"] += too_long
                enc = self.tokenizer(batch, truncation=True, max_length=cfg.max_input_tokens)
            enc = self.tokenizer.pad(enc, return_tensors="pt").to(self.device)
            torch.manual_seed(batch_seed(cfg.seed, batch))
            with torch.inference_mode():
                ids = self.model.generate(
                    **enc, max_new_tokens=cfg.max_new_tokens, do_sample=cfg.do_sample,
                    top_k=cfg.top_k if cfg.do_sample else None, temperature=cfg.temperature if cfg.do_sample else None,
                    num_beams=cfg.num_beams, num_return_sequences=cfg.num_return_sequences)
            texts = [t.strip() for t in self.tokenizer.batch_decode(ids, skip_special_tokens=True)]
            k = cfg.num_return_sequences
            for i in range(len(batch)):
                out.append(texts[i * k:(i + 1) * k])
        self.stats["prompts"] += len(prompts)
        self.stats["empty_outputs"] += sum(1 for outs in out for t in outs if not t)
        return out


GeneratorFactory = Callable[[str, GenerationConfig], TextGenerator]
# scheme -> (factory, spec checker, module that registers it when imported)
_REGISTRY: dict[str, tuple[GeneratorFactory, Callable[[str], None]]] = {
    "hf": (HFSeq2SeqGenerator, check_hf_checkpoint),
}
_PROVIDERS = {"native": "trainer.generate"}


def register_generator(scheme: str, factory: GeneratorFactory, check: Callable[[str], None]) -> None:
    """Make ``scheme:PATH`` specs build generators with ``factory`` (``check`` validates PATH early)."""
    _REGISTRY[scheme] = (factory, check)


def _lookup(spec: str) -> tuple[GeneratorFactory, Callable[[str], None], str]:
    scheme, sep, path = spec.partition(":")
    if not sep or not path:
        raise GeneratorError(f"generator {spec!r}: expected hf:PATH or native:CHECKPOINT")
    if scheme not in _REGISTRY and scheme in _PROVIDERS:
        importlib.import_module(_PROVIDERS[scheme])
    if scheme not in _REGISTRY:
        known = sorted(set(_REGISTRY) | set(_PROVIDERS))
        raise GeneratorError(f"generator {spec!r}: unknown kind {scheme!r} (known: {', '.join(known)})")
    factory, check = _REGISTRY[scheme]
    return factory, check, path


def check_generator_spec(spec: str) -> None:
    """Raise :class:`GeneratorError` unless ``spec`` names a usable generator (no model is loaded)."""
    _, check, path = _lookup(spec)
    check(path)


def make_generator(spec: str, config: GenerationConfig) -> TextGenerator:
    """Build the generator named by ``spec`` (``hf:PATH`` or ``native:CHECKPOINT``)."""
    factory, check, path = _lookup(spec)
    check(path)
    return factory(path, config)
