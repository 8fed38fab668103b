"""Control-token markers in corpus rows, placed by construction: a row's text and, in its
``meta`` JSON, the character spans that a producing job inserted on purpose as special tokens.

Text is always tokenized as text, so a spelling such as ``<|endoftext|>`` or ``[rot]`` in a
page is ordinary characters. A job that means a control token (the SOCIAL-CHEM attribute
tokens, the doc2query separator) builds its text with :func:`join_with_markers` and stores
the spans under ``meta["special_spans"]``: ``[[start, end], ...]``, Python string (code
point) offsets, sorted and not overlapping, each covering exactly one special token's
spelling. The tokenize job encodes each span as that token's id and the rest as text.

    >>> text, spans = join_with_markers(["a cat ", Marker("[rot]"), " it is fine"])
    >>> text, spans
    ('a cat [rot] it is fine', [[6, 11]])
    >>> segments(text, spans)
    [('a cat ', False), ('[rot]', True), (' it is fine', False)]
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SPECIAL_SPANS = "special_spans"  # the meta key
BAD_SPANS = "bad_special_spans"  # drop reason: spans that are malformed or do not fit the text
UNKNOWN_MARKER = "marker_not_in_tokenizer"  # drop reason: a span's text is no special token of the tokenizer


class MarkupError(ValueError):
    """A row's ``special_spans`` cannot be used; ``reason`` is the stats drop reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class Marker:
    """A special token's spelling that the producing job means as the token itself."""

    token: str


def join_with_markers(parts: Iterable[str | Marker]) -> tuple[str, list[list[int]]]:
    """Concatenate text parts and markers; return the text and the markers' ``[start, end]``
    spans (the value of ``meta["special_spans"]``)."""
    pieces: list[str] = []
    spans: list[list[int]] = []
    pos = 0
    for part in parts:
        if isinstance(part, Marker):
            if not part.token:
                raise ValueError("a marker must not be empty")
            spans.append([pos, pos + len(part.token)])
            piece = part.token
        else:
            piece = part
        pieces.append(piece)
        pos += len(piece)
    return "".join(pieces), spans


def spans_from_meta(meta: str | Mapping[str, Any] | None) -> list[tuple[int, int]] | None:
    """The ``special_spans`` of a row's meta (JSON text or dict); None when it has none.
    Raises :class:`MarkupError` (``bad_special_spans``) when they are not ``[[int, int], ...]``."""
    if meta is None:
        return None
    if isinstance(meta, str):
        if SPECIAL_SPANS not in meta:
            return None
        try:
            meta = json.loads(meta)
        except ValueError as exc:
            raise MarkupError(BAD_SPANS, f"meta is not JSON ({exc})") from exc
    if not isinstance(meta, Mapping) or SPECIAL_SPANS not in meta:
        return None
    raw = meta[SPECIAL_SPANS]
    if not isinstance(raw, list) or not all(
            isinstance(s, list) and len(s) == 2 and all(type(v) is int for v in s) for s in raw):
        raise MarkupError(BAD_SPANS, f"{SPECIAL_SPANS} must be a list of [start, end] integer pairs, got {raw!r:.120}")
    return [(s[0], s[1]) for s in raw]


def resolve_markers(text: str, spans: Iterable[tuple[int, int]], special_ids: Mapping[str, int],
                    forbidden: Collection[int] = ()) -> list[tuple[int, int, int]]:
    """``(start, end, token id)`` of each span. Raises :class:`MarkupError`: ``bad_special_spans``
    when spans are out of order, overlap, leave the text or name a ``forbidden`` id (the
    end-of-document token, which only the tokenize job places); ``marker_not_in_tokenizer``
    when a span's text is not one of ``special_ids``."""
    out: list[tuple[int, int, int]] = []
    for start, end in check_spans(text, spans):
        token = text[start:end]
        token_id = special_ids.get(token)
        if token_id is None:
            raise MarkupError(UNKNOWN_MARKER, f"span [{start}, {end}] is {token!r:.80}, not a special token of the "
                                              "tokenizer")
        if token_id in forbidden:
            raise MarkupError(BAD_SPANS, f"span [{start}, {end}] is {token!r}, which only the tokenize job places "
                                         "(at the end of each document)")
        out.append((start, end, token_id))
    return out


def check_spans(text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans, checked: non-empty, in order, not overlapping, inside the text; raises
    :class:`MarkupError` (``bad_special_spans``) otherwise."""
    out = []
    prev = 0
    for start, end in spans:
        if not prev <= start < end <= len(text):
            raise MarkupError(BAD_SPANS, f"span [{start}, {end}] is empty, out of order, overlapping or past the "
                                         f"end of the text ({len(text)} characters)")
        out.append((start, end))
        prev = end
    return out


def segments(text: str, spans: Iterable[tuple[int, int]] | Iterable[list[int]]) -> list[tuple[str, bool]]:
    """The text cut at the spans: ``(piece, is_marker)`` in order, empty text pieces left out."""
    out: list[tuple[str, bool]] = []
    prev = 0
    for start, end, *_ in spans:
        if start > prev:
            out.append((text[prev:start], False))
        out.append((text[start:end], True))
        prev = end
    if prev < len(text):
        out.append((text[prev:], False))
    return out
