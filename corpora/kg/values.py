"""Typed values: parsing RDF/Wikidata literals into Values and rendering them as English text.

Dates keep their precision (``1952``, ``March 1952``, ``11 March 1952``, ``the 1950s``,
``the 20th century``, ``44 BC``); quantities their unit (``1.86 metres``); language-tagged
strings their text (quoted, with the language named, when it is not the sentence language);
lists read ``A, B and C``. ``surface_forms`` lists the ways a value may appear in a sentence,
which the faithfulness filter and the aligner accept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from corpora.kg.model import COORD, ENTITY, QUANTITY, STRING, TEXT, TIME, URL, Value

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
GEO_WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"
NUMERIC_TYPES = {XSD + t for t in ("decimal", "integer", "double", "float", "int", "long", "short", "byte",
                                   "nonNegativeInteger", "positiveInteger", "negativeInteger",
                                   "nonPositiveInteger", "unsignedInt", "unsignedLong", "unsignedShort")}
STRING_TYPES = {XSD + "string", XSD + "normalizedString", XSD + "token", XSD + "boolean"}
TIME_PRECISION = {XSD + "gYear": 9, XSD + "gYearMonth": 10, XSD + "date": 11, XSD + "dateTime": 11}

# Wikidata time precisions
MILLENNIUM, CENTURY, DECADE, YEAR, MONTH, DAY = 6, 7, 8, 9, 10, 11
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
                  "nl": "Dutch", "pt": "Portuguese", "ru": "Russian", "ja": "Japanese", "zh": "Chinese",
                  "ar": "Arabic", "pl": "Polish", "sv": "Swedish", "la": "Latin", "el": "Greek", "ko": "Korean",
                  "tr": "Turkish", "cs": "Czech", "fi": "Finnish", "da": "Danish", "no": "Norwegian",
                  "hu": "Hungarian", "he": "Hebrew", "hi": "Hindi", "uk": "Ukrainian"}

_TIME_RE = re.compile(r"^([+-]?)(\d{1,16})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:T([0-9:.]+)(Z|[+-]\d{2}:?\d{2})?)?$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_WKT_RE = re.compile(r"^\s*(?:<[^>]*>\s*)?Point\(\s*([+-]?[\d.]+)\s+([+-]?[\d.]+)\s*\)\s*$", re.I)


class BadLiteral(ValueError):
    """A literal whose lexical form does not fit its (known) datatype."""


def parse_time(lexical: str) -> tuple[str, int, int | None, int | None]:
    """(sign, year, month, day) of an ISO-like time; BadLiteral when it is not one."""
    m = _TIME_RE.match(lexical.strip())
    if not m:
        raise BadLiteral(f"not a date/time: {lexical!r}")
    sign, year, month, day = m.group(1), int(m.group(2)), m.group(3), m.group(4)
    month_i = int(month) if month else None
    day_i = int(day) if day else None
    if month_i is not None and not 0 <= month_i <= 12 or day_i is not None and not 0 <= day_i <= 31:
        raise BadLiteral(f"not a date/time: {lexical!r}")
    return sign, year, month_i or None, day_i or None


def time_value(lexical: str, precision: int | None) -> Value:
    """A TIME value; without a precision, it is what the lexical form shows (year, month or day)."""
    sign, year, month, day = parse_time(lexical)
    if precision is None:
        precision = DAY if day else MONTH if month else YEAR
    return Value(TIME, lexical.strip(), precision=precision)


def quantity_value(amount: str, unit: str | None = None) -> Value:
    amount = amount.strip()
    if not _NUMBER_RE.match(amount):
        raise BadLiteral(f"not a number: {amount!r}")
    return Value(QUANTITY, amount, unit=unit or None)


def literal_value(lexical: str, datatype: str | None, lang: str | None,
                  on_unknown: Callable[[str], None] | None = None) -> Value:
    """An RDF literal as a Value. Unknown datatypes keep the lexical form as a string
    (``on_unknown(datatype)`` is called so the caller can count them); BadLiteral when the
    lexical form does not fit a known datatype."""
    if lang:
        return Value(TEXT, lexical, lang=lang.lower())
    if datatype is None or datatype in STRING_TYPES or datatype == RDF_LANGSTRING:
        return Value(STRING, lexical)
    if datatype in NUMERIC_TYPES:
        return quantity_value(lexical)
    if datatype in TIME_PRECISION:
        value = time_value(lexical, TIME_PRECISION[datatype])
        if datatype == XSD + "dateTime" and re.match(r"^[+-]?\d+-01-01T00:00:00(?:Z|[+-]00:?00)?$", lexical.strip()):
            # Wikidata writes year-precision dates as YYYY-01-01T00:00:00Z in its RDF dumps (rdflib
            # rewrites the Z as +00:00); a statement's value node gives the real precision.
            value = Value(TIME, value.v, precision=YEAR)
        return value
    if datatype == XSD + "anyURI":
        return Value(URL, lexical)
    if datatype == GEO_WKT:
        m = _WKT_RE.match(lexical)
        if not m:
            raise BadLiteral(f"not a WKT point: {lexical!r}")
        return Value(COORD, f"{float(m.group(2))},{float(m.group(1))}")
    if on_unknown is not None:
        on_unknown(datatype)
    return Value(STRING, lexical, datatype=datatype)


# ---------------------------------------------------------------- rendering


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def render_time(value: Value) -> str:
    """A date at its precision: ``11 March 1952``, ``March 1952``, ``1952``, ``the 1950s``, ``44 BC``."""
    sign, year, month, day = parse_time(value.v)
    bc = sign == "-"
    precision = value.precision if value.precision is not None else (DAY if day else MONTH if month else YEAR)
    era = " BC" if bc else ""
    if precision <= MILLENNIUM:
        n = (year - 1) // 1000 + 1 if year else 1
        return f"the {_ordinal(n)} millennium{era}"
    if precision == CENTURY:
        n = (year - 1) // 100 + 1 if year else 1
        return f"the {_ordinal(n)} century{era}"
    if precision == DECADE:
        return f"the {year // 10 * 10}s{era}"
    if precision >= DAY and month and day:
        return f"{day} {MONTHS[month - 1]} {year}{era}"
    if precision >= MONTH and month:
        return f"{MONTHS[month - 1]} {year}{era}"
    return f"{year}{era}"


def time_preposition(value: Value) -> str:
    """``on`` for a day, ``in`` otherwise."""
    _, _, month, day = parse_time(value.v)
    return "on" if (value.precision or 0) >= DAY and month and day else "in"


def format_number(amount: str) -> str:
    """``+1234567.50`` -> ``1,234,567.5``; keeps small decimals as written."""
    try:
        d = Decimal(amount)
    except InvalidOperation:
        return amount
    if d == d.to_integral_value() and abs(d) < Decimal(10) ** 18:
        return f"{int(d):,}"
    text = format(d.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{int(whole):,}.{frac}" if whole.lstrip("-").isdigit() and abs(d) >= 1000 else text


_UNIT_PLURALS = {"foot": "feet", "inch": "inches", "century": "centuries", "person": "people",
                 "degree Celsius": "degrees Celsius", "degree Fahrenheit": "degrees Fahrenheit"}


def unit_text(label: str, amount: str) -> str:
    """The unit label, pluralised for amounts other than one (``metre`` -> ``metres``).

    Only a lower-case last word is pluralised; symbols and names (``km``, ``US$``) stay.
    """
    try:
        one = Decimal(amount) in (Decimal(1), Decimal(-1))
    except InvalidOperation:
        one = False
    if one or not label:
        return label
    if label in _UNIT_PLURALS:
        return _UNIT_PLURALS[label]
    head, _, last = label.rpartition(" ")
    if len(last) < 3 or not last.isalpha() or not last.islower() or last.endswith("s"):
        return label
    if last in _UNIT_PLURALS:
        plural = _UNIT_PLURALS[last]
    elif last.endswith(("x", "ch", "sh")):
        plural = last + "es"
    elif last.endswith("y") and last[-2] not in "aeiou":
        plural = last[:-1] + "ies"
    else:
        plural = last + "s"
    return f"{head} {plural}" if head else plural


def render_coord(value: Value) -> str:
    lat, lon = (float(x) for x in value.v.split(","))
    return f"{abs(lat):.4g}°{'N' if lat >= 0 else 'S'}, {abs(lon):.4g}°{'E' if lon >= 0 else 'W'}"


def render_value(value: Value, label: Callable[[str], str], lang: str = "en") -> str:
    """The value as it reads in a sentence; ``label(id)`` names entities (and units)."""
    if value.kind == ENTITY:
        return label(value.v)
    if value.kind == TIME:
        return render_time(value)
    if value.kind == QUANTITY:
        number = format_number(value.v)
        return f"{number} {unit_text(label(value.unit), value.v)}" if value.unit else number
    if value.kind == TEXT:
        if value.lang and value.lang.split("-")[0] != lang:
            name = LANGUAGE_NAMES.get(value.lang.split("-")[0])
            return f"\u201c{value.v}\u201d" + (f" (in {name})" if name else "")
        return value.v
    if value.kind == COORD:
        return render_coord(value)
    return value.v


def join_list(items: list[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


THE_PREFIXES = ("United ", "Republic of ", "Kingdom of ", "University of ", "Nobel Prize", "Netherlands",
                "Philippines", "Bahamas", "Gambia", "Czech Republic", "Democratic Republic", "People's Republic",
                "Soviet Union", "European Union", "Holy Roman Empire", "Ottoman Empire", "Roman Empire")


def with_definite_article(name: str) -> str:
    """``United Kingdom`` -> ``the United Kingdom``: names that English uses with "the" (a short list
    of country, union, empire, university and prize names); other names unchanged."""
    return f"the {name}" if name.startswith(THE_PREFIXES) else name


def indefinite_article(phrase: str) -> str:
    """``a`` or ``an`` for a phrase (by its first sound, roughly: vowels, silent h, acronyms)."""
    word = phrase.strip().split(" ")[0] if phrase.strip() else ""
    low = word.lower()
    if not low:
        return "a"
    if low.startswith(("hour", "honest", "honor", "honour", "heir")):
        return "an"
    if low.startswith(("uni", "use", "usu", "uti", "eu", "one", "once", "ur")):
        return "a"
    if word.isupper() and len(word) > 1:
        return "an" if low[0] in "aefhilmnorsx" else "a"
    return "an" if low[0] in "aeiou8" else "a"


# ---------------------------------------------------------------- surface forms


def surface_forms(value: Value, label: Callable[[str], str], lang: str = "en") -> list[str]:
    """Every form in which the value counts as mentioned (rendered form first)."""
    rendered = render_value(value, label, lang)
    forms = [rendered]
    if value.kind == TIME:
        sign, year, month, day = parse_time(value.v)
        era = " BC" if sign == "-" else ""
        p = value.precision or YEAR
        if p >= DAY and month and day:
            forms += [f"{MONTHS[month - 1]} {day}, {year}{era}", f"{year:04d}-{month:02d}-{day:02d}",
                      f"{_ordinal(day)} {MONTHS[month - 1]} {year}{era}"]
        elif p == MONTH and month:
            forms += [f"{year:04d}-{month:02d}"]
        elif p == YEAR:
            forms += [f"{year}{era}"]
    elif value.kind == QUANTITY:
        number = format_number(value.v)
        forms += [number, number.replace(",", "")]
    elif value.kind == TEXT:
        forms.append(value.v)
    elif value.kind == COORD:
        forms.append(value.v)
    seen, out = set(), []
    for f in forms:
        if f and f not in seen:
            seen.add(f)
            out.append(f)
    return out
