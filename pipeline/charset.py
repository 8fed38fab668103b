"""Decoding HTML bytes: valid UTF-8 as UTF-8, else the HTTP header charset, the HTML meta charset,
then detection."""

from __future__ import annotations

import codecs
import re

from resiliparse.parse.encoding import detect_encoding, map_encoding_to_html5

_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE
)
MAX_REPLACEMENT_FRACTION = 0.01


class UndecodableError(ValueError):
    """No candidate charset decodes the bytes without heavy loss."""


def _canonical(label: str | None) -> str | None:
    if not label:
        return None
    name = map_encoding_to_html5(label.strip().lower())
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


def meta_charset(body: bytes) -> str | None:
    """The charset named by a ``<meta>`` tag in the first 2 KB, if any."""
    m = _META_CHARSET.search(body[:2048])
    return _canonical(m.group(1).decode("ascii", "replace")) if m else None


def decode_html(body: bytes, header_charset: str | None) -> tuple[str, str, str]:
    """Return (text, charset, how) where how is ``header``, ``meta``, ``valid_utf8``,
    ``detected``, ``default`` or ``lossy``.

    Bytes with non-ASCII characters that are valid UTF-8 are UTF-8, whatever the page declares:
    text in a legacy charset is almost never valid multi-byte UTF-8 by chance, while pages that
    are UTF-8 but declare windows-1252 (or nothing, where detection can say windows-1252) are
    common, and any other reading turns their non-ASCII characters into mojibake (``â€¢``).
    Otherwise each declared candidate is tried strictly, then detection; if none decodes, the
    first is used with replacement characters, unless more than 1% of the characters would be
    replaced.
    """
    candidates: list[tuple[str, str]] = []
    for how, label in (("header", _canonical(header_charset)), ("meta", meta_charset(body))):
        if label and all(label != c for c, _ in candidates):
            candidates.append((label, how))
    if not body.isascii():
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return text, "utf-8", next((how for c, how in candidates if c == "utf-8"), "valid_utf8")
    for charset, how in candidates:
        try:
            return body.decode(charset), charset, how
        except (UnicodeDecodeError, LookupError):
            continue
    # Only now pay for detection: declared charsets are missing or wrong.
    detected = _canonical(detect_encoding(body, max_len=65536))
    if detected and all(detected != c for c, _ in candidates):
        candidates.append((detected, "detected"))
        try:
            return body.decode(detected), detected, "detected"
        except (UnicodeDecodeError, LookupError):
            pass
    if not candidates:
        candidates.append(("utf-8", "default"))
    charset = candidates[0][0]
    text = body.decode(charset, errors="replace")
    bad = text.count("\ufffd")
    if bad > MAX_REPLACEMENT_FRACTION * max(len(text), 1):
        raise UndecodableError(f"{bad} of {len(text)} characters invalid in {charset}")
    return text, charset, "lossy"
