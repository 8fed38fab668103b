"""The SOCIAL-CHEM steps that are Beam pipelines: ``situations``, ``render`` and ``propose``.

Each takes its config, checked when made (:mod:`corpora.socialchem.configs`): a
``build_*(p, cfg, ...)`` of named transforms and a ``run_*`` that goes through the shared driver.
Every file is written inside the pipeline, through Beam's file systems; single-file outputs in
id order are written as sorted parts, one per range of ids, joined by the last step, which also
writes stats.json and manifest.json (last), so the driver does no work after the run.
"""

from __future__ import annotations

import bisect
import json
import os
from dataclasses import asdict
from functools import partial

from corpora.socialchem.configs import ProposeConfig, RenderStepConfig, SituationsConfig
from corpora.socialchem.situations import Situation
from corpora.socialchem.step_io import input_file, tsv_input
from pipeline import beam_io
from pipeline.jobs import (
    PipelineJob,
    UsageError,
    drive,
    prepare_beam_args,
    prepare_named_outputs,
    prepare_output,
    print_summary,
)
from pipeline.stats import render_table

PARTS = ".parts"  # sorted parts of single-file outputs, joined and removed by the last step
SITUATIONS_TSV_HEADER = "situation-short-id\tarea\tsituation\tcharacters"
PROPOSALS_PER_PART = 1000


# -- situations --------------------------------------------------------------------------------

def _situation_bucket(s: Situation) -> str:
    """``PREFIX/AREA/`` and the code's first character: a range of ids (ids sort as their buckets)."""
    return s.situation_short_id[:-7]


def _situation_line(s: Situation) -> str:
    return json.dumps(s.as_dict(), ensure_ascii=False, sort_keys=False)


def _situation_tsv(s: Situation) -> str:
    return f"{s.situation_short_id}\t{s.area}\t{s.situation}\t{'|'.join(s.characters)}"


def build_situations(p, cfg: SituationsConfig, inputs: list[dict]) -> None:
    """Compose the situations step on pipeline ``p``."""
    import apache_beam as beam

    from corpora.socialchem.beam_socialchem import (
        DEDUP_STAGE,
        MINE_STAGE,
        NORMALIZE_STAGE,
        MineSituations,
        WriteOrderedParts,
    )
    from pipeline.beam_steps import (
        FILES_STAGE,
        READ_STAGE,
        REJECTS,
        STATS,
        ReadInputFiles,
        finalize,
        summed_stats,
        write_rejects,
    )
    from pipeline.readers import ReaderConfig

    parts_dir = beam_io.join(cfg.output, PARTS)
    read = p | ReadInputFiles([f["path"] for f in inputs], ReaderConfig("parquet", "text", "id", "url"), cfg.rejects)
    mined = read["out"] | MineSituations(cfg.mining, cfg.rejects)
    parts = (mined["out"]
             | WriteOrderedParts(parts_dir, _situation_bucket, lambda s: (s.situation_short_id, s.key),
                                 {".jsonl": _situation_line, ".tsv": _situation_tsv}, lambda s: {s.area: 1})
             | "PartsList" >> beam.combiners.ToList())
    if cfg.rejects:
        reject_files = write_rejects((read[REJECTS], mined[REJECTS]) | "FlattenRejects" >> beam.Flatten(), cfg.output)
    else:
        reject_files = []
    finalize(p, _write_situations, output=cfg.output, config=asdict(cfg.mining), inputs=inputs,
             stage_order=[FILES_STAGE, READ_STAGE, MINE_STAGE, NORMALIZE_STAGE, DEDUP_STAGE],
             stats=summed_stats([read[STATS], mined[STATS]]), parts=parts, reject_files=reject_files)


def _write_situations(output, config, inputs, stage_order, stats, parts, reject_files) -> None:
    """The last step: join the sorted parts into situations.jsonl and .tsv; then stats.json and
    manifest.json (last), which lists the rejects/ parts."""
    from corpora.socialchem.beam_socialchem import join_ordered_parts
    from pipeline.manifest import build_manifest
    from pipeline.stats import build_report

    paths = {"situations.jsonl": beam_io.join(output, "situations.jsonl"),
             "situations.tsv": beam_io.join(output, "situations.tsv")}
    n = join_ordered_parts(parts, ".jsonl", paths["situations.jsonl"])
    join_ordered_parts(parts, ".tsv", paths["situations.tsv"], header=SITUATIONS_TSV_HEADER)
    outputs = [beam_io.describe_written(path, name, n) for name, path in paths.items()]
    beam_io.delete_tree(beam_io.join(output, PARTS))
    by_area: dict[str, int] = {}
    for part in parts:
        for area, k in part["counts"].items():
            by_area[area] = by_area.get(area, 0) + k
    report = build_report(stats, stage_order)
    report["job"] = "socialchem situations"
    report["situations"] = n
    report["by_area"] = {a: by_area[a] for a in sorted(by_area)}
    beam_io.write_json_atomic(beam_io.join(output, "stats.json"), report)
    beam_io.write_json_atomic(beam_io.join(output, "manifest.json"),
                              build_manifest("socialchem situations", config, inputs, outputs, reject_files))


def run_situations(cfg: SituationsConfig, beam_args: list[str], overwrite: bool = False, quiet: bool = False,
                   verbose: bool = False) -> dict | None:
    """[Beam] corpus -> situations.jsonl and .tsv (+ rejects/), stats.json, manifest.json; the
    stats report (None when only submitted)."""
    from corpora.tokenize import checked_sized_corpus_files

    beam_args = prepare_beam_args(beam_args, verbose)
    inputs = checked_sized_corpus_files([beam_io.absolute(c) for c in cfg.input], "--input")  # paths with sizes
    prepare_named_outputs(cfg.output, ["situations.jsonl", "situations.tsv", "rejects", "rejects.jsonl", "stats.json",
                                       "manifest.json", PARTS], overwrite)

    def summary(report: dict, seconds: float) -> None:
        print()
        print(render_table(report))
        print(f"\nwrote {report['situations']} situations to {cfg.output}/situations.jsonl in {seconds:.1f}s "
              f"(accounting {'ok' if report['accounting_ok'] else 'MISMATCH'})")

    return drive(PipelineJob("socialchem situations", cfg.output, build=lambda p: build_situations(p, cfg, inputs),
                             header=f"socialchem situations: mining {len(inputs)} corpus file(s) -> {cfg.output}",
                             summary=summary), beam_args, quiet, input_bytes=sum(f["bytes"] for f in inputs))


# -- render ------------------------------------------------------------------------------------

def resolve_render_inputs(cfg: RenderStepConfig) -> tuple[list[str], list[dict]]:
    """(the TSV patterns, their files with sizes): an empty file or a wrong header is refused now."""
    from corpora.socialchem.validate import input_problem

    patterns = [tsv_input(i) if os.path.isdir(i) else i for i in cfg.input]
    try:
        inputs = beam_io.match_inputs(patterns)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    for f in inputs:
        problem = input_problem(f["path"])
        if problem:
            raise UsageError(f"--input {f['path']}: {problem}")
    return [beam_io.absolute(p) for p in patterns], inputs


def build_render(p, cfg: RenderStepConfig, patterns: list[str], inputs: list[dict]):
    """Compose the render step on pipeline ``p``: read -> select -> render -> write."""
    import apache_beam as beam

    from corpora.socialchem.beam_socialchem import FILES_STAGE, ReadTsvRows
    from corpora.socialchem.render import RenderRow, SelectRow
    from corpora.socialchem.render_official import RenderOfficialRow
    from pipeline.beam_steps import CorpusRun

    run = CorpusRun(p, cfg.output, job="socialchem render", config={"inputs": patterns, **cfg.render.__dict__},
                    inputs=inputs, keep_rejects=cfg.rejects, num_shards=cfg.num_shards)
    run.stage_order.append(FILES_STAGE)
    rows = run.apply("read", p, ReadTsvRows([f["path"] for f in inputs], cfg.rejects))
    rows = run.step("select", rows, SelectRow(cfg.render))
    pairs = rows | "Modes" >> beam.FlatMap(lambda item, ms: [(item, m) for m in ms], list(cfg.render.modes))
    docs = run.step("render", pairs, RenderOfficialRow() if cfg.render.format == "official" else RenderRow())
    run.write(docs)
    return run


def run_render(cfg: RenderStepConfig, beam_args: list[str], overwrite: bool = False, quiet: bool = False,
               verbose: bool = False) -> dict | None:
    """[Beam] TSV rows -> a corpus of training text (source socialchem); the stats report."""
    beam_args = prepare_beam_args(beam_args, verbose)
    patterns, inputs = resolve_render_inputs(cfg)
    prepare_output(cfg.output, overwrite)
    r = cfg.render
    header = (f"socialchem render: {len(inputs)} TSV file(s) -> {cfg.output} (format {r.format}, modes "
              f"{','.join(r.modes)}, splits {','.join(r.splits)})")
    return drive(PipelineJob(
        "socialchem render", cfg.output, build=lambda p: build_render(p, cfg, patterns, inputs), header=header,
        summary=lambda report, seconds: print_summary("socialchem render", cfg.output, report, seconds, inputs),
    ), beam_args, quiet, input_bytes=sum(f["bytes"] for f in inputs))


# -- propose -----------------------------------------------------------------------------------

def build_propose(p, cfg: ProposeConfig, situations: list[dict]) -> None:
    """Compose the propose step: situations (read and checked on the driver) -> GenerateText ->
    proposals.jsonl in id order, stats.json, manifest.json (written last)."""
    import apache_beam as beam

    from corpora.socialchem.assist import attach, prompt_for
    from corpora.socialchem.beam_socialchem import WriteOrderedParts
    from pipeline.beam_generation import GenerateText
    from pipeline.beam_steps import STATS, finalize, summed_stats

    ids = sorted(s["situation_short_id"] for s in situations)
    bounds = ids[PROPOSALS_PER_PART::PROPOSALS_PER_PART]  # the first id of each part after the first
    gen = (p | "Situations" >> beam.Create(situations)
           | GenerateText("propose", beam_io.absolute_spec(cfg.generator), cfg.generation, prompt_for,
                          partial(attach, spec=cfg.generator, mode=cfg.mode)))
    parts = (gen["out"]
             | WriteOrderedParts(beam_io.join(cfg.output, PARTS), partial(_proposal_bucket, bounds=bounds),
                                 _proposal_order, {".jsonl": _json_line}, lambda r: {"proposals": len(r["proposals"])})
             | "PartsList" >> beam.combiners.ToList())
    finalize(p, _write_proposals, output=cfg.output, spec=cfg.generator, config=cfg.generation.as_dict(),
             mode=cfg.mode, stats=summed_stats([gen[STATS]]), parts=parts, n_in=len(situations))


def _proposal_bucket(record: dict, bounds: list[str]) -> str:
    return f"{bisect.bisect_right(bounds, record['situation-short-id']):09d}"


def _proposal_order(record: dict) -> tuple[str, str]:
    return record["situation-short-id"], json.dumps(record, sort_keys=True)


def _json_line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=False)


def _write_proposals(output, spec, config, mode, stats, parts, n_in) -> None:
    from corpora.socialchem.beam_socialchem import join_ordered_parts
    from pipeline.manifest import build_manifest
    from pipeline.stats import build_report

    path = beam_io.join(output, "proposals.jsonl")
    rows = join_ordered_parts(parts, ".jsonl", path)
    beam_io.delete_tree(beam_io.join(output, PARTS))
    report = build_report(stats, ["propose"])
    report.update(job="socialchem propose", proposals=sum(part["counts"].get("proposals", 0) for part in parts),
                  situations=n_in)
    beam_io.write_json_atomic(beam_io.join(output, "stats.json"), report)
    beam_io.write_json_atomic(beam_io.join(output, "manifest.json"), build_manifest(
        "socialchem propose", {"generator": spec, "mode": mode, "generation": config}, [],
        [beam_io.describe_written(path, "proposals.jsonl", rows)]))


def run_propose(cfg: ProposeConfig, beam_args: list[str], overwrite: bool = False, quiet: bool = False,
                verbose: bool = False) -> dict | None:
    """[Beam] model-assisted proposals, marked machine-made; the stats report."""
    from corpora.socialchem.tasks import load_situations

    beam_args = prepare_beam_args(beam_args, verbose)
    try:
        situations = load_situations(input_file(cfg.situations, "situations.jsonl", "--input"))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    prepare_named_outputs(cfg.output, ["proposals.jsonl", "stats.json", "manifest.json", PARTS], overwrite)

    def summary(report: dict, seconds: float) -> None:
        print(render_table(report))
        print(f"\nwrote {report['proposals']} machine-made proposal(s) to {cfg.output}/proposals.jsonl "
              f"in {seconds:.1f}s")

    return drive(PipelineJob("socialchem propose", cfg.output, build=lambda p: build_propose(p, cfg, situations),
                             summary=summary), beam_args, quiet)
