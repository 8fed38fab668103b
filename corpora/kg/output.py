"""The KG job's outputs: a corpus Document per verbalized subgraph, and a KELM-format JSONL row.

``meta`` carries the subgraph id, the subject, the verbalizer, the faithfulness verdict and
the triples (ids, labels and typed values, qualifiers included), so any sentence can be
traced to the facts it states.
"""

from __future__ import annotations

import json

from corpora.kg.model_verbalizer import relation_label, serialize, triples_for_kelm
from corpora.kg.rdf import humanize_id
from corpora.kg.subgraphs import Subgraph
from corpora.kg.templates import TemplateSet
from corpora.kg.values import render_value
from pipeline.ids import make_doc_id
from pipeline.records import Document

SOURCE = "kg"


def triples_meta(sg: Subgraph, templates: TemplateSet | None, lang: str) -> list[dict]:
    label = lambda eid: sg.labels.get(eid) or humanize_id(eid)  # noqa: E731
    out = []
    for f in sg.facts:
        item = {"s": f.subject, "s_label": label(f.subject), "p": f.relation,
                "p_label": relation_label(sg, f.relation, templates), "o": f.value.to_json(),
                "o_text": render_value(f.value, label, lang)}
        if f.qualifiers:
            item["qualifiers"] = [{"p": r, "p_label": relation_label(sg, r, templates), "o": v.to_json(),
                                   "o_text": render_value(v, label, lang)} for r, v in f.qualifiers]
        if f.statement:
            item["statement"] = f.statement
        out.append(item)
    return out


def make_document(sg: Subgraph, text: str, generic: list[str], faithful: bool, reason: str | None,
                  verbalizer: str, templates: TemplateSet | None, lang: str, text_lang: str | None = None) -> Document:
    """The corpus row of a verbalized subgraph; ``lang`` is the label language, ``text_lang`` the
    language the text was written in (the templates' language, whatever the labels': default ``lang``)."""
    meta = {"subgraph_id": sg.id, "subject": sg.subject, "subject_label": sg.labels.get(sg.subject) or
            humanize_id(sg.subject), "verbalizer": verbalizer, "faithful": faithful,
            "triples": triples_meta(sg, templates, lang)}
    if reason:
        meta["unfaithful_reason"] = reason
    if generic:
        meta["generic_relations"] = sorted(set(generic))
    return Document(id=make_doc_id(SOURCE, sg.id), text=text, source=SOURCE, lang=text_lang or lang, lang_score=1.0,
                    meta=meta)


def kelm_line(sg: Subgraph, text: str, templates: TemplateSet | None, lang: str) -> str:
    """One line of ``kelm.jsonl``: ``triples`` (labels), ``serialized_triples``, ``sentence``."""
    return json.dumps({"subgraph_id": sg.id, "triples": triples_for_kelm(sg, templates, lang),
                       "serialized_triples": serialize(sg, templates, lang), "sentence": text}, ensure_ascii=False)
