"""English verb forms for situation mining, from lemminflect's dictionary (shipped in its wheel).

A clause becomes a gerund phrase only when its first word is a real verb form of the
dictionary ("told" -> "telling"); a word the dictionary knows only as another part of speech
("my", "friend") is never given an ``-ing``. Words the dictionary does not know at all are
verbs only by regular morphology: "-ed" as a past ("texted"), "-ing" as a gerund ("vaping").
"""

from __future__ import annotations

from functools import lru_cache

from lemminflect import getAllLemmas, getAllLemmasOOV, getInflection

_VERB_TAGS = ("VERB", "AUX")
#: -ing words that name things, not actions, even where the dictionary also lists a verb
_ING_NOUNS = frozenset({"thing", "nothing", "something", "everything", "anything", "morning", "evening", "wedding",
                        "building", "ceiling", "sibling", "darling", "during", "king", "ring", "sing", "bring",
                        "pudding", "awning", "thanksgiving", "spring", "string", "swing", "wing", "viking"})


@lru_cache(maxsize=65536)
def _lemmas(word: str) -> dict[str, tuple[str, ...]]:
    return getAllLemmas(word)


def known(word: str) -> bool:
    """Whether the dictionary lists the word at all (any part of speech)."""
    return bool(_lemmas(word.lower()))


def verb_lemma(word: str) -> str | None:
    """The base form of a verb form the dictionary knows (``told`` -> ``tell``), else None."""
    lemmas = _lemmas(word.lower())
    for tag in _VERB_TAGS:
        if tag in lemmas:
            return lemmas[tag][0]
    return None


def _forms(lemma: str, tag: str) -> tuple[str, ...]:
    return getInflection(lemma, tag) or ()


def is_past(word: str) -> bool:
    """A simple-past form that differs from the base (``refused``, ``got``; not ``put``)."""
    word = word.lower()
    lemma = verb_lemma(word)
    return lemma is not None and word != lemma and word in _forms(lemma, "VBD")


def is_past_participle(word: str) -> bool:
    """A past participle of a known verb (``called``, ``eaten``)."""
    word = word.lower()
    lemma = verb_lemma(word)
    return lemma is not None and word in _forms(lemma, "VBN")


def is_gerund(word: str) -> bool:
    """An ``-ing`` verb form: a known verb's VBG, or an unknown word ending in -ing ("vaping")."""
    word = word.lower()
    if len(word) <= 4 or not word.endswith("ing") or word in _ING_NOUNS:
        return False
    if not known(word):
        return word.isalpha()
    lemma = verb_lemma(word)
    return lemma is not None and word in _forms(lemma, "VBG")


def is_third_person_present(word: str) -> bool:
    """A verb's -s form (``wants``, ``is``): a finite verb with a third-person subject."""
    word = word.lower()
    lemma = verb_lemma(word)
    return lemma is not None and word != lemma and word in _forms(lemma, "VBZ")


def is_noun(word: str) -> bool:
    """A word the dictionary lists as a noun (``husband``, ``drama``)."""
    return "NOUN" in _lemmas(word.lower())


def is_adverb(word: str) -> bool:
    """A word the dictionary lists as an adverb and never as a noun or verb (``almost``, ``just``)."""
    lemmas = _lemmas(word.lower())
    return "ADV" in lemmas and not set(lemmas) & {"NOUN", "VERB", "AUX", "PROPN"}


def to_gerund(word: str) -> str | None:
    """The ``-ing`` form of a verb form (``told`` -> ``telling``); None when the word is no verb.

    Unknown words count only with the regular past ending ("texted" -> "texting").
    """
    low = word.lower()
    if is_gerund(low):
        return low
    if low in _ING_NOUNS:
        return None
    lemma = verb_lemma(low)
    if lemma is None:
        if known(low) or not low.endswith("ed") or len(low) < 5 or not low.isalpha():
            return None
        lemma = getAllLemmasOOV(low, "VERB")["VERB"][0]
    forms = getInflection(lemma, "VBG", inflect_oov=True)
    return forms[0] if forms else None

