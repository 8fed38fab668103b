"""The named composite transforms the KG jobs are composed of (``build_kg``, ``build_kg_align``).

Each stage's transform has the outputs of ``pipeline.beam_steps``: main (``out``), ``stats`` and
``rejects``. Side files are read on the driver and travel with the steps (the template set,
the co-occurrence table); inputs are absolute paths read through Beam's file systems.
"""

from __future__ import annotations

import apache_beam as beam

from corpora.kg import beam_kg
from corpora.kg.graph import Cooccurrence
from corpora.kg.output import kelm_line, make_document
from corpora.kg.readers import Chunk, ReadOptions
from corpora.kg.subgraphs import SubgraphParams
from corpora.kg.templates import TemplateSet
from pipeline import beam_io
from pipeline.beam_steps import REJECTS, STATS, stage_outputs

GRAPH_STAGES = ["read", "statements", "facts", "subgraphs", "labels"]  # counted by ``GraphToSubgraphs``


class ReadGraph(beam.PTransform):
    """Chunks -> records of the ``read`` stage: facts (main ``out``), ``labels`` (entity, Label),
    statement ``parts`` and ``value_parts`` (keyed by node), ``stats``, ``rejects``. A Reshuffle
    spreads the chunks over workers. ``encoded``: facts and parts as ``codec`` bytes, keyed."""

    def __init__(self, chunks: list[Chunk], options: ReadOptions, keep_rejects: bool, encoded: bool) -> None:
        super().__init__()
        self.chunks, self.options, self.keep_rejects, self.encoded = chunks, options, keep_rejects, encoded

    def expand(self, pbegin):
        return (pbegin | "Chunks" >> beam.Create(self.chunks) | "SpreadChunks" >> beam.Reshuffle()
                | "ReadChunks" >> beam.ParDo(beam_kg._ReadChunk(self.options, self.keep_rejects, self.encoded))
                .with_outputs(STATS, REJECTS, beam_kg.LABELS, beam_kg.PARTS, beam_kg.VALUE_PARTS, main="out"))


class GraphToSubgraphs(beam.PTransform):
    """Chunks -> labelled Subgraphs: read, statements, facts (routing), subgraphs, labels (the
    ``GRAPH_STAGES``), with their ``stats`` and ``rejects``."""

    def __init__(self, chunks: list[Chunk], langs: tuple[str, ...], keep_rejects: bool, graph: beam_kg.BuildSubgraphs):
        super().__init__()
        self.chunks, self.langs, self.keep_rejects, self.graph = chunks, langs, keep_rejects, graph

    def expand(self, pbegin):
        read = pbegin | "read" >> ReadGraph(self.chunks, ReadOptions(langs=self.langs, keep_aliases=False),
                                            self.keep_rejects, encoded=True)
        built = {"facts": read["out"], "labels": read[beam_kg.LABELS], "parts": read[beam_kg.PARTS],
                 "value_parts": read[beam_kg.VALUE_PARTS]} | "subgraphs" >> self.graph
        return {"out": built["out"],
                STATS: (read[STATS], built[STATS]) | "GraphStats" >> beam.Flatten(),
                REJECTS: (read[REJECTS], built[REJECTS]) | "GraphRejects" >> beam.Flatten()}


def build_subgraphs(params: SubgraphParams, max_facts_per_entity: int, langs: tuple[str, ...],
                    templates: TemplateSet, cooccurrence: Cooccurrence | None,
                    keep_identifiers: bool) -> beam_kg.BuildSubgraphs:
    """``BuildSubgraphs`` with what the templates tell it: relations named by their template (no
    label lookup) and the order clauses take."""
    labelled = frozenset([r for r, t in templates.relations.items() if t.label] + list(templates.qualifier_labels))
    order = {r: t.order for r, t in templates.relations.items()}
    return beam_kg.BuildSubgraphs(params, max_facts_per_entity, langs, cooccurrence, labelled, order,
                                  keep_identifiers)


class Verbalize(beam.PTransform):
    """Subgraphs -> (subgraph, text, generic relations), stage ``verbalize``: the template verbalizer,
    or a seq2seq model (``verbalizer`` a generator spec with an absolute path)."""

    def __init__(self, verbalizer: str, templates: TemplateSet, lang: str, keep_rejects: bool,
                 generation=None) -> None:
        super().__init__()
        self.verbalizer, self.templates, self.lang = verbalizer, templates, lang
        self.keep_rejects, self.generation = keep_rejects, generation

    def expand(self, subgraphs):
        if self.verbalizer == "templates":
            return subgraphs | stage_outputs(beam_kg._Verbalize(self.templates, self.lang, self.keep_rejects))
        from corpora.kg.model_verbalizer import ModelPrompt, attach_generated
        from pipeline.beam_generation import GenerateText

        return subgraphs | GenerateText("verbalize", self.verbalizer, self.generation,
                                        ModelPrompt(self.templates, self.lang), attach_generated, self.keep_rejects)


class CheckFaithfulness(beam.PTransform):
    """(subgraph, text, generic) -> (..., verdict), stage ``faithfulness``: unfaithful sentences
    dropped by reason, or kept and flagged (``keep_unfaithful``)."""

    def __init__(self, lang: str, keep_unfaithful: bool, keep_rejects: bool, templates: TemplateSet) -> None:
        super().__init__()
        self.dofn = beam_kg._Faithfulness(lang, keep_unfaithful, keep_rejects, templates)

    def expand(self, verbalized):
        return verbalized | stage_outputs(self.dofn)


class ToDocuments(beam.PTransform):
    """Checked sentences -> corpus Documents (source ``kg``) with their triples in ``meta``."""

    def __init__(self, verbalizer: str, templates: TemplateSet, lang: str, text_lang: str) -> None:
        super().__init__()
        self.verbalizer, self.templates, self.lang, self.text_lang = verbalizer, templates, lang, text_lang

    def expand(self, checked):
        name, templates, lang, text_lang = self.verbalizer, self.templates, self.lang, self.text_lang
        return checked | "ToDocument" >> beam.Map(
            lambda e: make_document(e[0], e[1], e[2], e[3].ok, e[3].reason, name, templates, lang, text_lang))


class ToKelmLines(beam.PTransform):
    """Checked sentences -> ``kelm.jsonl`` lines (triples, serialized triples, sentence)."""

    def __init__(self, templates: TemplateSet, lang: str) -> None:
        super().__init__()
        self.templates, self.lang = templates, lang

    def expand(self, checked):
        templates, lang = self.templates, self.lang
        return checked | "ToKelm" >> beam.Map(lambda e: kelm_line(e[0], e[1], templates, lang))


class WriteJsonLines(beam.PTransform):
    """Lines -> one file ``output/name``, returned described (a one-element list for the manifest).

    Written as one part per bundle under ``output/parts_dir`` (a single-shard write would move every
    line to one worker), then concatenated in part order by one step. The parts stay until the
    job's last step removes ``parts_dir``, so a retried concatenation finds them."""

    def __init__(self, output: str, name: str, parts_dir: str) -> None:
        super().__init__()
        self.output, self.name, self.parts_dir = output, name, parts_dir

    def expand(self, lines):
        return (lines
                | "WriteParts" >> beam.io.WriteToText(beam_io.join(self.output, self.parts_dir, "part"),
                                                      file_name_suffix=".jsonl")
                | "PartList" >> beam.combiners.ToList()
                | "Concatenate" >> beam.Map(concatenate_parts, self.output, self.name))


def concatenate_parts(parts: list[str], output: str, name: str) -> list[dict]:
    """Join the parts (sorted by name) into ``output/name`` atomically, keeping the parts; the described file."""
    dest = beam_io.join(output, name)
    beam_io.concat_atomic(sorted(parts), dest, remove_parts=False)
    return [beam_io.describe_lines(dest, relative_to=output)]
