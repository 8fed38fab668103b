"""datatrove's side of ``bench/peers.py``: one case's pipeline, run in datatrove's own venv.

``bench/peers.py`` starts it as ``<datatrove venv>/bin/python bench/peers_datatrove.py SPEC.json``
(``PYTHONPATH=bench``); it imports only the standard library and datatrove, never our code,
so it measures datatrove alone. SPEC holds the case, input, output, workers and tasks.
"""

from __future__ import annotations

import json
import os
import sys

try:  # datatrove is only in its own venv; our venv imports this module only for ruff and docs
    from datatrove.pipeline.extractors.base import BaseExtractor
    from datatrove.utils.lid import FT176LID
except ImportError:  # pragma: no cover - our venv
    BaseExtractor = FT176LID = object  # type: ignore[assignment,misc]


class ResiliparseExtractor(BaseExtractor):  # type: ignore[misc,valid-type]
    """datatrove ships no Resiliparse extractor: ours, with the web job's exact settings."""

    name = "resiliparse"
    _requires_dependencies = ["resiliparse"]

    def __init__(self, timeout: float = 10.0) -> None:  # abstract in BaseExtractor
        super().__init__(timeout)

    def extract(self, text: str) -> str:
        from resiliparse.extract.html2text import extract_plain_text

        return extract_plain_text(text, main_content=True, alt_texts=False, list_bullets=True)


class LocalFT176(FT176LID):  # type: ignore[misc,valid-type]
    """datatrove's fastText lid.176 language ID, loading a local model file instead of downloading."""

    def __init__(self, model_path: str, languages: list[str] | None = None) -> None:
        super().__init__(languages)
        self.model_path = model_path

    @property
    def model(self):  # noqa: ANN201 - fasttext's model object
        if self._model is None:
            from fasttext.FastText import _FastText

            self._model = _FastText(self.model_path)
        return self._model


def extractor(spec: dict):  # noqa: ANN201 - a datatrove step
    """The HTML extractor step with the settings our web job uses (see docs/performance.md)."""
    timeout = spec.get("extract_timeout", 10.0)
    if spec["extractor"] == "resiliparse":
        return ResiliparseExtractor(timeout=timeout)
    from datatrove.pipeline.extractors import Trafilatura

    return Trafilatura(favour_precision=False, deduplicate=False, include_tables=True, timeout=timeout)


def language_filter(spec: dict):  # noqa: ANN201 - a datatrove step
    """LanguageFilter on ``spec['langs']`` at 0.65 with the same lid.176.ftz as ours."""
    from datatrove.pipeline.filters import LanguageFilter

    step = LanguageFilter(languages=spec["langs"], language_threshold=0.65)
    step.model = LocalFT176(spec["lid_model"], spec["langs"])
    return step


def run(pipeline: list, spec: dict, tasks: int, name: str, workers: int | None = None) -> None:
    """One LocalPipelineExecutor stage, its logs under ``work/logs/name``."""
    from datatrove.executor import LocalPipelineExecutor

    LocalPipelineExecutor(
        pipeline=pipeline, tasks=tasks, workers=min(tasks, workers or spec["workers"]),
        logging_dir=os.path.join(spec["work"], "logs", name),
    ).run()


def web_case(spec: dict) -> None:
    """WARC -> extract -> language ID (-> Gopher, C4, FineWeb, PII for the chain) -> JSONL."""
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import JsonlWriter

    steps = [WarcReader(spec["input_dir"], glob_pattern=spec["glob"]), extractor(spec), language_filter(spec)]
    if spec["case"] == "chain":
        from datatrove.pipeline.filters import (
            C4QualityFilter,
            FineWebQualityFilter,
            GopherQualityFilter,
            GopherRepetitionFilter,
        )
        from datatrove.pipeline.formatters import PIIFormatter

        steps += [GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(), FineWebQualityFilter(),
                  PIIFormatter()]
    steps.append(JsonlWriter(spec["output"]))
    run(steps, spec, spec["tasks"], "web")


def dedup_case(spec: dict) -> None:
    """JSONL -> exact dedup (3 stages) -> MinHash dedup 14 x 8, 5-grams (4 stages) -> JSONL."""
    from datatrove.pipeline.dedup import MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature
    from datatrove.pipeline.dedup.exact_dedup import (
        ExactDedupConfig,
        ExactDedupFilter,
        ExactDedupSignature,
        ExactFindDedups,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupBuckets
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    work, tasks = spec["work"], spec["tasks"]
    exact = ExactDedupConfig(content_getter=lambda doc: doc.text)
    sigs, dups, mid = (os.path.join(work, n) for n in ("exact-sigs", "exact-dups", "after-exact"))
    run([JsonlReader(spec["input_dir"], glob_pattern=spec["glob"]),
         ExactDedupSignature(sigs, exact, finder_workers=1)], spec, tasks, "exact-1")
    run([ExactFindDedups(sigs, dups, exact)], spec, 1, "exact-2")
    run([JsonlReader(spec["input_dir"], glob_pattern=spec["glob"]), ExactDedupFilter(dups, exact),
         JsonlWriter(mid)], spec, tasks, "exact-3")

    config = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8)
    msigs, buckets, remove = (os.path.join(work, n) for n in ("mh-sigs", "mh-buckets", "mh-remove"))
    run([JsonlReader(mid), MinhashDedupSignature(msigs, config=config)], spec, tasks, "minhash-1")
    run([MinhashDedupBuckets(msigs, buckets, config=config)], spec, config.num_buckets, "minhash-2")
    run([MinhashDedupCluster(buckets, remove, config=config)], spec, 1, "minhash-3")
    run([JsonlReader(mid), MinhashDedupFilter(remove), JsonlWriter(spec["output"])], spec, tasks, "minhash-4")


def tokenize_case(spec: dict) -> None:
    """JSONL -> Megatron .bin/.idx with the same tokenizer.json and end-of-document token."""
    from datatrove.pipeline.readers import JsonlReader

    try:
        from datatrove.pipeline.tokens.megatron_tokenizer import MegatronDocumentTokenizer as Tok
    except ImportError:  # older datatrove: its own .ds format
        from datatrove.pipeline.tokens import DocumentTokenizer as Tok
    run([JsonlReader(spec["input_dir"], glob_pattern=spec["glob"]),
         Tok(spec["output"], tokenizer_name_or_path=spec["tokenizer"], eos_token=spec["eos"])],
        spec, spec["tasks"], "tokenize")


CASES = {"extract": web_case, "chain": web_case, "dedup": dedup_case, "tokenize": tokenize_case}


def main(argv: list[str]) -> None:
    with open(argv[0]) as f:
        spec = json.load(f)
    CASES[spec["case"]](spec)


if __name__ == "__main__":
    import peers_datatrove  # classes pickled to datatrove's workers by module name, not __main__

    peers_datatrove.main(sys.argv[1:])
