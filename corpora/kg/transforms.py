"""The named composite transforms the KG jobs are composed of (``build_kg``, ``build_kg_align``):
the stage wrappers of ``pipeline.beam_steps`` around the pure stages of ``stages.py`` and
``align_stages.py``, and the shuffles between them.

Each stage's transform has the outputs of ``pipeline.beam_steps``: main (``out``), ``stats`` and
``rejects``. Side files are read on the driver and travel with the steps (the template set,
the co-occurrence table); inputs are absolute paths read through Beam's file systems.

kg's shuffles: statement parts by node, facts and back-references by entity (routing), label
requests by entity (the label join), routed facts and resolved labels by owner (subgraphs,
labelled where they are made). What crosses a shuffle is compact: facts, parts and routed
groups as ``codec`` bytes, labels as (id, text); subgraphs are never shuffled. No stage needs all
the data on one worker; the co-occurrence counts (relations x relations) are the only side
input. kg-align's: names and n-grams by key (mentions), mentions and sentence texts by sentence,
candidate sentences and facts by subject; the relation labels are its only side input.
"""

from __future__ import annotations

from functools import partial

import apache_beam as beam

from corpora.kg import align_stages, stages
from corpora.kg.graph import CapReferrers, Cooccurrence, CountCooccurrence
from corpora.kg.labels import BestLabelCombiner
from corpora.kg.output import kelm_line, make_document
from corpora.kg.readers import Chunk, ReadOptions
from corpora.kg.subgraphs import SubgraphParams
from corpora.kg.templates import TemplateSet
from pipeline import beam_io
from pipeline.beam_steps import REJECTS, STATS, ApplyStep, FlatStep, GroupStep, PureCombine

GRAPH_STAGES = ["read", "statements", "facts", "subgraphs", "labels"]  # counted by ``GraphToSubgraphs``
READ_OUTPUTS = (stages.LABELS, stages.PARTS, stages.VALUE_PARTS)


class ReadGraph(beam.PTransform):
    """Chunks -> records of the ``read`` stage: facts (main ``out``), ``labels`` (entity, Label),
    statement ``parts`` and ``value_parts`` (keyed by node), ``stats``, ``rejects``. A Reshuffle
    spreads the chunks over workers. ``encoded``: facts and parts as ``codec`` bytes, keyed."""

    def __init__(self, chunks: list[Chunk], options: ReadOptions, keep_rejects: bool, encoded: bool) -> None:
        super().__init__()
        self.chunks, self.options, self.keep_rejects, self.encoded = chunks, options, keep_rejects, encoded

    def expand(self, pbegin):
        step = stages.ReadChunk(self.options, self.encoded, open_fn=beam_io.open_raw)
        return (pbegin | "Chunks" >> beam.Create(self.chunks) | "SpreadChunks" >> beam.Reshuffle()
                | "ReadChunks" >> FlatStep("read", step, self.keep_rejects, outputs=READ_OUTPUTS))


class AssembleStatements(beam.PTransform):
    """Statement parts (node, part) and value-node parts (value node, part) -> the statements'
    Facts (keyed by subject when ``encoded``), stage ``statements``, with ``stats`` and ``rejects``."""

    def __init__(self, keep_rejects: bool, encoded: bool = False) -> None:
        super().__init__()
        self.keep_rejects = keep_rejects
        self.encoded = encoded

    def expand(self, inputs):
        parts, value_parts = inputs
        full = (value_parts | "GroupValueNodes" >> beam.GroupByKey()
                | "ResolveValueNodes" >> FlatStep("statements", partial(stages.resolve_value_nodes,
                                                                        encoded=self.encoded)))
        assembled = ((parts, full["out"]) | "StatementParts" >> beam.Flatten()
                     | "GroupStatements" >> beam.GroupByKey()
                     | "Assemble" >> ApplyStep("statements", partial(stages.assemble, encoded=self.encoded),
                                               self.keep_rejects))
        return {"out": assembled["out"], STATS: (full[STATS], assembled[STATS]) | "StatementStats" >> beam.Flatten(),
                REJECTS: assembled[REJECTS]}


class BuildSubgraphs(beam.PTransform):
    """Facts + labels -> labelled Subgraphs (statements, routing, label join, grouping).

    Inputs: ``facts`` (subject, codec bytes) and ``parts`` (node, codec bytes), as ``ReadGraph``
    emits them with ``encoded=True``, and ``labels`` (entity, Label). Outputs: ``out``
    (subgraphs), ``stats``, ``rejects``; ``cooccurrence`` is None (learn from the input) or a
    Cooccurrence learned elsewhere (aligned data).
    """

    def __init__(self, params: SubgraphParams, max_facts_per_entity: int, langs: tuple[str, ...],
                 cooccurrence: Cooccurrence | None = None, labelled_relations: frozenset = frozenset(),
                 relation_order: dict[str, int] | None = None, keep_identifiers: bool = False) -> None:
        super().__init__()
        self.keep_identifiers = keep_identifiers
        self.relation_order = relation_order or {}
        self.labelled_relations = labelled_relations
        self.params = params
        self.max_facts_per_entity = max_facts_per_entity
        self.langs = langs
        self.cooccurrence = cooccurrence

    def expand(self, inputs):
        facts, labels = inputs["facts"], inputs["labels"]
        assembled = (inputs["parts"], inputs["value_parts"]) | "Statements" >> AssembleStatements(False, encoded=True)
        all_facts = (facts, assembled["out"]) | "AllFacts" >> beam.Flatten()
        refs = (all_facts | "Refs" >> beam.FlatMap(stages.ref_pairs)
                | "CapRefs" >> beam.CombinePerKey(PureCombine(CapReferrers())))
        known = self.labelled_relations
        route = stages.RouteEntity(self.max_facts_per_entity, self.params.max_chain_facts, known,
                                   self.keep_identifiers)
        routed = ((all_facts, refs) | "EntityValues" >> beam.Flatten() | "JoinEntity" >> beam.GroupByKey()
                  | "Route" >> FlatStep("facts", route, outputs=(stages.RELSETS, stages.REQUESTS)))
        if self.cooccurrence is not None:
            cooc = beam.pvalue.AsSingleton(facts.pipeline | "GivenCooc" >> beam.Create([self.cooccurrence]))
        else:
            cooc = beam.pvalue.AsSingleton(routed[stages.RELSETS]
                                           | "Cooccurrence" >> beam.CombineGlobally(PureCombine(CountCooccurrence())))
        best = labels | "BestLabel" >> beam.CombinePerKey(PureCombine(BestLabelCombiner(self.langs)))
        resolved = ({"label": best, "requests": routed[stages.REQUESTS]} | "JoinLabels" >> beam.CoGroupByKey()
                    | "Resolve" >> FlatStep("labels", stages.resolve_labels))
        subgraphs = ((routed["out"], resolved["out"]) | "OwnerValues" >> beam.Flatten() | "ByOwner" >> beam.GroupByKey()
                     | "Partition" >> FlatStep("subgraphs", stages.PartitionOwner(self.params, self.relation_order,
                                                                                  known), side_inputs=(cooc,)))
        stats = [assembled[STATS], routed[STATS], subgraphs[STATS], resolved[STATS]]
        return {"out": subgraphs["out"], STATS: stats | "FlattenGraphStats" >> beam.Flatten(),
                REJECTS: assembled[REJECTS]}


class GraphToSubgraphs(beam.PTransform):
    """Chunks -> labelled Subgraphs: read, statements, facts (routing), subgraphs, labels (the
    ``GRAPH_STAGES``), with their ``stats`` and ``rejects``."""

    def __init__(self, chunks: list[Chunk], langs: tuple[str, ...], keep_rejects: bool, graph: BuildSubgraphs):
        super().__init__()
        self.chunks, self.langs, self.keep_rejects, self.graph = chunks, langs, keep_rejects, graph

    def expand(self, pbegin):
        read = pbegin | "read" >> ReadGraph(self.chunks, ReadOptions(langs=self.langs, keep_aliases=False),
                                            self.keep_rejects, encoded=True)
        built = {"facts": read["out"], "labels": read[stages.LABELS], "parts": read[stages.PARTS],
                 "value_parts": read[stages.VALUE_PARTS]} | "subgraphs" >> self.graph
        return {"out": built["out"],
                STATS: (read[STATS], built[STATS]) | "GraphStats" >> beam.Flatten(),
                REJECTS: (read[REJECTS], built[REJECTS]) | "GraphRejects" >> beam.Flatten()}


def build_subgraphs(params: SubgraphParams, max_facts_per_entity: int, langs: tuple[str, ...],
                    templates: TemplateSet, cooccurrence: Cooccurrence | None,
                    keep_identifiers: bool) -> BuildSubgraphs:
    """``BuildSubgraphs`` with what the templates tell it: relations named by their template (no
    label lookup) and the order clauses take."""
    labelled = frozenset([r for r, t in templates.relations.items() if t.label] + list(templates.qualifier_labels))
    order = {r: t.order for r, t in templates.relations.items()}
    return BuildSubgraphs(params, max_facts_per_entity, langs, cooccurrence, labelled, order, keep_identifiers)


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
            return subgraphs | ApplyStep("verbalize", stages.TemplateVerbalize(self.templates, self.lang),
                                         self.keep_rejects)
        from corpora.kg.model_verbalizer import ModelPrompt, attach_generated
        from pipeline.beam_generation import GenerateText

        return subgraphs | GenerateText("verbalize", self.verbalizer, self.generation,
                                        ModelPrompt(self.templates, self.lang), attach_generated, self.keep_rejects)


class CheckFaithfulness(beam.PTransform):
    """(subgraph, text, generic) -> (..., verdict), stage ``faithfulness``: unfaithful sentences
    dropped by reason, or kept and flagged (``keep_unfaithful``)."""

    def __init__(self, lang: str, keep_unfaithful: bool, keep_rejects: bool, templates: TemplateSet) -> None:
        super().__init__()
        self.step = ApplyStep("faithfulness", stages.CheckFaithful(lang, keep_unfaithful, templates), keep_rejects)

    def expand(self, verbalized):
        return verbalized | self.step


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


# ---------------------------------------------------------------- kg-align


class SubjectFacts(beam.PTransform):
    """The ``read`` stage's facts (``out``), ``parts`` and ``value_parts`` -> (subject, Fact) of every
    fact (statement nodes assembled, stage ``statements``), with ``stats``."""

    def expand(self, read):
        assembled = (read["parts"], read["value_parts"]) | "Statements" >> AssembleStatements(False)
        facts = (read["out"], assembled["out"]) | "AllFacts" >> beam.Flatten()
        return {"out": facts | "BySubject" >> beam.Map(lambda f: (f.subject, f)), STATS: assembled[STATS]}


class NameIndex(beam.PTransform):
    """(entity, Label) -> ``names``: (name key, (entity, best label, key, kind)) for every label and
    alias, and ``best``: (entity, (text, lang)) the best label in ``langs``."""

    def __init__(self, langs: tuple[str, ...]) -> None:
        super().__init__()
        self.langs = langs

    def expand(self, labels):
        best = labels | "BestLabel" >> beam.CombinePerKey(PureCombine(BestLabelCombiner(self.langs)))
        names = ({"best": best, "labels": labels} | "JoinNames" >> beam.CoGroupByKey()
                 | "Names" >> beam.FlatMap(align_stages.entity_names))
        return {"names": names, "best": best}


class CorpusSentences(beam.PTransform):
    """Corpus Parquet files -> ``sentences`` (document id, (index, sentence id, text)) and word n-grams
    (key, sentence id) on ``out``, stage ``corpus``, with ``stats``."""

    def __init__(self, files: list[str], max_tokens: int = 8) -> None:
        super().__init__()
        self.files, self.max_tokens = files, max_tokens

    def expand(self, pbegin):
        rows = (pbegin | "CorpusFiles" >> beam.Create(self.files)
                | "ReadCorpus" >> beam.io.ReadAllFromParquet(columns=["id", "text"]))
        return rows | "Split" >> FlatStep("corpus", align_stages.SplitSentences(self.max_tokens),
                                          outputs=(align_stages.SENTENCES,))


class MentionedSubjects(beam.PTransform):
    """Name index + sentences -> (subject, (sentence id, text, {entity: label})) per entity a
    sentence mentions (names joined to n-grams, then resolved per document), stage ``sentences``,
    with ``stats``."""

    def expand(self, inputs):
        mentions = ({"names": inputs["names"], "ngrams": inputs["ngrams"]} | "JoinMentions" >> beam.CoGroupByKey()
                    | "Mentions" >> beam.FlatMap(align_stages.mentions))
        return ({"text": inputs["sentences"], "mentions": mentions} | "JoinSentences" >> beam.CoGroupByKey()
                | "Candidates" >> GroupStep("sentences", align_stages.candidates, part="text"))


class RelationLabels(beam.PTransform):
    """The relations of the facts -> (relation, label): its best label from the input, else the
    templates' label (``given``), else its id."""

    def __init__(self, given: dict[str, str]) -> None:
        super().__init__()
        self.given = given

    def expand(self, inputs):
        relations = (inputs["facts"] | "Relations" >> beam.Map(lambda kv: (kv[1].relation, None))
                     | "DistinctRelations" >> beam.CombinePerKey(lambda xs: None))
        return ({"rel": relations, "best": inputs["best"]} | "JoinRelationLabels" >> beam.CoGroupByKey()
                | "RelationLabel" >> beam.FlatMap(align_stages.relation_label, self.given))


class AlignPairs(beam.PTransform):
    """Subjects' facts + the sentences that mention them -> pairs.jsonl lines, stage ``align``
    (relation labels a side input), with ``stats``."""

    def __init__(self, max_facts: int, lang: str) -> None:
        super().__init__()
        self.max_facts, self.lang = max_facts, lang

    def expand(self, inputs):
        labels = beam.pvalue.AsDict(inputs["relation_labels"])
        return ({"facts": inputs["facts"], "sentences": inputs["sentences"]} | "JoinFacts" >> beam.CoGroupByKey()
                | "Align" >> GroupStep("align", align_stages.AlignSentences(self.max_facts, self.lang),
                                       part="sentences", side_inputs=(labels,)))
