"""The model verbalizer: a subgraph in KELM's serialization, fed to a seq2seq generator.

KELM serializes a subgraph as ``subject relation1 object1 relation2 object2 ...`` (labels,
rendered values; a qualifier follows its fact as ``qualifier-relation value``; facts of a
chained entity restart with that entity's name). The generator is any
``pipeline.generation`` spec (``hf:PATH``: a local Hugging Face seq2seq checkpoint); the Beam
stage is ``pipeline.beam_generation.GenerateText`` (batched, model loaded once per worker).
"""

from __future__ import annotations

from corpora.kg.rdf import humanize_id
from corpora.kg.subgraphs import Subgraph
from corpora.kg.templates import TemplateSet
from corpora.kg.values import render_value
from pipeline.records import Drop


def relation_label(sg: Subgraph, relation: str, templates: TemplateSet | None) -> str:
    return sg.labels.get(relation) or (templates.label_of(relation) if templates else None) or humanize_id(relation)


def serialize(sg: Subgraph, templates: TemplateSet | None = None, lang: str = "en") -> str:
    """KELM-style input text of a subgraph."""
    label = lambda eid: sg.labels.get(eid) or humanize_id(eid)  # noqa: E731
    parts: list[str] = []
    current = None
    for f in sg.facts:
        if f.subject != current:
            parts.append(label(f.subject))
            current = f.subject
        parts += [relation_label(sg, f.relation, templates), render_value(f.value, label, lang)]
        for rel, v in f.qualifiers:
            parts += [relation_label(sg, rel, templates), render_value(v, label, lang)]
    return " ".join(p for p in parts if p)


def triples_for_kelm(sg: Subgraph, templates: TemplateSet | None = None, lang: str = "en") -> list[list[str]]:
    """``[[subject, relation, object, (qualifier, value)...], ...]`` with labels, as in KELM's files."""
    label = lambda eid: sg.labels.get(eid) or humanize_id(eid)  # noqa: E731
    out = []
    for f in sg.facts:
        row = [label(f.subject), relation_label(sg, f.relation, templates), render_value(f.value, label, lang)]
        for rel, v in f.qualifiers:
            row += [relation_label(sg, rel, templates), render_value(v, label, lang)]
        out.append(row)
    return out


class ModelPrompt:
    """``prompt_fn`` for GenerateText: the KELM serialization (picklable, holds the templates' labels)."""

    def __init__(self, templates: TemplateSet | None, lang: str = "en") -> None:
        self.templates = templates
        self.lang = lang

    def __call__(self, sg: Subgraph) -> str:
        return serialize(sg, self.templates, self.lang)


def attach_generated(sg: Subgraph, outputs: list[str]):
    """``attach_fn`` for GenerateText: the first non-empty output, as the verbalize stage's element."""
    text = next((t.strip() for t in outputs if t and t.strip()), "")
    if not text:
        return Drop("verbalize", "empty_output", id=sg.id, detail="the model generated nothing")
    return sg, text, []
