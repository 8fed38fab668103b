"""The SOCIAL-CHEM part of the demo: every step of the ``socialchem`` job on the demo's web corpus.

Situations are mined from the web corpus (the sample's advice-forum pages, written when the
demo calls ``write_sample(..., forum_pages=FORUM_PAGES)``), tasks exported, the shipped SAMPLE
annotations (``corpora/samples/socialchem/``, written for the demo, not real data) imported,
agreement computed, rows split and rendered into a corpus the demo then tokenizes.
"""

from __future__ import annotations

import os

from corpora.socialchem.beam_pipelines import run_render, run_situations
from corpora.socialchem.configs import (
    AgreementConfig,
    ExportTasksConfig,
    ImportConfig,
    RenderStepConfig,
    SituationsConfig,
    SplitConfig,
    StatsConfig,
)
from corpora.socialchem.steps import run_agreement, run_export_tasks, run_import, run_split, run_stats

FORUM_PAGES = 20  # the forum pages the sample annotations were written for
SAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "samples", "socialchem")
ROT_ANSWERS = os.path.join(SAMPLES, "rot_answers.csv")
BREAKDOWN_ANSWERS = os.path.join(SAMPLES, "breakdown_answers.csv")


def run_socialchem_demo(web_corpus_dir: str, out_dir: str, beam_args: list[str], overwrite: bool) -> dict:
    """Run situations -> tasks -> sample annotations -> agreement -> split -> render -> stats.

    Writes under ``out_dir``: situations/, tasks/, rots/, annotations/, agreement/, split/,
    corpus/ (the training-text corpus, source ``socialchem``, for the tokenize job) and stats/.
    Returns the paths and headline counts; prints each step's summary.
    """
    d = {name: os.path.join(out_dir, name) for name in
         ("situations", "tasks", "rots", "annotations", "agreement", "split", "corpus", "stats")}
    print("\n== socialchem: situations mined from the web corpus")
    sit = run_situations(SituationsConfig(input=[web_corpus_dir], output=d["situations"], rejects=True), beam_args,
                         overwrite=overwrite)
    print("\n== socialchem: RoT-writing tasks")
    run_export_tasks(ExportTasksConfig(output=d["tasks"], situations=d["situations"], m=1), overwrite)
    print("\n== socialchem: import the SAMPLE RoT answers (written for the demo, not real data)")
    rots = run_import(ImportConfig(tasks=os.path.join(d["tasks"], "rot_tasks.jsonl"), input=[ROT_ANSWERS],
                                   output=d["rots"]), overwrite)
    print("\n== socialchem: breakdown tasks")
    run_export_tasks(ExportTasksConfig(output=d["tasks"], rots=d["rots"], m=3), overwrite)
    print("\n== socialchem: import the SAMPLE breakdown answers")
    bds = run_import(ImportConfig(tasks=os.path.join(d["tasks"], "breakdown_tasks.jsonl"), input=[BREAKDOWN_ANSWERS],
                                  output=d["annotations"]), overwrite)
    print("\n== socialchem: agreement")
    agr = run_agreement(AgreementConfig(input=d["annotations"], output=d["agreement"], low_agreement=0.5), overwrite)
    print("\n== socialchem: split")
    spl = run_split(SplitConfig(input=d["annotations"], output=d["split"], aggregated=d["agreement"], seed=0,
                                fractions="0.8,0.1,0.1"), overwrite)
    print("\n== socialchem: render training text")
    ren = run_render(RenderStepConfig(input=[d["split"]], output=d["corpus"], modes="rot,action", splits="all",
                                      rejects=True), beam_args, overwrite=overwrite)
    print("\n== socialchem: stats")
    run_stats(StatsConfig(input=d["split"], output=d["stats"]), overwrite)
    return {
        "corpus": d["corpus"], "dirs": d, "situations": sit["situations"], "rots": rots["records_out"],
        "breakdown_rows": bds["records_out"], "rejected_answers": rots["rejected_answers"] + bds["rejected_answers"],
        "multi_annotated_rots": agr["multi_annotated_rots"], "split_rows": spl["rows"],
        "documents": ren["stages"][-1]["out"],
    }
