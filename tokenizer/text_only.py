"""A copy of a tokenizer that encodes text as text: no spelling in a corpus text can become a
control id (end-of-document, pad, FIM, SOCIAL-CHEM markers, any other special token).

Hugging Face tokenizers match special tokens in the input string, so a page that quotes
``<|endoftext|>`` would end its document early. :func:`text_only` returns a copy in which

* every special token (and the end-of-document token, even where it is not marked special)
  is split into ordinary tokens (``Tokenizer.encode_special_tokens``);
* in vocabulary-lookup models (Unigram, WordPiece, WordLevel), whose vocabularies hold the
  special tokens as pieces (a Unigram special piece has the best score, 0.0), those pieces
  are renamed so no text can reach them; the ids of every other text are unchanged;
* a probe encodes every control token's spelling in a few contexts and raises
  :class:`TextOnlyError` if a control id still comes out (a model that cannot be fixed so).

The unknown token is not a control id: text yields it for characters outside the vocabulary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

UNREACHABLE = " \x00"  # appended to a control piece's name in the model vocabulary: no pre-token has a space
_LOOKUP_MODELS = ("Unigram", "WordPiece", "WordLevel")


class TextOnlyError(ValueError):
    """The tokenizer cannot encode text without producing control ids."""


@dataclass(frozen=True)
class TextOnly:
    """The text-only copy and what the tokenize job needs to know about its special ids."""

    tokenizer: Any  # tokenizers.Tokenizer: encode text with it
    marker_ids: dict[str, int]  # control token -> id: what a marker span may name (see pipeline.markup)
    control_ids: frozenset[int]  # ids text never yields (special tokens but unk, and end-of-document)
    control_mask: np.ndarray  # bool, indexed by id: True for control ids


def _unk_id(model: dict) -> int | None:
    if model.get("type") == "Unigram":
        return model.get("unk_id")
    unk, vocab = model.get("unk_token"), model.get("vocab")
    return vocab.get(unk) if isinstance(vocab, dict) and unk is not None else None


def _rename_pieces(model: dict, names: dict[int, str]) -> None:
    """Rename the control pieces of a vocabulary-lookup model so no text can match them."""
    vocab = model.get("vocab")
    if model.get("type") not in _LOOKUP_MODELS or not vocab:
        return
    if isinstance(vocab, list):  # Unigram: [[piece, score], ...], id = position
        for i, name in names.items():
            if i < len(vocab) and vocab[i][0] == name:
                vocab[i][0] = name + UNREACHABLE
    else:  # token -> id
        model["vocab"] = {(k + UNREACHABLE if names.get(v) == k else k): v for k, v in vocab.items()}


def text_only(tokenizer: Any, eod_id: int | None = None) -> TextOnly:
    """The text-only copy of a ``tokenizers.Tokenizer`` (the original is left as it is), or of the
    one whose ``to_str()`` text ``tokenizer`` is (a worker given that text builds only the copy).

    Only the library's own serialization will do, not a ``tokenizer.json`` as written: a file may
    declare an added token at an id the library moves it from when it loads the file, and the
    control ids are read from the serialization.
    """
    import tokenizers
    from tokenizers import Tokenizer

    spec = json.loads(tokenizer if isinstance(tokenizer, str) else tokenizer.to_str())
    model = spec.get("model") or {}
    added = spec.get("added_tokens") or []
    unk = _unk_id(model)
    control = {t["id"] for t in added if t.get("special") and t["id"] != unk}
    if eod_id is not None:
        control.add(int(eod_id))
    names = {t["id"]: t["content"] for t in added if t["id"] in control}
    for t in added:
        if t["id"] in control:
            t["special"] = True  # a non-special added token would still be matched
    _rename_pieces(model, names)
    copy = Tokenizer.from_str(json.dumps(spec))
    if not hasattr(copy, "encode_special_tokens"):
        raise TextOnlyError(f"tokenizers {tokenizers.__version__} cannot encode special-token spellings as text; "
                            "install tokenizers>=0.19")
    copy.encode_special_tokens = True
    size = max([copy.get_vocab_size(with_added_tokens=True), *(i + 1 for i in control)])
    mask = np.zeros(size, dtype=bool)
    mask[list(control)] = True
    _probe(copy, names, mask)
    return TextOnly(copy, {n: i for i, n in names.items()}, frozenset(control), mask)


def _probe(tokenizer: Any, names: dict[int, str], mask: np.ndarray) -> None:
    """Raise TextOnlyError when a control token's spelling, in a few contexts, yields a control id.

    One ``encode`` per text, not ``encode_batch``: a batch starts the tokenizer's thread pool, and a
    process forked after that (a job's local workers, forked after the driver's checks) has the
    library's parallelism switched off for good, one thread per worker however many it was given.
    """
    texts = [t for name in names.values() for t in (name, f" {name}", f"a{name}a", f"x {name} {name}\n")]
    for text in texts:
        hit = [i for i in tokenizer.encode(text, add_special_tokens=False).ids if i < mask.size and mask[i]]
        if hit:
            raise TextOnlyError(f"the tokenizer encodes the text {text!r} as control id(s) {hit}: it cannot encode "
                                "corpus text as text (its model produces its special tokens from their spelling)")
