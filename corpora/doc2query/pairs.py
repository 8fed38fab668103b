"""(passage, query) training pairs: MS MARCO-format files, or mined from our own corpora.

MS MARCO format (what the passage-ranking release ships):

* collection: ``pid<TAB>passage`` per line;
* queries: ``qid<TAB>query`` per line;
* qrels: ``qid<TAB>0<TAB>pid<TAB>rel`` (TREC style; spaces also accepted) or the
  2-column variant ``qid<TAB>pid``.

Every reader is a pure line parser returning a value or a :class:`BadLine` with its reason,
so the Beam shell counts and skips malformed lines instead of failing the job.

Mining without labels (``mine_pairs``) pairs a page's title or section headings with the
passage under them. It is a *noisy heuristic*: a heading is a short line without sentence
punctuation, which catches navigation labels, bylines and site names as well as real
headings; a heading is often a topic ("Autumn recipes"), not a question a searcher would
type. The job removes headings shared by many documents (site names, "Related articles").
The pairs are good enough to teach a small model the shape of "short text about this
passage", not to replace labelled queries.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass

from corpora.doc2query.passages import PassageConfig, sentence_windows, split_sentences, text_blocks

MAX_LINE_BYTES = 1 << 20  # 1 MiB: a longer line is not a passage, it is a broken file


@dataclass(frozen=True)
class BadLine:
    """A line that could not be used, and why (counted under ``reason``)."""

    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Pair:
    """One training pair. ``pid`` / ``qid`` identify passage and query in their collections."""

    pid: str
    qid: str
    passage: str
    query: str
    source: str  # "msmarco" or the corpus the pair was mined from
    split_key: str = ""  # what the train/held-out split hashes (the document for mined pairs)

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "split_key"}


def decode_line(raw: bytes | str, max_bytes: int = MAX_LINE_BYTES) -> str | BadLine:
    """A raw line (without its newline) as text, or why not (invalid UTF-8, too long)."""
    if isinstance(raw, str):
        return raw if len(raw) <= max_bytes else BadLine("line_too_long", f"{len(raw)} characters")
    if len(raw) > max_bytes:
        return BadLine("line_too_long", f"{len(raw)} bytes")
    try:
        return raw.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as exc:
        return BadLine("invalid_utf8", str(exc))


def parse_id_text(line: str) -> tuple[str, str] | BadLine:
    """``id<TAB>text`` (a collection or queries line) -> (id, text stripped)."""
    if not line.strip():
        return BadLine("blank_line")
    if "\t" not in line:
        return BadLine("no_tab", line[:200])
    key, text = line.split("\t", 1)
    key, text = key.strip(), " ".join(text.split())
    if not key:
        return BadLine("empty_id", line[:200])
    if not text:
        return BadLine("empty_text", key)
    return key, text


def parse_qrels(line: str) -> tuple[str, str, int] | BadLine:
    """A qrels line -> (qid, pid, relevance); 4 columns (TREC) or 2 columns (relevance 1)."""
    parts = line.split()
    if not parts:
        return BadLine("blank_line")
    if len(parts) == 4:
        qid, _, pid, rel = parts
        try:
            relevance = int(rel)
        except ValueError:
            return BadLine("bad_relevance", line[:200])
        return qid, pid, relevance
    if len(parts) == 2:
        return parts[0], parts[1], 1
    return BadLine("bad_columns", f"{len(parts)} columns: {line[:200]}")


# ---------------------------------------------------------------------------------------------
# Mining (heading, passage) pairs from a corpus document

_BYLINE = re.compile(r"(?:^|\D)(?:1[89]|20)\d\d(?:\D|$)|[\u00b7|\u00a9@]|https?://|www\.")
_SENTENCE_END = tuple(".!:;,\u3002\uff01\uff1b\uff0c")  # "?" is allowed: question headings are queries
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class MiningConfig:
    """Heading heuristics and passage size for mined pairs (see docs/doc2query.md)."""

    min_heading_words: int = 2
    max_heading_words: int = 16
    max_heading_chars: int = 150
    min_passage_words: int = 20  # CJK text: characters / 2 count as words
    pairs_per_section: int = 1  # passages (sentence windows) paired with each heading
    passage: PassageConfig = PassageConfig()
    use_meta_title: bool = True  # meta.title (when a corpus has it) heads the text before the first heading

    def __post_init__(self) -> None:
        if not 1 <= self.min_heading_words <= self.max_heading_words:
            raise ValueError("heading word limits must satisfy 1 <= min <= max")
        if self.pairs_per_section < 1:
            raise ValueError("pairs per section must be at least 1")


def _words(text: str) -> int:
    cjk = len(_CJK.findall(text))
    return len(text.split()) + cjk // 2


def is_heading(block: str, config: MiningConfig = MiningConfig()) -> bool:
    """Whether a text block looks like a title or heading: one short line, no sentence end,
    no byline markers (years, separators, links), at least one letter."""
    block = block.strip()
    if not block or "\n" in block or len(block) > config.max_heading_chars:
        return False
    if block.endswith(_SENTENCE_END) or _BYLINE.search(block):
        return False
    if not any(c.isalpha() for c in block):
        return False
    n = _words(block)
    return config.min_heading_words <= n <= config.max_heading_words


def _is_label(block: str, config: MiningConfig) -> bool:
    """A short single line without sentence punctuation that is not a heading (bylines, dates, menus)."""
    return "\n" not in block and len(block) <= config.max_heading_chars and not block.endswith(_SENTENCE_END + ("?",))


def sections(text: str, title: str | None = None, config: MiningConfig = MiningConfig()) -> list[tuple[str, str]]:
    """(heading, body) sections of a document: blocks are lines (a wrapped line, one starting in
    lower case, continues the previous one); in a run of
    headings the last one (closest to the body) heads it; short label lines (bylines, dates)
    are left out of bodies; text before any heading is headed by ``title`` when given."""
    out: list[tuple[str, str]] = []
    heading = title.strip() if title and title.strip() else None
    body: list[str] = []
    for block in text_blocks(text):
        if is_heading(block, config):
            if heading and body:
                out.append((heading, "\n\n".join(body)))
            heading, body = block, []
            continue
        if _is_label(block, config):
            continue  # a byline, date or navigation label: neither a heading nor passage text
        body.append(block)
    if heading and body:
        out.append((heading, "\n\n".join(body)))
    return out


def normalize_query(query: str) -> str:
    """The form used to compare queries across documents (case- and space-insensitive)."""
    return " ".join(query.lower().split())


def mine_pairs(doc_id: str, text: str, source: str, title: str | None = None,
               config: MiningConfig = MiningConfig()) -> tuple[list[Pair], str | None]:
    """Pairs of one document, or ([], reason) when it yields none (``no_heading``,
    ``short_passage``). Passage ids are ``<doc_id>-s<section>-p<window>``; the query id is
    ``<doc_id>-s<section>``, so pairs of one heading share their query."""
    if not text or not text.strip():
        return [], "empty_text"
    secs = sections(text, title if config.use_meta_title else None, config)
    if not secs:
        return [], "no_heading"
    pairs: list[Pair] = []
    for s, (heading, body) in enumerate(secs):
        if normalize_query(heading) in normalize_query(body[:len(heading) + 2]):
            continue  # the body starts with the heading: nothing to predict
        windows = sentence_windows(split_sentences(body), config.passage)[:config.pairs_per_section]
        for w, passage in enumerate(windows):
            if _words(passage) < config.min_passage_words:
                continue
            pairs.append(Pair(pid=f"{doc_id}-s{s}-p{w}", qid=f"{doc_id}-s{s}", passage=passage, query=heading,
                              source=source, split_key=doc_id))
    return pairs, (None if pairs else "short_passage")


def is_heldout(key: str, fraction: float, seed: int = 0) -> bool:
    """Deterministic held-out assignment by a hash of ``key`` (a document or passage id)."""
    if fraction <= 0:
        return False
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64 < fraction
