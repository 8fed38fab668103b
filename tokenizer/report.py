"""``python -m tokenizer inspect``: what a tokenizer directory holds, and how it does on a sample.

On a sample of documents (``--sample CORPUS``), every text is encoded without special
tokens (no ``[CLS]``/``[SEP]``) and these are measured:

* fertility: tokens per whitespace-separated word;
* bytes (UTF-8) and characters per token;
* round trip, exact: ``decode(encode(text), skip_special_tokens=False) == text``; byte-level
  BPE must reach 100%;
* round trip, normalized: the same after applying the tokenizer's normalizer (e.g. BERT's
  lower-casing) to both sides and removing all whitespace: the share of texts whose content
  survives, which is what WordPiece and Unigram (that do not keep exact spacing) can reach;
* unknown-token rate: unknown tokens / all tokens (0 for byte-level BPE, which has none).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tokenizer.corpus import TextStream
from tokenizer.load import TokenizerInfo, load_tokenizer

ENCODE_BATCH = 256


def _first_difference(a: str, b: str, width: int = 30) -> str:
    i = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    lo = max(0, i - width // 2)
    return f"at char {i}: {a[lo:i + width // 2]!r} -> {b[lo:i + width // 2]!r}"


def sample_metrics(tok, info: TokenizerInfo, texts) -> dict:
    """Fertility, bytes/token, round-trip rates and unknown rate over an iterable of texts."""
    normalizer = tok.normalizer

    def squash(s: str) -> str:
        if normalizer is not None:
            s = normalizer.normalize_str(s)
        return "".join(s.split())

    docs = words = tokens = nbytes = chars = unk = exact = normalized = 0
    first_failure = None
    batch: list[str] = []

    def run(batch: list[str]) -> None:
        nonlocal docs, words, tokens, nbytes, chars, unk, exact, normalized, first_failure
        encodings = tok.encode_batch(batch, add_special_tokens=False)
        decoded = tok.decode_batch([e.ids for e in encodings], skip_special_tokens=False)
        for text, enc, back in zip(batch, encodings, decoded, strict=True):
            docs += 1
            words += len(text.split())
            tokens += len(enc.ids)
            nbytes += len(text.encode("utf-8"))
            chars += len(text)
            if info.unk_id is not None:
                unk += sum(1 for i in enc.ids if i == info.unk_id)
            if back == text:
                exact += 1
            elif first_failure is None:
                first_failure = f"document {docs}: {_first_difference(text, back)}"
            if back == text or squash(back) == squash(text):
                normalized += 1

    for text in texts:
        batch.append(text)
        if len(batch) >= ENCODE_BATCH:
            run(batch)
            batch = []
    if batch:
        run(batch)
    return {
        "docs": docs, "words": words, "tokens": tokens, "bytes": nbytes, "chars": chars,
        "fertility": tokens / words if words else None,
        "bytes_per_token": nbytes / tokens if tokens else None,
        "chars_per_token": chars / tokens if tokens else None,
        "round_trip_exact": exact / docs if docs else None,
        "round_trip_normalized": normalized / docs if docs else None,
        "unknown_tokens": unk if info.unk_id is not None else None,
        "unknown_rate": (unk / tokens if tokens else 0.0) if info.unk_id is not None else 0.0,
        "first_round_trip_failure": first_failure,
    }


def inspect_dir(directory: str, sample: list[str] | None = None, max_docs: int | None = 1000,
                text_field: str = "text", log: Callable[[str], None] | None = None) -> dict:
    """The report as a dict (``--json`` prints it as is). Raises TokenizerDirError / CorpusError."""
    t0 = time.perf_counter()
    info = TokenizerInfo(directory)
    report: dict = {"tokenizer": info.as_dict(), "trained": info.corpusforge or None}
    if sample:
        stream = TextStream(sample, text_field=text_field, max_docs=max_docs, log=log)
        stream.check()
        tok = load_tokenizer(directory)
        metrics = sample_metrics(tok, info, stream)
        metrics["read"] = stream.stats.summary()
        metrics["inputs"] = list(sample)
        report["sample"] = metrics
    report["seconds"] = round(time.perf_counter() - t0, 3)
    return report


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _wrap_specials(specials: dict[str, int], width: int = 100) -> list[str]:
    lines, line = [], "   "
    for tok, i in specials.items():
        item = f" {i}={tok}"
        if len(line) + len(item) > width and line.strip():
            lines.append(line)
            line = "   "
        line += item
    if line.strip():
        lines.append(line)
    return lines


def render(report: dict) -> str:
    """The report as the text ``inspect`` prints."""
    info = report["tokenizer"]
    model = info["model"] + (" (byte-level)" if info["byte_level"] else "")
    unk_token = "none" if info["unk_token"] is None else f"{info['unk_token']} = {info['unk_id']}"
    lines = [
        f"tokenizer        {info['directory']}",
        f"model            {model}",
        f"vocabulary size  {info['vocab_size']:,}",
        f"end of document  {info['eod_token']} = {info['eod_id']}",
        f"padding          {info['pad_token']} = {info['pad_id']}",
        f"unknown token    {unk_token}",
        f"max length       {info['model_max_length']}",
        f"sha256           {info['sha256']}",
        f"special tokens   {len(info['special_tokens'])} (id=token)",
        *_wrap_specials(info["special_tokens"]),
    ]
    trained = report.get("trained")
    if trained:
        lines.append(f"trained on       {', '.join(trained.get('trained_on', []))}: {trained.get('docs', 0):,} documents, "
                     f"{trained.get('bytes', 0) / 1e6:,.1f} MB in {trained.get('seconds', 0):.1f} s")
    sample = report.get("sample")
    if sample:
        unk = "n/a (no unknown token)" if sample["unknown_tokens"] is None else (
            f"{_pct(sample['unknown_rate'])} ({sample['unknown_tokens']:,} of {sample['tokens']:,} tokens)")
        lines += [
            f"sample           {', '.join(sample['inputs'])}: {sample['read']}",
            f"  fertility                {_num(sample['fertility'])} tokens per whitespace word",
            f"  bytes per token          {_num(sample['bytes_per_token'])}",
            f"  chars per token          {_num(sample['chars_per_token'])}",
            f"  round trip (exact)       {_pct(sample['round_trip_exact'])}",
            f"  round trip (normalized)  {_pct(sample['round_trip_normalized'])}  (normalizer applied, whitespace ignored)",
            f"  unknown-token rate       {unk}",
        ]
        if sample["first_round_trip_failure"]:
            lines.append(f"  first exact mismatch     {sample['first_round_trip_failure']}")
    return "\n".join(lines)
