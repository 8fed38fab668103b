"""Mining SOCIAL-CHEM situations from text: advice-forum titles and confession sentences.

Heuristics (each candidate records which one fired, as ``pattern``):

* ``aita``: a line or sentence starting with AITA / AITAH / "Am I the asshole" / WIBTA /
  "Would I be the asshole", followed by ``for X`` (X kept: "AITA for telling my boyfriend")
  or ``if I X`` (X turned into a gerund phrase: "WIBTA if I told" -> "telling"). Area
  ``amitheasshole``.
* ``wrong``: "Am I / Was I / Would I be wrong (to X | for X-ing)", "Is it / Would it be wrong
  (to X | that I X)", "Am I a bad person for X-ing", "Am I overreacting (for|by) X-ing". Area
  ``amitheasshole``.
* ``confession``: "I confess (that) I X", "Confession: I X", "I have a confession: I X",
  "I feel guilty (about|for) X-ing / that I X", "I secretly X". Area ``confessions``.

Normalisation to the dataset's style: bracketed tags ("[UPDATE]") and everything after the
first sentence end are cut, the verb after a first-person subject becomes a gerund (a table
of irregular verbs plus spelling rules; negations become "not X-ing"), the phrase is
lower-cased except the pronoun "I" (as in the release: "telling my boyfriend I am bored"),
and trailing punctuation goes. A phrase that does not start with a gerund (or "not"/"never"
+ gerund) is dropped as ``not_gerund``. Filters: length in words, a word list (a small
built-in profanity list plus the user's file), URLs and handles. Dedup is exact on a key
(lower-case letters and digits only); the ``situation-short-id`` is ``PREFIX/AREA/CODE``
with CODE a base32 hash of that key, so it does not depend on which copy survives.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

AREA_AITA = "amitheasshole"
AREA_CONFESSIONS = "confessions"

# -- verbs ---------------------------------------------------------------------------------

_IRREGULAR_PAST = {
    "was": "be", "were": "be", "had": "have", "did": "do", "went": "go", "told": "tell", "said": "say",
    "took": "take", "gave": "give", "made": "make", "left": "leave", "kept": "keep", "stole": "steal",
    "ate": "eat", "drank": "drink", "bought": "buy", "brought": "bring", "thought": "think", "got": "get",
    "forgot": "forget", "forgave": "forgive", "sent": "send", "spent": "spend", "lent": "lend", "lost": "lose",
    "met": "meet", "paid": "pay", "ran": "run", "sat": "sit", "saw": "see", "sold": "sell", "spoke": "speak",
    "stood": "stand", "swore": "swear", "taught": "teach", "threw": "throw", "understood": "understand",
    "woke": "wake", "wore": "wear", "won": "win", "wrote": "write", "broke": "break", "chose": "choose",
    "came": "come", "became": "become", "drove": "drive", "fell": "fall", "felt": "feel", "fought": "fight",
    "found": "find", "flew": "fly", "froze": "freeze", "grew": "grow", "heard": "hear", "hid": "hide",
    "held": "hold", "knew": "know", "led": "lead", "let": "let", "lied": "lie", "lay": "lie", "meant": "mean",
    "put": "put", "quit": "quit", "read": "read", "rode": "ride", "rang": "ring", "rose": "rise", "sang": "sing",
    "shot": "shoot", "shut": "shut", "slept": "sleep", "slid": "slide", "sought": "seek", "stuck": "stick",
    "struck": "strike", "swam": "swim", "took-off": "take-off", "tore": "tear", "upset": "upset", "hit": "hit",
    "cut": "cut", "set": "set", "showed": "show", "began": "begin", "bit": "bite", "blew": "blow",
    "built": "build", "caught": "catch", "dealt": "deal", "drew": "draw", "dug": "dig", "fed": "feed",
    "forbade": "forbid", "hung": "hang", "kicked": "kick", "laid": "lay", "overslept": "oversleep",
    "ignored": "ignore", "refused": "refuse", "snuck": "sneak", "sneaked": "sneak", "wept": "weep",
    "withdrew": "withdraw", "cancelled": "cancel", "canceled": "cancel", "travelled": "travel",
    "traveled": "travel", "labelled": "label", "added": "add", "visited": "visit", "edited": "edit",
    "limited": "limit", "exited": "exit", "credited": "credit", "inherited": "inherit", "focused": "focus",
    "opened": "open", "targeted": "target", "budgeted": "budget", "invited": "invite", "excited": "excite",
    "united": "unite", "died": "die", "tied": "tie", "vomited": "vomit", "texted": "text", "ghosted": "ghost",
}
_NOT_PAST = {"need", "feed", "bleed", "breed", "speed", "proceed", "succeed", "exceed", "embed", "shed", "wed",
             "seed", "weed", "heed", "bed", "red", "shred", "sled", "plead"}
_KEEP_DOUBLE = {"add", "odd", "err", "purr", "ebb", "egg", "inn"}
# multi-syllable verbs stressed on the last syllable: they double the final consonant
_DOUBLE_FINAL = {"refer", "prefer", "forget", "admit", "commit", "regret", "omit", "permit", "occur", "upset",
                 "begin", "submit", "transfer", "confer", "control", "patrol", "compel", "expel", "rebel", "equip",
                 "forbid", "acquit", "deter", "incur", "recur", "abet", "allot", "outwit", "overstep", "unplug"}
_ITE_WITH_E = {"invit", "excit", "unit", "recit", "ignit", "cit", "writ", "bit", "spit"}
_VOWELS = set("aeiou")


def _syllables(word: str) -> int:
    return max(1, len(re.findall(r"[aeiouy]+", word)))


def past_to_base(word: str) -> str:
    """Base form of a past-tense verb (``refused`` -> ``refuse``); other words unchanged."""
    if word in _IRREGULAR_PAST:
        return _IRREGULAR_PAST[word]
    if not word.endswith("ed") or len(word) <= 3 or word in _NOT_PAST:
        return word
    stem = word[:-2]
    if stem.endswith("i") and len(stem) > 2 and stem[-2] not in _VOWELS:
        return stem[:-1] + "y"  # cried, married, worried
    if stem.endswith("e"):
        return stem + "e"  # agreed, freed
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] in "bdgmnprt" and stem not in _KEEP_DOUBLE:
        return stem[:-1]  # stopped, planned, admitted
    if stem[-1] in "vcuz" or stem.endswith(("dg", "ang")) or (stem[-1] == "s" and not stem.endswith("ss")):
        return stem + "e"  # moved, forced, argued, judged, changed, refused
    if len(stem) >= 3 and stem[-1] not in _VOWELS | {"w", "x", "y"} and stem[-2] in _VOWELS \
            and stem[-3] not in _VOWELS:
        if stem[-1] == "r":
            return stem if stem[-2] == "e" else stem + "e"  # offered / shared, ignored
        if stem.endswith(("at", "ut", "ot", "et", "iz", "is")) and stem[-2:] != "et" or stem.endswith("plet"):
            return stem + "e"  # hated, created, voted, completed
        if stem.endswith("it"):
            return stem + "e" if stem in _ITE_WITH_E else stem
        if _syllables(stem) == 1:
            return stem + "e"  # liked, hoped, named, smiled
    return stem


def gerund(base: str) -> str:
    """``-ing`` form of a base verb with English spelling rules (``stop`` -> ``stopping``)."""
    if base in ("be", "see", "flee", "free", "agree", "guarantee", "knee", "canoe", "tiptoe", "eye"):
        return base + "ing"
    if base.endswith("ie"):
        return base[:-2] + "ying"
    if base.endswith("ee") or base.endswith("ye") or base.endswith("oe"):
        return base + "ing"
    if base.endswith("e") and len(base) > 2:
        return base[:-1] + "ing"
    if base.endswith("c") and len(base) > 3:
        return base + "king"  # panic -> panicking
    core = base[2:] if base.startswith("qu") else base
    cvc = (len(core) >= 2 and base[-1] not in _VOWELS | {"w", "x", "y"} and base[-2] in _VOWELS
           and (len(core) == 2 or core[-3] not in _VOWELS))
    if cvc and (_syllables(core) == 1 or base in _DOUBLE_FINAL):
        return base + base[-1] + "ing"
    return base + "ing"


def is_gerund(word: str) -> bool:
    return len(word) > 4 and word.endswith("ing") and word not in {"thing", "nothing", "something", "everything",
                                                                    "anything", "morning", "evening", "wedding",
                                                                    "building", "ceiling", "sibling", "darling",
                                                                    "during", "king", "ring", "sing", "bring"}


_NEGATIONS = {"don't": "not", "didn't": "not", "do not": "not", "did not": "not", "dont": "not", "didnt": "not",
              "never": "never", "won't": "not", "wouldn't": "not", "can't": "not", "couldn't": "not",
              "refuse to": "refusing to", "refused to": "refusing to", "wasn't": "not being", "am not": "not being",
              "haven't": "not having", "hadn't": "not having"}
_AUX_DROP = ("would ", "will ", "should ", "'d ", "were to ", "was to ", "am going to ", "'m going to ",
             "was going to ", "decided to ", "decide to ", "chose to ", "choose to ", "want to ", "wanted to ",
             "tried to ", "try to ")


def clause_to_gerund(clause: str) -> str:
    """A first-person clause without its subject ("told my mom ...") as a gerund phrase.

    >>> clause_to_gerund("told my sister she can't come")
    "telling my sister she can't come"
    >>> clause_to_gerund("didn't go to my dad's wedding")
    "not going to my dad's wedding"
    """
    text = clause.strip()
    low = text.lower()
    prefix = ""
    for neg, repl in sorted(_NEGATIONS.items(), key=lambda kv: -len(kv[0])):
        if low.startswith(neg + " "):
            prefix = repl + " "
            text = text[len(neg) + 1:].lstrip()
            low = text.lower()
            if repl.endswith(("being", "having", "to")):
                return prefix + text
            break
    for aux in _AUX_DROP:
        if low.startswith(aux.lstrip("'")) and aux[0] != "'":
            text = text[len(aux):].lstrip()
            low = text.lower()
            break
    for be in ("was ", "am ", "'m ", "were "):
        if low.startswith(be.lstrip("'")):
            rest = text[len(be.lstrip("'")):].lstrip()
            first = rest.split(" ", 1)[0].lower()
            return prefix + (rest if is_gerund(first) else "being " + rest)
    words = text.split(" ", 1)
    verb = words[0].lower()
    if is_gerund(verb):
        return prefix + text
    if not verb.isalpha():
        return prefix + text
    return prefix + " ".join([gerund(past_to_base(verb))] + words[1:])


# -- patterns --------------------------------------------------------------------------------

_AITA = r"(?:aitah?|am\s+i\s+the\s+(?:asshole|a[-\s]?hole|jerk|ah)|wibtah?|would\s+i\s+be\s+the\s+(?:asshole|a[-\s]?hole|jerk)|aita/wibta|wibta/aita)"
_PATTERNS: list[tuple[str, str, re.Pattern]] = [
    ("aita", AREA_AITA, re.compile(rf"^{_AITA}\b[\s:,.-]*(?P<how>for|if\s+i|if|to|by)\s+(?P<rest>.+)$", re.I)),
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
_TAG = re.compile(r"^\s*(?:\[[^\]]{0,40}\]|\([^)]{0,40}\))\s*|\s*(?:\[[^\]]{0,40}\]|\([^)]{0,40}\))\s*$")
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
    text = _strip_tags(unicodedata.normalize("NFKC", line).replace("\u2019", "'").strip())
    text = _SPACE.sub(" ", text)
    for name, area, rx in _PATTERNS:
        m = rx.match(text)
        if not m:
            continue
        rest = _first_sentence(m.group("rest"))
        how = (m.groupdict().get("how") or "").lower()
        how = _SPACE.sub(" ", how)
        if not rest:
            return None
        if how in ("for", "by", "about", "if"):
            phrase = rest  # "for X-ing" is already a gerund phrase; "if <not me>" is not first person
        else:  # "to X", "if I X", "that I X", a confession's "I X"
            phrase = clause_to_gerund(rest)
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
    first = text.split(" ", 1)[0]
    second = text.split(" ", 2)[1] if " " in text else ""
    if not (is_gerund(first) or first in ("not", "never") and is_gerund(second)):
        return "not_gerund"
    n = len(text.split())
    if all(w in _VAGUE for w in text.split()[1 + (first in ("not", "never")):]):
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

def measure(labelled: list[tuple[str, str]], config: MiningConfig | None = None) -> dict:
    """Yield, precision and recall on (text, expected situation or "") pairs.

    yield = inputs giving a situation / inputs; precision = mined situations equal to the
    expected one / mined; recall = correct / inputs with an expected situation.
    """
    config = config or MiningConfig()
    blocklist = BlockList(config.words())
    mined = correct = positives = 0
    misses = []
    for text, expected in labelled:
        positives += bool(expected)
        got = ""
        for cand in find_candidates(text, config.max_line_chars):
            result = normalize(cand, config, blocklist)
            if isinstance(result, Situation):
                got = result.situation
                break
        mined += bool(got)
        correct += bool(got) and got == expected
        if got != expected:
            misses.append({"text": text, "expected": expected, "got": got})
    return {"inputs": len(labelled), "positives": positives, "mined": mined, "correct": correct,
            "yield": mined / max(1, len(labelled)), "precision": correct / max(1, mined),
            "recall": correct / max(1, positives), "errors": misses}


def load_labelled(path: str) -> list[tuple[str, str]]:
    """A labelled sample: TSV ``text<TAB>expected`` (expected empty: no situation), # comments."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            text, _, expected = line.partition("\t")
            out.append((text, expected))
    return out
