"""Train a tokenizer (HF ``tokenizers``) on a stream of corpus texts and write its directory.

``train(TrainConfig(...))`` validates everything first (:func:`validate`), then streams the
texts (:class:`tokenizer.corpus.TextStream`) into ``Tokenizer.train_from_iterator`` and
writes ``tokenizer.json``, ``special_tokens_map.json`` and ``tokenizer_config.json``
atomically (a temporary directory beside the output, then a rename).

The three models:

* ``bpe``: byte-level BPE as GPT-2: ``ByteLevel(add_prefix_space=False)`` pre-tokenizer,
  the 256 byte symbols as the initial alphabet, ``ByteLevel`` decoder, no normalizer and no
  unknown token, so ``decode(encode(s).ids, skip_special_tokens=False) == s`` for every
  string.
* ``wordpiece``: BERT style: ``BertNormalizer`` (lower-casing optional),
  ``BertPreTokenizer``, ``WordPiece`` decoder with ``##`` continuations, and a
  ``TemplateProcessing`` post-processor that adds ``[CLS] A [SEP]`` / ``[CLS] A [SEP] B [SEP]``.
* ``unigram``: SentencePiece style: ``Metaspace`` pre-tokenizer and decoder (``▁``),
  an unknown token for characters outside the vocabulary.

Reproducibility: the documents read are the same for the same inputs, sampling and seed.
Byte-level BPE training is deterministic (same ``tokenizer.json`` bytes); WordPiece and
Unigram training in ``tokenizers`` 0.23 are not (hash-map iteration order inside the
trainer, huggingface/tokenizers#1794), so their ids can differ between runs.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tokenizer.corpus import CorpusError, TextStream
from tokenizer.special_tokens import MODELS, SpecialTokens

BYTE_ALPHABET = 256
FILES = ("tokenizer.json", "special_tokens_map.json", "tokenizer_config.json")


class UsageError(ValueError):
    """A bad argument, reported before any work is done."""


@dataclass
class TrainConfig:
    """Everything ``python -m tokenizer train`` takes."""

    inputs: list[str]
    output: str
    model: str
    vocab_size: int
    text_field: str = "text"
    id_field: str | None = "id"
    eod_token: str | None = None
    pad_token: str | None = None
    unk_token: str | None = None
    fim: bool = False
    socialchem: bool = False
    special_tokens: list[str] = field(default_factory=list)
    lowercase: bool | None = None  # wordpiece only; None = default (False: cased)
    min_frequency: int = 2
    limit_alphabet: int | None = None  # wordpiece only
    model_max_length: int = 2048
    max_docs: int | None = None
    sample_fraction: float = 1.0
    seed: int = 0
    overwrite: bool = False
    show_progress: bool = True


@dataclass
class TrainResult:
    """What a training run read and wrote."""

    output: str
    model: str
    vocab_size: int
    requested_vocab_size: int
    eod_token: str
    eod_id: int
    special_tokens: list[str]
    files: int
    docs: int
    bytes: int
    empty: int
    sampled_out: int
    dropped: dict[str, int]
    seconds: float
    corpus_summary: str = ""

    def summary(self) -> str:
        mbps = self.bytes / 1e6 / self.seconds if self.seconds > 0 else float("nan")
        lines = [
            f"train: {self.model} tokenizer, vocabulary {self.vocab_size:,} (asked for {self.requested_vocab_size:,}), "
            f"{len(self.special_tokens)} special tokens, end-of-document {self.eod_token} = {self.eod_id}",
            f"read {self.corpus_summary}",
            f"wrote {self.output}/{{{', '.join(FILES)}}} in {self.seconds:.1f} s ({mbps:.2f} MB/s of text)",
        ]
        return "\n".join(lines)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def check_output(output: str, overwrite: bool) -> None:
    """Refuse an existing non-empty output unless ``overwrite`` (and then only a tokenizer dir)."""
    if not output:
        raise UsageError("--output must not be empty")
    if "://" in output:
        raise UsageError(f"--output {output}: only local directories can be written")
    if os.path.exists(output) and not os.path.isdir(output):
        raise UsageError(f"--output {output} is a file; choose a directory")
    if os.path.isdir(output) and os.listdir(output):
        if not overwrite:
            raise UsageError(f"--output {output} already exists and is not empty; pass --overwrite to replace it "
                             "or choose another directory")
        if not os.path.isfile(os.path.join(output, "tokenizer.json")):
            raise UsageError(f"--output {output} is not empty and is not a tokenizer directory (no tokenizer.json); "
                             "refusing to replace it even with --overwrite")
    parent = os.path.dirname(os.path.abspath(output))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.access(parent, os.W_OK):
        raise UsageError(f"--output {output}: cannot write under {parent}")


def validate(config: TrainConfig, log: Callable[[str], None] | None = _stderr) -> tuple[SpecialTokens, TextStream]:
    """Check every argument and input file; return the special tokens and the text stream."""
    if config.model not in MODELS:
        raise UsageError(f"unknown --model {config.model!r}; choose one of {', '.join(MODELS)}")
    if config.model != "wordpiece":
        if config.lowercase is not None:
            raise UsageError("--lowercase/--no-lowercase applies to --model wordpiece only")
        if config.limit_alphabet is not None:
            raise UsageError("--limit-alphabet applies to --model wordpiece only")
    if config.model == "bpe" and config.unk_token is not None:
        raise UsageError("byte-level BPE has no unknown token (every byte is in the vocabulary); drop --unk-token")
    try:
        specials = SpecialTokens(config.model, eod=config.eod_token, pad=config.pad_token, unk=config.unk_token,
                                 fim=config.fim, socialchem=config.socialchem, extra=config.special_tokens)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    k = len(specials.ordered)
    if config.vocab_size < 1:
        raise UsageError("--vocab-size must be positive")
    if config.model == "bpe" and config.vocab_size < k + BYTE_ALPHABET:
        raise UsageError(f"--vocab-size {config.vocab_size} is too small: byte-level BPE needs at least "
                         f"{k} special tokens + {BYTE_ALPHABET} byte symbols = {k + BYTE_ALPHABET}")
    if config.model != "bpe" and config.vocab_size <= k:
        raise UsageError(f"--vocab-size {config.vocab_size} is too small for the {k} special tokens; it must be larger "
                         "than that plus the characters of the corpus")
    if config.limit_alphabet is not None:
        if config.limit_alphabet < 1:
            raise UsageError("--limit-alphabet must be positive")
        if config.vocab_size < k + config.limit_alphabet:
            raise UsageError(f"--vocab-size {config.vocab_size} is too small for {k} special tokens + "
                             f"--limit-alphabet {config.limit_alphabet}")
    if config.min_frequency < 0:
        raise UsageError("--min-frequency must not be negative")
    if config.model_max_length < 1:
        raise UsageError("--model-max-length must be positive")
    check_output(config.output, config.overwrite)
    try:
        stream = TextStream(config.inputs, text_field=config.text_field, id_field=config.id_field,
                            max_docs=config.max_docs, sample_fraction=config.sample_fraction, seed=config.seed, log=log)
        stream.check()
    except CorpusError as exc:
        raise UsageError(str(exc)) from exc
    return specials, stream


def build(config: TrainConfig, specials: SpecialTokens):
    """An untrained ``tokenizers.Tokenizer`` with its pipeline, and the matching trainer."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    special = specials.ordered
    if config.model == "bpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        tok.decoder = decoders.ByteLevel()
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        trainer = trainers.BpeTrainer(
            vocab_size=config.vocab_size, min_frequency=config.min_frequency, special_tokens=special,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=config.show_progress)
    elif config.model == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token=specials.unk, continuing_subword_prefix="##"))
        tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                    lowercase=bool(config.lowercase))
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece(prefix="##")
        kwargs = {} if config.limit_alphabet is None else {"limit_alphabet": config.limit_alphabet}
        trainer = trainers.WordPieceTrainer(
            vocab_size=config.vocab_size, min_frequency=config.min_frequency, special_tokens=special,
            continuing_subword_prefix="##", show_progress=config.show_progress, **kwargs)
    else:
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
        trainer = trainers.UnigramTrainer(
            vocab_size=config.vocab_size, special_tokens=special, unk_token=specials.unk,
            show_progress=config.show_progress)
    return tok, trainer


def finish(tok, config: TrainConfig, specials: SpecialTokens) -> None:
    """After training: post-processor (wordpiece) and a check that special ids are 0..k-1."""
    from tokenizers import processors

    for i, t in enumerate(specials.ordered):
        got = tok.token_to_id(t)
        if got != i:
            raise RuntimeError(f"special token {t!r} got id {got}, expected {i} (a tokenizers version change?)")
    if config.model == "wordpiece":
        cls, sep = specials.cls, specials.sep
        tok.post_processor = processors.TemplateProcessing(
            single=f"{cls} $A {sep}", pair=f"{cls} $A {sep} $B:1 {sep}:1",
            special_tokens=[(cls, tok.token_to_id(cls)), (sep, tok.token_to_id(sep))])


def hf_config(config: TrainConfig, specials: SpecialTokens, block: dict) -> dict:
    """``tokenizer_config.json``: what ``PreTrainedTokenizerFast.from_pretrained`` reads, plus ours."""
    out: dict = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": config.model_max_length,
        "clean_up_tokenization_spaces": config.model == "wordpiece",
    }
    out.update(specials.hf_map())
    if config.model == "bpe":
        out["add_prefix_space"] = False
    if config.model == "wordpiece":
        out["do_lower_case"] = bool(config.lowercase)
        out["model_input_names"] = ["input_ids", "token_type_ids", "attention_mask"]
    else:
        out["model_input_names"] = ["input_ids", "attention_mask"]
    out["corpusforge"] = block
    return out


def write_dir(output: str, files: dict[str, bytes], overwrite: bool) -> None:
    """Write ``files`` into ``output`` atomically: a temporary sibling directory, then a rename."""
    output = os.path.abspath(output)
    parent = os.path.dirname(output)
    os.makedirs(parent, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    tmp = os.path.join(parent, f".{os.path.basename(output)}.tmp-{tag}")
    os.mkdir(tmp)
    try:
        for name, data in files.items():
            with open(os.path.join(tmp, name), "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        if os.path.isdir(output):
            if os.listdir(output):
                check_output(output, overwrite)  # the directory may have changed while training
                old = os.path.join(parent, f".{os.path.basename(output)}.old-{tag}")
                os.rename(output, old)
                os.rename(tmp, output)
                shutil.rmtree(old, ignore_errors=True)
                return
            os.rmdir(output)
        os.rename(tmp, output)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


def train_tokenizer(texts: Iterable[str] | Iterable[list[str]], config: TrainConfig, specials: SpecialTokens,
                    length: int | None = None):
    """Train on any iterable of texts (or of lists of texts); return the finished Tokenizer."""
    tok, trainer = build(config, specials)
    try:
        tok.train_from_iterator(texts, trainer, length=length)
    except Exception as exc:
        if "not large enough" in str(exc):
            raise UsageError(f"--vocab-size {config.vocab_size} is too small for the {len(specials.ordered)} special "
                             f"tokens plus every character of the corpus ({exc}); raise --vocab-size") from exc
        raise
    finish(tok, config, specials)
    return tok


def train(config: TrainConfig, log: Callable[[str], None] | None = _stderr) -> TrainResult:
    """Validate, stream, train, write. Raises UsageError for bad arguments, before any work."""
    import tokenizers

    specials, stream = validate(config, log=log)
    t0 = time.perf_counter()
    if log:
        log(f"train: {config.model}, vocab size {config.vocab_size:,}, {len(specials.ordered)} special tokens, "
            f"{len(stream.files)} input file(s) ({stream.total_bytes() / 1e6:,.1f} MB on disk) -> {config.output}")
    # One text at a time: tokenizers pulls 256 items per refill, so batches would multiply what it holds.
    tok = train_tokenizer(iter(stream), config, specials, length=stream.estimated_docs())
    stats = stream.stats
    if stats.docs == 0:
        raise UsageError(f"no text to train on: {stats.summary()}; check --text-field, --sample-fraction and the inputs")
    seconds = time.perf_counter() - t0
    vocab_size = tok.get_vocab_size(with_added_tokens=True)
    if log and vocab_size > config.vocab_size:
        log(f"note: the vocabulary has {vocab_size:,} entries, more than --vocab-size {config.vocab_size:,}: the corpus "
            "has more distinct characters than the vocabulary leaves room for"
            + (" (use --limit-alphabet)" if config.model == "wordpiece" else ""))
    eod_id = tok.token_to_id(specials.eod)
    block = {
        "model": config.model,
        "vocab_size": vocab_size,
        "requested_vocab_size": config.vocab_size,
        "eod_token": specials.eod,
        "eod_id": eod_id,
        "pad_token": specials.pad,
        "pad_id": tok.token_to_id(specials.pad),
        "unk_token": specials.unk,
        "special_tokens": specials.ordered,
        "fim": config.fim,
        "socialchem": config.socialchem,
        "lowercase": bool(config.lowercase) if config.model == "wordpiece" else None,
        "min_frequency": config.min_frequency,
        "trained_on": list(config.inputs),
        "files": stats.files_read,
        "docs": stats.docs,
        "bytes": stats.bytes,
        "empty_docs": stats.empty,
        "sampled_out": stats.sampled_out,
        "dropped": dict(stats.dropped),
        "file_failures": stats.failures(),
        "text_field": config.text_field,
        "max_docs": config.max_docs,
        "sample_fraction": config.sample_fraction,
        "seed": config.seed,
        "seconds": round(seconds, 3),
        "tokenizers_version": tokenizers.__version__,
    }
    files = {
        "tokenizer.json": tok.to_str(pretty=True).encode("utf-8"),
        "special_tokens_map.json": _json(specials.hf_map()),
        "tokenizer_config.json": _json(hf_config(config, specials, block)),
    }
    write_dir(config.output, files, config.overwrite)
    seconds = time.perf_counter() - t0
    return TrainResult(
        output=config.output, model=config.model, vocab_size=vocab_size, requested_vocab_size=config.vocab_size,
        eod_token=specials.eod, eod_id=eod_id, special_tokens=specials.ordered, files=stats.files_read,
        docs=stats.docs, bytes=stats.bytes, empty=stats.empty, sampled_out=stats.sampled_out,
        dropped=dict(stats.dropped), seconds=seconds, corpus_summary=stats.summary())


def _json(obj) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
