"""The generic fallback: a grammatical clause for a relation that has no template, built from the
form of its label (KELM's property labels are noun phrases, verb phrases, "is a ..." phrases
and passive participles, and each needs its own frame):

* verb phrase ("has quality", "consists of", "is a list of", "was a crew member of",
  "compete in"): ``{subject} {label} {object}`` ("It has quality X");
* passive participle ("influenced by", "located in ...", "established"): ``{subject} is
  {label} {object}`` ("It is located in X", "It was established in 1850");
* noun + preposition ("member of", "instance of", "part of"): ``{subject} is a {label}
  {object}`` ("He is a member of X");
* adjective + preposition ("different from", "adjacent to"): ``{subject} is {label} {object}``;
* noun phrase (the rest: "battles", "record label", "country of citizenship"): ``His {label}
  is {object}``, plural labels and several values with "are" ("Its battles are X and Y",
  "His countries of citizenship are X and Y").

Dates take "in"/"on" after a label that does not end with a preposition ("was selected by NASA
in 1963"). All-capital labels (DART's ``LEADER_NAME``) are lower-cased, acronyms kept.
"""

from __future__ import annotations

import re

PREPOSITIONS = {"of", "in", "by", "for", "to", "from", "with", "at", "on", "as", "into", "after", "about",
                "against", "under", "over", "than", "via", "within", "near", "towards", "between", "among"}
FINITE_VERBS = {"has", "have", "had", "is", "are", "was", "were", "uses", "contains", "includes", "owns", "operates",
                "produces", "depicts", "describes", "follows", "replaces", "represents", "requires", "shares",
                "consists", "participates", "competes", "plays", "connects", "crosses", "drains", "flows", "lies",
                "speaks", "writes", "performs", "occupies", "serves", "belongs", "applies", "affects", "causes",
                "treats", "encodes", "interacts", "regulates", "measures", "publishes", "studies", "supports",
                "lacks", "does", "did", "can", "may", "holds", "carries", "runs", "hosts", "offers"}
BASE_VERBS = {"compete": "competes", "participate": "participates", "belong": "belongs", "consist": "consists",
              "play": "plays", "connect": "connects", "flow": "flows", "lie": "lies", "serve": "serves",
              "use": "uses", "contain": "contains", "include": "includes", "own": "owns", "operate": "operates",
              "produce": "produces", "depict": "depicts", "represent": "represents", "speak": "speaks",
              "host": "hosts", "offer": "offers", "hold": "holds"}
PAST_OF = {"has": "had", "have": "had", "is": "was", "are": "were"}
PARTICIPLES = {"born", "made", "known", "written", "built", "held", "shown", "given", "taken", "drawn", "sung",
               "won", "worn", "sold", "told", "found", "led", "kept", "set", "run", "seen", "done", "sent", "spent",
               "begun", "chosen", "spoken", "broken", "stolen", "frozen", "driven", "thrown", "grown", "flown",
               "laid", "paid", "bought", "brought", "taught", "thought", "fought", "caught", "sought", "meant",
               "lost", "left", "heard", "read", "dealt", "felt", "struck", "hung", "shot", "bound", "ground"}
NOT_PARTICIPLES = {"bed", "red", "seed", "feed", "need", "speed", "breed", "creed", "weed", "reed", "greed", "shed",
                   "sled", "hundred", "kindred", "bred", "embed", "deed", "steed", "med", "ted", "ned", "fled"}
ADJECTIVES = {"different", "adjacent", "similar", "present", "native", "equivalent", "opposite", "next", "related",
              "contemporary", "close", "parallel", "identical", "subject", "eligible", "endemic", "specific",
              "available", "applicable", "responsible", "relevant", "prior", "part"}
ADVERBS = {"first", "last", "originally", "formerly", "also", "officially", "commonly", "usually", "later", "once"}
NO_ARTICLE = {"part", "home", "head", "capital", "seat"}
_PLURAL_EXCEPTIONS = ("ss", "us", "is", "ics", "ous", "sis", "news", "series", "species", "status", "alias", "bus",
                      "gas", "lens", "campus", "census", "corpus", "genus", "virus", "chassis", "canvas", "bias")


def tidy_label(label: str) -> str:
    """An all-capital label in lower case, acronyms (no vowel, or three letters or fewer) kept:
    ``LEADER NAME`` -> ``leader name``, ``LCCN NUMBER`` -> ``LCCN number``."""
    label = " ".join(label.replace("_", " ").split())
    if not label.isupper():
        return label
    words = []
    for w in label.split(" "):
        letters = re.sub(r"[^A-Za-z]", "", w)
        acronym = (len(letters) <= 3 and w.lower() not in PREPOSITIONS | {"a", "an", "the", "and", "or", "no"}
                   ) or not re.search(r"[AEIOUY]", letters)
        words.append(w if acronym and letters else w.lower())
    return " ".join(words)


def is_participle(word: str) -> bool:
    w = word.lower()
    return w in PARTICIPLES or (len(w) > 4 and w.endswith("ed") and w not in NOT_PARTICIPLES)


def is_plural(word: str) -> bool:
    w = word.lower()
    return len(w) > 3 and w.endswith("s") and not w.endswith(_PLURAL_EXCEPTIONS)


def pluralize(noun: str) -> str:
    w = noun
    if len(w) < 3 or is_plural(w) or not w.isalpha() or not w.islower():
        return w
    if w.endswith(("s", "x", "z", "ch", "sh")):
        return w + "es"
    if w.endswith("y") and len(w) > 1 and w[-2] not in "aeiou":
        return w[:-1] + "ies"
    return w + "s"


def plural_phrase(label: str) -> str:
    """The label's head noun in the plural: ``spouse`` -> ``spouses``, ``country of citizenship`` ->
    ``countries of citizenship``."""
    words = label.split(" ")
    for i, w in enumerate(words):
        if w in PREPOSITIONS and i > 0:
            words[i - 1] = pluralize(words[i - 1])
            return " ".join(words)
    words[-1] = pluralize(words[-1])
    return " ".join(words)


def label_form(label: str) -> str:
    """``verb``, ``participle``, ``noun_prep``, ``adjective_prep`` or ``noun`` (see the module doc)."""
    words = label.split(" ")
    first, last = words[0].lower(), words[-1].lower()
    if first in FINITE_VERBS or first in BASE_VERBS or (
            len(words) > 1 and first.endswith("s") and words[1].lower() in PREPOSITIONS and not is_plural(first)
            and first[:-1] in BASE_VERBS):
        return "verb"
    if is_participle(first) or (len(words) > 1 and first in ADVERBS and is_participle(words[1])):
        return "participle"
    if len(words) > 1 and last in PREPOSITIONS:
        if first in ADJECTIVES and first not in NO_ARTICLE:
            return "adjective_prep"
        return "noun_prep"
    return "noun"


def _article(phrase: str) -> str:
    from corpora.kg.values import indefinite_article

    return indefinite_article(phrase)


def generic_clause(label: str, objects: str, n_values: int, subject: str, possessive: str | None,
                   past: bool, date_prep: str | None = None) -> str:
    """The clause for ``subject`` (already capitalized as it should read) and ``objects`` (rendered,
    joined); ``possessive`` ("His") when the subject was named before (else "The X of Y" / "Y's X");
    ``date_prep`` ("in"/"on") when the objects are one date."""
    label = tidy_label(label)
    form = label_form(label)
    words = label.split(" ")
    ends_with_prep = words[-1].lower() in PREPOSITIONS
    obj = f"{date_prep} {objects}" if date_prep and not ends_with_prep else objects
    be = ("were" if n_values > 1 else "was") if past else ("are" if n_values > 1 else "is")
    if form == "verb":
        first = words[0].lower()
        verb = BASE_VERBS.get(first, words[0])
        if past:
            verb = PAST_OF.get(verb, verb)
        return f"{subject} {' '.join([verb] + words[1:])} {obj}"
    if form in ("participle", "adjective_prep"):
        event = form == "participle" and not ends_with_prep  # "established": a past event, its date or place
        copula = "was" if past or (event and date_prep) else "is"
        if event and not date_prep:
            obj = f"in {objects}"
        return f"{subject} {copula} {label} {obj}"
    if form == "noun_prep":
        copula = "was" if past else "is"
        head = words[0].lower()
        article = "" if head in NO_ARTICLE else _article(label) + " "
        return f"{subject} {copula} {article}{label} {obj}"
    head = next((words[i - 1] for i, w in enumerate(words) if i > 0 and w.lower() in PREPOSITIONS), words[-1])
    plural = n_values > 1 or is_plural(head)
    phrase = plural_phrase(label) if n_values > 1 else label
    be = ("were" if plural else "was") if past else ("are" if plural else "is")
    if possessive:
        return f"{possessive} {phrase} {be} {objects}"
    return f"The {phrase} of {subject} {be} {objects}"
