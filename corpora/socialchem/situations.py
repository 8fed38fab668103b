"""Mining SOCIAL-CHEM situations from text: advice-forum titles and confession sentences.

Heuristics (each candidate records which one fired, as ``pattern``):

* ``aita``: a line or sentence starting with AITA / AITAH / "Am I the asshole" / WIBTA /
  "Would I be the asshole" (doubled or completed: "AITA- Am I the Asshole for", "AITA the
  asshole for"), then ``for X`` / ``after X`` (X kept: "AITA for telling my boyfriend"),
  ``if/when/after/because/cause/since I X`` or ``to X`` (X turned into a gerund phrase:
  "WIBTA if I told" -> "telling"), or a verb straight after the trigger: a gerund kept
  ("AITA - Moving on fast"), a past tense or a negation turned ("AITA-got into" -> "getting
  into", "AITA, wont let" -> "not letting"); a get-passive ("AITA got called") is no action.
  Age tags ("(25m)", "[24F]") are removed anywhere, a title wholly in brackets is unwrapped.
  Area ``amitheasshole``.
* ``wrong``: "Am I / Was I / Would I be wrong (to X | for X-ing)", "Is it / Would it be wrong
  (to X | that I X)", "Am I a bad person for X-ing", "Am I overreacting (for|by) X-ing". Area
  ``amitheasshole``.
* ``confession``: "I confess (that) I X", "Confession: I X", "I have a confession: I X",
  "I feel guilty (about|for) X-ing / that I X", "I secretly X". Area ``confessions``.

Normalisation to the dataset's style: bracketed tags ("[UPDATE]") and everything after the
first sentence end are cut, the verb after a first-person subject becomes a gerund only when
lemminflect's dictionary knows it as a verb (:mod:`corpora.socialchem.verbs`; negations become
"not X-ing", "wanna" is "want to"), the phrase is
lower-cased except the pronoun "I" (as in the release: "telling my boyfriend I am bored"),
and trailing punctuation goes. A phrase that does not start with a gerund (after at most two
adverbs and "not"/"never") is dropped as ``not_gerund``. Filters: length in words, a word list (a small
built-in profanity list plus the user's file), URLs and handles. Dedup is exact on a key
(lower-case letters and digits only); the ``situation-short-id`` is ``PREFIX/AREA/CODE``
with CODE a base32 hash of that key, so it does not depend on which copy survives.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from corpora.socialchem.files import open_text
from corpora.socialchem.verbs import (
    is_adverb,
    is_gerund,
    is_noun,
    is_past,
    is_past_participle,
    is_third_person_present,
    to_gerund,
    verb_lemma,
)

AREA_AITA = "amitheasshole"
AREA_CONFESSIONS = "confessions"

# -- verbs ---------------------------------------------------------------------------------

_NEGATIONS = {"don't": "not", "didn't": "not", "do not": "not", "did not": "not", "dont": "not", "didnt": "not",
              "never": "never", "won't": "not", "wont": "not", "wouldn't": "not", "can't": "not", "couldn't": "not",
              "refuse to": "refusing to", "refused to": "refusing to", "wasn't": "not being", "am not": "not being",
              "haven't": "not having", "hadn't": "not having"}
_NEGATIONS_LONGEST_FIRST = sorted(_NEGATIONS.items(), key=lambda kv: -len(kv[0]))
_AUX_DROP = ("would ", "will ", "should ", "were to ", "was to ", "am going to ", "was going to ", "decided to ",
             "decide to ", "chose to ", "choose to ", "tried to ", "try to ")
#: spoken contractions written out, so their verb is found ("wanna close" -> "want to close")
_INFORMAL = {"wanna": "want to", "gonna": "going to", "gotta": "have to"}
_INFORMAL_RX = re.compile(r"\b(" + "|".join(_INFORMAL) + r")\b", re.I)
_MAX_ADVERBS = 2


def _adverbs(words: list[str]) -> int:
    """How many leading words are adverbs ("almost", "accidentally"), at most two."""
    n = 0
    while n < min(_MAX_ADVERBS, len(words) - 1) and is_adverb(words[n]):
        n += 1
    return n


def _negation(low: str) -> tuple[str, str] | None:
    for neg, repl in _NEGATIONS_LONGEST_FIRST:
        if low.startswith(neg + " "):
            return neg, repl
    return None


def clause_to_gerund(clause: str) -> str | None:
    """A first-person clause without its subject ("told my mom ...") as a gerund phrase, or None
    when the clause does not start with a real verb (lemminflect's dictionary decides).

    >>> clause_to_gerund("told my sister she can't come")
    "telling my sister she can't come"
    >>> clause_to_gerund("didn't go to my dad's wedding")
    "not going to my dad's wedding"
    >>> clause_to_gerund("my husband is mad") is None
    True
    """
    text = _INFORMAL_RX.sub(lambda m: _INFORMAL[m.group(1).lower()], clause.strip())
    low = text.lower()
    prefix = ""
    neg = _negation(low)
    if neg:
        prefix = neg[1] + " "
        text = text[len(neg[0]) + 1:].lstrip()
        low = text.lower()
        if neg[1].endswith(("being", "having", "to")):
            return prefix + text
    for aux in _AUX_DROP:
        if low.startswith(aux):
            text = text[len(aux):].lstrip()
            low = text.lower()
            break
    for be in ("was ", "am ", "were "):
        if low.startswith(be):
            rest = text[len(be):].lstrip()
            return prefix + (rest if is_gerund(rest.split(" ", 1)[0]) else "being " + rest)
    words = text.split(" ")
    skip = _adverbs(words)
    ing = to_gerund(words[skip]) if words[skip] else None
    if ing is None:
        return None
    return prefix + " ".join(words[:skip] + [ing] + words[skip + 1:])


def _direct_phrase(rest: str) -> str | None:
    """A verb straight after the trigger ("AITA Treating my friend ...", "AITA-got into ...") as a
    gerund phrase; None for anything else (a noun, an imperative, a get-passive: "got called")."""
    words = rest.split(" ")
    skip = _adverbs(words)
    first = words[skip].strip(",.:;!?").lower()
    if is_gerund(first):
        if len(words) > skip + 2 and is_noun(words[skip + 1]) and is_third_person_present(words[skip + 2]):
            return None  # "Cheating husband wants ...": an -ing adjective before a subject, no action
        return rest
    if _negation(rest.lower()):
        return clause_to_gerund(rest)
    if not is_past(first):
        return None
    if verb_lemma(first) == "get" and len(words) > skip + 1 and is_past_participle(words[skip + 1]):
        return None  # "got called and asked ...": something done to the poster, not an action
    return clause_to_gerund(rest)


def gerund_head(words: list[str]) -> int | None:
    """Index of the gerund that heads a situation ("almost getting ...", "not telling ..."), or None."""
    i = _adverbs(words)
    if i < len(words) and words[i] in ("not", "never"):
        i += 1
    return i if i < len(words) and is_gerund(words[i]) else None


# -- patterns --------------------------------------------------------------------------------

_AITA = r"(?:aitah?|am\s+i\s+the\s+(?:asshole|a[-\s]?hole|jerk|ah)|wibtah?|would\s+i\s+be\s+the\s+(?:asshole|a[-\s]?hole|jerk)|aita/wibta|wibta/aita)"
_SEP = r"[\s:;,.!?~*\-\u2013\u2014]*"
# the trigger, repeated or completed ("AITA- Am I the Asshole for", "AITA the asshole for")
_TRIGGER = rf"{_AITA}\b(?:{_SEP}(?:{_AITA}|(?:the\s+)?(?:asshole|a-hole)\b))*{_SEP}"
_CONNECTOR = r"(?P<how>(?:if|when|after|because|b?cause|'cause|cuz|since)\s+i(?=\s)|for|by|if|to|after)"
_PATTERNS: list[tuple[str, str, re.Pattern]] = [
    ("aita", AREA_AITA, re.compile(rf"^{_TRIGGER}{_CONNECTOR}\s+(?P<rest>.+)$", re.I)),
    ("aita", AREA_AITA, re.compile(rf"^{_TRIGGER}(?P<how>)(?P<rest>[^\W\d_].*)$", re.I)),  # a verb straight after
    ("wrong", AREA_AITA, re.compile(
        r"^(?:am|was|would)\s+i\s+(?:be\s+)?(?:wrong|in\s+the\s+wrong|a\s+bad\s+(?:person|friend|parent|son|"
        r"daughter|sister|brother|partner)|selfish|unreasonable|overreacting|rude|petty)\s+"
        r"(?P<how>to|for|by|if\s+i)\s+(?P<rest>.+)$", re.I)),
    ("wrong", AREA_AITA, re.compile(
        r"^(?:is|would)\s+it\s+(?:be\s+)?(?:wrong|rude|selfish|bad|unreasonable)\s+(?:of\s+me\s+)?"
        r"(?P<how>to|that\s+i|if\s+i)\s+(?P<rest>.+)$", re.I)),
    ("confession", AREA_CONFESSIONS, re.compile(
        r"^(?:confession\s*:\s*i|i\s+(?:have\s+to\s+|need\s+to\s+|must\s+)?confess(?:\s+that)?\s*:?\s*i|"
        r"i\s+have\s+a\s+confession\s*:\s*i|i\s+secretly)\s+(?P<rest>.+)$", re.I)),
    ("confession", AREA_CONFESSIONS, re.compile(
        r"^i\s+(?:feel|felt)\s+(?:so\s+|really\s+)?(?:guilty|bad|ashamed)\s+(?P<how>about|for|that\s+i)\s+"
        r"(?P<rest>.+)$", re.I)),
]
#: connectors followed by a gerund phrase as it stands ("for X-ing"; "if"/"after" without "I")
_KEEP_AS_IS = ("for", "by", "about", "if", "after")
_TAG = re.compile(r"^\s*(?:\[[^\]]{0,40}\]|\([^)]{0,40}\))\s*|\s*(?:\[[^\]]{0,40}\]|\([^)]{0,40}\))\s*$")
# age/gender tags anywhere: "(30m)", "[24F]", "(M25)", "[40s M]", "(25m/23f)"
_AGE = r"(?:\d{1,2}\s*s?\s*(?:[mf]|nb)?|(?:[mf]|nb)\s*\d{1,2})"
_AGE_TAG = re.compile(rf"\s*[(\[]\s*{_AGE}(?:\s*[/,&]\s*{_AGE})*\s*[)\]]", re.I)
_WRAPPED = re.compile(r"^\s*(?:\[(?P<a>[^\[\]]+)\]|\((?P<b>[^()]+)\))\s*$")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]\"'])[?!.]+(?:\s+|$)|\s+[-|]\s+", re.I)
_SENTENCES = re.compile(r"[^.!?\n]+[.!?]*")
_SPACE = re.compile(r"\s+")
_URL = re.compile(r"https?://|www\.|@\w|\.com\b", re.I)
_I_FORMS = re.compile(r"\bi(?=\b|'m\b|'ve\b|'d\b|'ll\b)", re.I)

# a gerund followed only by these says nothing about a situation ("doing this", "feeling this way")
_VAGUE = {"this", "that", "it", "so", "way", "here", "there", "now", "the", "a", "about", "like", "for", "to",
          "me", "you", "them", "him", "her", "things", "thing", "anything", "something", "everything", "too", "bad",
          "good", "such", "again", "more", "all"}

DEFAULT_BLOCKLIST: tuple[str, ...] = (
    "fuck", "fucking", "fucked", "shit", "cunt", "bitch", "whore", "slut", "nigger", "nigga", "faggot", "fag",
    "retard", "retarded", "rape", "raped", "dick", "cock", "pussy", "twat", "wanker", "kike", "spic", "chink",
)


@dataclass
class MiningConfig:
    """Parameters of mining; saved into manifest.json."""

    min_words: int = 3
    max_words: int = 30
    blocklist: list[str] = field(default_factory=list)  # extra words/phrases (lower-case)
    use_default_blocklist: bool = True
    id_prefix: str = "web"
    max_line_chars: int = 400  # longer lines are scanned only by their sentences

    def words(self) -> list[str]:
        return sorted(set((list(DEFAULT_BLOCKLIST) if self.use_default_blocklist else []) + self.blocklist))


@dataclass
class Candidate:
    """A matched line or sentence before normalisation: where it came from and which rule fired."""

    raw: str
    pattern: str
    area: str
    phrase: str  # the part after the trigger, already as a gerund phrase
    source_id: str = ""
    url: str | None = None


@dataclass
class Situation:
    """A mined situation in the dataset's style, with its stable id and prefilled characters."""

    situation: str
    situation_short_id: str
    area: str
    characters: list[str]
    pattern: str
    raw: str
    source_id: str
    url: str | None
    key: str

    def as_dict(self) -> dict:
        return asdict(self)


def _strip_tags(text: str) -> str:
    prev = None
    while prev != text:
        prev, text = text, _TAG.sub("", text).strip()
    return text


def _first_sentence(text: str) -> str:
    m = _SENTENCE_END.search(text)
    return text[:m.start()].strip() if m else text.strip()


def match_line(line: str) -> Candidate | None:
    """The candidate in one line or sentence, if a heuristic fires on it."""
    text = unicodedata.normalize("NFKC", line).replace("\u2019", "'").replace("\u2018", "'").strip()
    wrapped = _WRAPPED.match(text)
    if wrapped:  # a whole title in brackets: "[AITA for ...]"
        text = wrapped.group("a") or wrapped.group("b")
    text = _SPACE.sub(" ", _strip_tags(_AGE_TAG.sub("", text)))
    for name, area, rx in _PATTERNS:
        m = rx.match(text)
        if not m:
            continue
        rest = _first_sentence(m.group("rest"))
        how = _SPACE.sub(" ", (m.groupdict().get("how") or "").lower())
        if not rest:
            return None
        if how in _KEEP_AS_IS:
            phrase = rest  # "for X-ing" is already a gerund phrase; "if <not me>" is not first person
        elif name == "aita" and not how:
            phrase = _direct_phrase(rest)
            if phrase is None:
                return None
        else:  # "to X", "if I X", "when I X", "that I X", a confession's "I X"
            phrase = clause_to_gerund(rest) or rest  # no verb: kept, to be dropped as not_gerund
        return Candidate(raw=line.strip(), pattern=name, area=area, phrase=phrase)
    return None


def find_candidates(text: str, max_line_chars: int = 400) -> list[Candidate]:
    """Candidates of one document: every line (titles) and every sentence of longer lines."""
    out: list[Candidate] = []
    seen: set[str] = set()
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        pieces = [line] if len(line) <= max_line_chars else []
        if len(line) > 60 or not pieces:
            pieces += [s.strip() for s in _SENTENCES.findall(line) if s.strip() and s.strip() != line]
        for piece in pieces:
            cand = match_line(piece[:max_line_chars])
            if cand and cand.phrase.lower() not in seen:
                seen.add(cand.phrase.lower())
                out.append(cand)
    return out


def style(phrase: str) -> str:
    """Dataset style: lower case except the pronoun I, single spaces, no trailing punctuation."""
    text = _SPACE.sub(" ", phrase).strip().strip("\"'").rstrip(" .?!,;:-")
    text = text.lower()
    return _I_FORMS.sub("I", text)


def dedup_key(situation: str) -> str:
    """What two situations must share to be duplicates: lower-case letters and digits."""
    return " ".join(re.findall(r"[a-z0-9]+", situation.lower()))


def short_id(key: str, area: str, prefix: str = "web") -> str:
    """``PREFIX/AREA/CODE``: CODE is 8 base32 characters of a hash of the dedup key (stable)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=5).digest()
    return f"{prefix}/{area}/{base64.b32encode(digest).decode('ascii').lower()}"


class BlockList:
    """Whole-word (and phrase) matching of a word list, case-insensitive."""

    def __init__(self, words: Iterable[str]) -> None:
        words = sorted({w.strip().lower() for w in words if w.strip()}, key=len, reverse=True)
        self.pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.I) if words else None

    def find(self, text: str) -> str | None:
        if self.pattern is None:
            return None
        m = self.pattern.search(text)
        return m.group(0).lower() if m else None


def normalize(cand: Candidate, config: MiningConfig, blocklist: BlockList | None = None) -> Situation | str:
    """The situation of a candidate, or the reason it is dropped (``too_short``, ``blocked_word`` ...)."""
    text = style(cand.phrase)
    if not text:
        return "empty"
    if _URL.search(text):
        return "url_or_handle"
    words = text.split()
    head = gerund_head(words)
    if head is None:
        return "not_gerund"
    n = len(words)
    if all(w in _VAGUE for w in words[head + 1:]):
        return "too_vague"
    if n < config.min_words:
        return "too_short"
    if n > config.max_words:
        return "too_long"
    blocklist = blocklist or BlockList(config.words())
    if blocklist.find(text) or blocklist.find(cand.raw):
        return "blocked_word"
    key = dedup_key(text)
    return Situation(situation=text, situation_short_id=short_id(key, cand.area, config.id_prefix), area=cand.area,
                     characters=extract_characters(text), pattern=cand.pattern, raw=cand.raw,
                     source_id=cand.source_id, url=cand.url, key=key)


# -- characters ------------------------------------------------------------------------------

_PEOPLE = (
    "friend friends boyfriend girlfriend bf gf wife husband partner spouse fiance fiancee fiancé fiancée ex mom mum "
    "mother dad father parents parent sister sisters brother brothers sibling siblings son sons daughter daughters "
    "kid kids child children baby toddler teen teenager stepdaughter stepson stepmom stepmother stepdad stepfather "
    "cousin cousins aunt uncle niece nephew grandma grandmother grandpa grandfather grandparents in-laws "
    "mother-in-law father-in-law sister-in-law brother-in-law mil fil sil bil roommate roommates flatmate housemate "
    "neighbor neighbors neighbour neighbours coworker coworkers co-worker colleague colleagues boss manager "
    "employee employees employer landlord landlady tenant tenants teacher teachers student students classmate "
    "classmates bride groom bridesmaid bridesmaids guest guests host stranger strangers waiter waitress server "
    "customer customers client clients doctor nurse therapist date crush family relatives relative best-friend "
    "coach team teammate teammates bestie nanny babysitter"
).split()
_ADJ = ("best", "older", "younger", "little", "big", "new", "old", "ex", "future", "late", "former", "elderly",
        "pregnant", "step", "twin", "oldest", "youngest", "only", "close", "long-time", "adult", "teenage", "own",
        "soon-to-be", "autistic", "disabled", "sick", "male", "female")
_CHAR_RX = re.compile(
    r"\b(?P<det>my|a|an|the|our|his|her|their)\s+(?P<adj>(?:(?:" + "|".join(map(re.escape, _ADJ)) + r")\s+){0,2})"
    r"(?P<noun>" + "|".join(sorted(map(re.escape, _PEOPLE), key=len, reverse=True)) + r")(?:'s|s')?\b", re.I)
MAX_CHARACTERS = 6  # narrator + char-1..char-5


def extract_characters(situation: str) -> list[str]:
    """Characters of a situation, narrator first ("narrator|my boyfriend"), at most six."""
    out = ["narrator"]
    for m in _CHAR_RX.finditer(situation):
        name = f"{m.group('det')} {m.group('adj')}{m.group('noun')}".lower()
        name = _SPACE.sub(" ", name).strip()
        if name not in out:
            out.append(name)
        if len(out) == MAX_CHARACTERS:
            break
    return out


def mine_document(text: str, source_id: str, url: str | None, config: MiningConfig) -> list[Candidate]:
    """Candidates of one corpus document with where they came from (the Beam stage's core)."""
    cands = find_candidates(text, config.max_line_chars)
    for c in cands:
        c.source_id, c.url = source_id, url
    return cands


def pick(situations: list[Situation]) -> Situation:
    """The copy of duplicates to keep: smallest (source id, raw text), so any runner keeps the same."""
    return min(situations, key=lambda s: (s.source_id, s.raw))


# -- measuring the heuristics ----------------------------------------------------------------

def measure(labelled: list[tuple[str, str]], config: MiningConfig | None = None, loose: bool = False) -> dict:
    """Yield, precision and recall on (text, expected situation or "") pairs.

    yield = inputs giving a situation / inputs; precision = mined situations equal to the
    expected one / mined; recall = correct / inputs with an expected situation. ``loose``
    compares :func:`dedup_key` of both (case, punctuation and quote style aside).
    """
    config = config or MiningConfig()
    blocklist = BlockList(config.words())
    mined = correct = positives = 0
    misses = []
    for text, expected in labelled:
        positives += bool(expected)
        got, reason = "", "no_candidate"
        for cand in find_candidates(text, config.max_line_chars):
            result = normalize(cand, config, blocklist)
            if isinstance(result, Situation):
                got = result.situation
                break
            reason = result
        mined += bool(got)
        same = dedup_key(got) == dedup_key(expected) if loose else got == expected
        correct += bool(got) and same
        if not same:
            misses.append({"text": text, "expected": expected, "got": got, "reason": "" if got else reason})
    return {"inputs": len(labelled), "positives": positives, "mined": mined, "correct": correct,
            "yield": mined / max(1, len(labelled)), "precision": correct / max(1, mined),
            "recall": correct / max(1, positives), "errors": misses}


def load_labelled(path: str) -> list[tuple[str, str]]:
    """A labelled sample: TSV ``text<TAB>expected`` (expected empty: no situation), # comments;
    or JSONL ``{"title", "description"}`` (description null: no situation), by the extension."""
    out = []
    with open_text(path, encoding="utf-8-sig") as f:
        if path.endswith((".jsonl", ".json")):
            for line in f:
                if line.strip():
                    obj = json.loads(line)
                    out.append((obj["title"], obj.get("description") or ""))
            return out
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            text, _, expected = line.partition("\t")
            out.append((text, expected))
    return out
