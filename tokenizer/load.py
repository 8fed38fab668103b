"""Load a tokenizer directory: as a ``tokenizers.Tokenizer``, as a ``transformers`` fast
tokenizer, or just its facts (:class:`TokenizerInfo`).

A tokenizer directory holds ``tokenizer.json`` (required), ``special_tokens_map.json`` and
``tokenizer_config.json`` (written by ``python -m tokenizer train``; optional here, so plain
Hugging Face tokenizer directories load too). Paths with a scheme (``gs://``, ``s3://``)
are read through :mod:`pipeline.fileio` (fsspec).

    from tokenizer.load import TokenizerInfo, load_hf, load_tokenizer

    tok = load_tokenizer("out/tok")                # tokenizers.Tokenizer
    info = TokenizerInfo("out/tok")
    ids = tok.encode(text, add_special_tokens=False).ids + [info.eod_id]
    hf = load_hf("out/tok")                        # transformers.PreTrainedTokenizerFast
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Any

from pipeline import fileio

TOKENIZER_JSON = "tokenizer.json"
SPECIAL_TOKENS_MAP = "special_tokens_map.json"
TOKENIZER_CONFIG = "tokenizer_config.json"
HF_ROLES = ("eos_token", "pad_token", "unk_token", "cls_token", "sep_token", "mask_token", "bos_token")
TRANSFORMERS_HINT = "pip install 'transformers>=4.40,<6'"


class TokenizerDirError(ValueError):
    """The path is not a (readable) tokenizer directory."""


def _directory(path: str) -> str:
    """Accept the directory or its tokenizer.json; raise TokenizerDirError when it is neither."""
    path = str(path)
    if path.rstrip("/").endswith("/" + TOKENIZER_JSON) or path == TOKENIZER_JSON:
        path = path.rstrip("/")[: -len(TOKENIZER_JSON)].rstrip("/") or "."
    if not fileio.is_file(fileio.join(path, TOKENIZER_JSON)):
        raise TokenizerDirError(f"{path} is not a tokenizer directory (no {TOKENIZER_JSON})")
    return path


def _read_json(path: str, required: bool) -> dict:
    if not required and not fileio.is_file(path):
        return {}
    try:
        obj = json.loads(fileio.read_bytes(path))
    except (OSError, ValueError) as exc:
        raise TokenizerDirError(f"{path}: cannot read it as JSON ({exc})") from exc
    if not isinstance(obj, dict):
        raise TokenizerDirError(f"{path}: expected a JSON object")
    return obj


def _content(token: Any) -> str | None:
    """A special token as HF writes it: a string or an AddedToken dict."""
    if isinstance(token, dict):
        token = token.get("content")
    return token if isinstance(token, str) else None


def load_tokenizer(directory: str):
    """The ``tokenizers.Tokenizer`` of a tokenizer directory (or of its tokenizer.json)."""
    from tokenizers import Tokenizer

    directory = _directory(directory)
    path = fileio.join(directory, TOKENIZER_JSON)
    try:
        if fileio.is_remote(path):
            return Tokenizer.from_str(fileio.read_bytes(path).decode("utf-8"))
        return Tokenizer.from_file(path)
    except Exception as exc:  # noqa: BLE001 - tokenizers raises a bare Exception on bad JSON
        raise TokenizerDirError(f"{path}: not a valid tokenizers file ({exc})") from exc


class TokenizerInfo:
    """Facts about a tokenizer directory, without ``transformers``.

    Attributes: ``directory``, ``model`` (``bpe``, ``wordpiece``, ``unigram``, or the lower-cased
    model type of a foreign tokenizer), ``byte_level``, ``vocab_size`` (number of ids, added
    tokens included: every id is below it), ``eod_token`` / ``eod_id`` (end of document: our
    block, else the ``eos_token``, else ``<|endoftext|>`` when present; None only for a foreign
    tokenizer without one), ``pad_token``/``pad_id``, ``unk_token``/``unk_id`` (None without),
    ``special_tokens`` (token -> id, by id), ``special_tokens_map``, ``config``
    (tokenizer_config.json), ``corpusforge`` (our block of it, {} for foreign tokenizers),
    ``model_max_length``, ``tokenizer_json`` (its path) and ``sha256`` (of tokenizer.json).
    Raises :class:`TokenizerDirError` (a ValueError) when ``directory`` has no tokenizer.json.
    """

    def __init__(self, directory: str) -> None:
        self.directory = _directory(directory)
        self.tokenizer_json = fileio.join(self.directory, TOKENIZER_JSON)
        self._raw = fileio.read_bytes(self.tokenizer_json)
        try:
            spec = json.loads(self._raw)
            model = spec["model"]
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenizerDirError(f"{self.tokenizer_json}: not a tokenizers file ({exc})") from exc
        self.special_tokens_map = _read_json(fileio.join(self.directory, SPECIAL_TOKENS_MAP), required=False)
        self.config = _read_json(fileio.join(self.directory, TOKENIZER_CONFIG), required=False)
        self.corpusforge: dict = self.config.get("corpusforge") or {}
        from tokenizers import Tokenizer

        try:
            tok = Tokenizer.from_str(self._raw.decode("utf-8"))
        except Exception as exc:  # noqa: BLE001 - tokenizers raises a bare Exception on bad JSON
            raise TokenizerDirError(f"{self.tokenizer_json}: not a valid tokenizers file ({exc})") from exc
        self.tokenizer = tok  # the tokenizers.Tokenizer, as the library read the file
        self.vocab_size: int = tok.get_vocab_size(with_added_tokens=True)
        self.byte_level = _has_type(spec.get("pre_tokenizer"), "ByteLevel")
        model_type = str(model.get("type") or "").lower()
        self.model: str = self.corpusforge.get("model") or ("bpe" if model_type == "bpe" else model_type)
        self.special_tokens: dict[str, int] = dict(sorted(
            ((t["content"], t["id"]) for t in spec.get("added_tokens") or [] if t.get("special")),
            key=lambda kv: kv[1]))

        def role(name: str) -> str | None:
            return _content(self.special_tokens_map.get(name)) or _content(self.config.get(name))

        self.eod_token: str | None = self.corpusforge.get("eod_token") or role("eos_token")
        if self.eod_token is None and tok.token_to_id("<|endoftext|>") is not None:
            self.eod_token = "<|endoftext|>"
        self.pad_token = role("pad_token")
        self.unk_token = role("unk_token") or model.get("unk_token")
        self.eod_id: int | None = tok.token_to_id(self.eod_token) if self.eod_token else None
        self.pad_id: int | None = tok.token_to_id(self.pad_token) if self.pad_token else None
        self.unk_id: int | None = tok.token_to_id(self.unk_token) if self.unk_token else None
        if self.model == "unigram" and self.unk_id is None and model.get("unk_id") is not None:
            self.unk_id = int(model["unk_id"])
            self.unk_token = tok.id_to_token(self.unk_id)
        self.model_max_length: int | None = self.config.get("model_max_length")

    @cached_property
    def sha256(self) -> str:
        """sha256 (hex) of tokenizer.json's bytes."""
        return hashlib.sha256(self._raw).hexdigest()

    def as_dict(self) -> dict:
        return {
            "directory": self.directory, "model": self.model, "byte_level": self.byte_level,
            "vocab_size": self.vocab_size, "eod_token": self.eod_token, "eod_id": self.eod_id,
            "pad_token": self.pad_token, "pad_id": self.pad_id, "unk_token": self.unk_token, "unk_id": self.unk_id,
            "special_tokens": self.special_tokens, "model_max_length": self.model_max_length,
            "sha256": self.sha256,
        }

    def __repr__(self) -> str:
        return (f"TokenizerInfo({self.directory!r}, model={self.model!r}, vocab_size={self.vocab_size}, "
                f"eod_id={self.eod_id}, special_tokens={len(self.special_tokens)})")


def _has_type(component: Any, name: str) -> bool:
    """Whether a tokenizer.json component (possibly a Sequence) contains a ``name`` step."""
    if not isinstance(component, dict):
        return False
    if component.get("type") == name:
        return True
    return any(_has_type(c, name) for key in ("pretokenizers", "processors", "decoders")
               for c in component.get(key) or [])


def load_hf(directory: str, **kwargs):
    """A ``transformers.PreTrainedTokenizerFast`` with the directory's special-token roles.

    eos/pad/unk/cls/sep/mask tokens and the additional special tokens come from
    ``special_tokens_map.json``, ``model_max_length`` from ``tokenizer_config.json``;
    ``kwargs`` override them. (``PreTrainedTokenizerFast.from_pretrained(directory)`` works as
    well, through tokenizer_config.json.)
    """
    try:
        from transformers import PreTrainedTokenizerFast
    except ImportError as exc:
        raise ImportError(f"load_hf needs transformers: {TRANSFORMERS_HINT}") from exc
    info = TokenizerInfo(directory)
    args: dict[str, Any] = {}
    for name in HF_ROLES:
        value = _content(info.special_tokens_map.get(name)) or _content(info.config.get(name))
        if value:
            args[name] = value
    additional = info.special_tokens_map.get("additional_special_tokens") or info.config.get(
        "additional_special_tokens")
    if additional:
        args["additional_special_tokens"] = [_content(t) for t in additional if _content(t)]
    if info.model_max_length:
        args["model_max_length"] = info.model_max_length
    if "clean_up_tokenization_spaces" in info.config:
        args["clean_up_tokenization_spaces"] = info.config["clean_up_tokenization_spaces"]
    args.update(kwargs)
    if fileio.is_remote(info.tokenizer_json):
        return PreTrainedTokenizerFast(tokenizer_object=info.tokenizer, **args)
    return PreTrainedTokenizerFast(tokenizer_file=info.tokenizer_json, **args)
