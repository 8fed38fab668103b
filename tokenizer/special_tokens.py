"""Special tokens of corpusforge tokenizers: defaults, FIM, SOCIAL-CHEM attributes, fixed order.

Special tokens always take the first ids, ``0 .. k-1``, in this order:

1. the model's core tokens
   (``bpe``: end-of-document, pad; ``unigram``: end-of-document, pad, unk;
   ``wordpiece``: ``[UNK] [CLS] [SEP] [PAD] [MASK]``, where ``[SEP]`` is the end-of-document
   token and ``[PAD]`` is replaced by ``--pad-token`` when given; a ``--eod-token`` other than
   ``[SEP]`` follows them);
2. with ``--fim``: :data:`FIM_TOKENS` (prefix, middle, suffix);
3. with ``--socialchem-tokens``: :data:`SOCIALCHEM_TOKENS` (markers, then one token per
   categorical attribute value, in the order of :data:`SOCIALCHEM_ATTRIBUTES`);
4. every ``--special-token`` in the order given.

A token that appears twice keeps its first position (so ``--pad-token '<|endoftext|>'``
makes pad and end-of-document the same token).

SOCIAL-CHEM-101 attribute tokens
--------------------------------

Derived from the released TSV's columns (see the SOCIAL-CHEM-101 format reference): every
*categorical* breakdown dimension gets one token per allowed value, written
``<ATTRIBUTE:VALUE>`` with the TSV column name as ATTRIBUTE. Numeric buckets are spelled as
words, as the paper's generator does (agreement: nobody, rare, controversial, most, all;
judgment: very-bad .. very-good; pressure: strong-against .. strong-for), so
``rot-agree = 4`` is ``<rot-agree:all>`` and ``action-moral-judgment = -1`` is
``<action-moral-judgment:bad>``. Multi-valued columns (``rot-categorization``,
``rot-moral-foundations``) give one token per value present; the generator sorts them.

Not tokens: the free-text columns (``rot-judgment``, ``action``, situation, RoT, ids,
characters), and the bookkeeping columns ``area``, ``m``, ``split`` and ``rot-bad`` (they
describe how a row was collected, not the norm). The three markers of the training format,
``[attrs]``, ``[rot]`` and ``[action]``, are special tokens too, so a line such as

    ``<situation text> [attrs] <rot-categorization:advice> <rot-moral-foundations:care-harm>
    <rot-agree:most> [rot] <RoT text><|endoftext|>``

tokenizes every marker and attribute as exactly one id. :func:`socialchem_token` maps a raw
TSV value to its token.
"""

from __future__ import annotations

from collections.abc import Iterable

MODELS = ("bpe", "wordpiece", "unigram")

DEFAULT_EOD = "<|endoftext|>"
DEFAULT_PAD = "<|pad|>"
DEFAULT_UNK = "<unk>"

WORDPIECE_UNK = "[UNK]"
WORDPIECE_CLS = "[CLS]"
WORDPIECE_SEP = "[SEP]"
WORDPIECE_PAD = "[PAD]"
WORDPIECE_MASK = "[MASK]"

FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
FIM_TOKENS: tuple[str, ...] = (FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX)

_AGREEMENT = ("nobody", "rare", "controversial", "most", "all")  # TSV 0..4
_JUDGMENT = ("very-bad", "bad", "ok", "good", "very-good")  # TSV -2..2
_PRESSURE = ("strong-against", "against", "discretionary", "for", "strong-for")  # TSV -2..2
_CHARACTERS = ("char-none",) + tuple(f"char-{i}" for i in range(6))

#: attribute (TSV column) -> its values as they appear in tokens, in token order.
SOCIALCHEM_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "rot-categorization": ("morality-ethics", "social-norms", "advice", "description"),
    "rot-moral-foundations": ("care-harm", "fairness-cheating", "loyalty-betrayal", "authority-subversion",
                              "sanctity-degradation"),
    "rot-agree": _AGREEMENT,
    "rot-char-targeting": _CHARACTERS,
    "action-agency": ("agency", "experience"),
    "action-moral-judgment": _JUDGMENT,
    "action-agree": _AGREEMENT,
    "action-legal": ("legal", "illegal", "tolerated"),
    "action-pressure": _PRESSURE,
    "action-char-involved": _CHARACTERS,
    "action-hypothetical": ("explicit-no", "probable-no", "hypothetical", "probable", "explicit"),
}

#: numeric TSV columns: the offset that turns the TSV integer into an index of the value list.
_NUMERIC_OFFSET = {"rot-agree": 0, "action-agree": 0, "action-moral-judgment": 2, "action-pressure": 2}

SOCIALCHEM_MARKERS: tuple[str, ...] = ("[attrs]", "[rot]", "[action]")

SOCIALCHEM_TOKENS: tuple[str, ...] = SOCIALCHEM_MARKERS + tuple(
    f"<{attr}:{value}>" for attr, values in SOCIALCHEM_ATTRIBUTES.items() for value in values
)


def socialchem_token(attribute: str, value: str | int) -> str:
    """The token of one SOCIAL-CHEM attribute value, from the TSV's raw value.

    >>> socialchem_token("rot-agree", "4")
    '<rot-agree:all>'
    >>> socialchem_token("action-pressure", -2)
    '<action-pressure:strong-against>'
    >>> socialchem_token("rot-moral-foundations", "care-harm")
    '<rot-moral-foundations:care-harm>'

    Raises ValueError for an unknown attribute or value (an empty TSV cell has no token).
    """
    if attribute not in SOCIALCHEM_ATTRIBUTES:
        raise ValueError(f"unknown SOCIAL-CHEM attribute {attribute!r} (known: {', '.join(SOCIALCHEM_ATTRIBUTES)})")
    values = SOCIALCHEM_ATTRIBUTES[attribute]
    raw = str(value).strip()
    if attribute in _NUMERIC_OFFSET:
        try:
            index = int(raw) + _NUMERIC_OFFSET[attribute]
        except ValueError:
            index = values.index(raw) if raw in values else -1
        if not 0 <= index < len(values):
            raise ValueError(f"{attribute}: value {value!r} is outside its range")
        return f"<{attribute}:{values[index]}>"
    if raw not in values:
        raise ValueError(f"{attribute}: unknown value {value!r} (allowed: {', '.join(values)})")
    return f"<{attribute}:{raw}>"


def _unique(tokens: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for tok in tokens:
        if tok not in seen:
            seen.add(tok)
            out.append(tok)
    return out


class SpecialTokens:
    """The resolved special tokens of one tokenizer: roles and the ordered list (id = index)."""

    def __init__(self, model: str, eod: str | None = None, pad: str | None = None, unk: str | None = None,
                 fim: bool = False, socialchem: bool = False, extra: Iterable[str] = ()) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
        self.model = model
        self.cls = self.sep = self.mask = None
        if model == "wordpiece":
            self.eod = eod or WORDPIECE_SEP
            self.pad = pad or WORDPIECE_PAD
            self.unk = unk or WORDPIECE_UNK
            self.cls, self.sep, self.mask = WORDPIECE_CLS, WORDPIECE_SEP, WORDPIECE_MASK
            core = [self.unk, self.cls, self.sep, self.pad, self.mask, self.eod]
        else:
            self.eod = eod or DEFAULT_EOD
            self.pad = pad or DEFAULT_PAD
            self.unk = (unk or DEFAULT_UNK) if model == "unigram" else None
            core = [self.eod, self.pad] + ([self.unk] if self.unk else [])
        self.fim = fim
        self.socialchem = socialchem
        self.extra = list(extra)
        for tok in core + self.extra:
            if not tok or tok != tok.strip():
                raise ValueError(f"special token {tok!r} must be non-empty, without surrounding whitespace")
        self.core = _unique(core)
        self.additional = [t for t in _unique(
            (list(FIM_TOKENS) if fim else []) + (list(SOCIALCHEM_TOKENS) if socialchem else []) + self.extra
        ) if t not in self.core]

    @property
    def ordered(self) -> list[str]:
        """All special tokens; the i-th gets id i."""
        return self.core + self.additional

    def hf_map(self) -> dict:
        """``special_tokens_map.json`` content (Hugging Face format)."""
        out: dict = {"eos_token": self.eod, "pad_token": self.pad}
        if self.unk:
            out["unk_token"] = self.unk
        if self.model == "wordpiece":
            out.update(cls_token=self.cls, sep_token=self.sep, mask_token=self.mask)
        extra_core = [t for t in self.core if t not in out.values()]
        additional = extra_core + self.additional
        if additional:
            out["additional_special_tokens"] = additional
        return out
