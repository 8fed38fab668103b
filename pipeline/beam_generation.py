"""Beam shell around :mod:`pipeline.generation`: batched generation, one model per worker.

``GenerateText`` is a corpus stage like any other: its outputs are the main output, ``stats``
and ``rejects`` (see :class:`pipeline.beam_steps.CorpusRun.apply`). Elements are batched with
``BatchElements`` so the model sees full batches; the generator loads once per worker in
``setup``. The generator's own counters (truncated inputs, empty outputs) become
``count:<name>`` entries of the stage in ``stats.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import apache_beam as beam

from pipeline.beam_steps import CountingDoFn, stage_outputs
from pipeline.generation import GenerationConfig, check_generator_spec, make_generator
from pipeline.stats import IN, count_key

PromptFn = Callable[[Any], str]
AttachFn = Callable[[Any, list[str]], Any]  # -> the element with its outputs, or a Drop


class _GenerateDoFn(CountingDoFn):
    def __init__(self, stage: str, spec: str, config: GenerationConfig, prompt_fn: PromptFn, attach_fn: AttachFn,
                 keep_rejects: bool) -> None:
        super().__init__(keep_rejects)
        self.stage, self.spec, self.config = stage, spec, config
        self.prompt_fn, self.attach_fn = prompt_fn, attach_fn
        self._generator = None
        self._reported: dict[str, int] = {}

    def setup(self) -> None:
        self._generator = make_generator(self.spec, self.config)

    def _count_generator_stats(self) -> None:
        for name, total in self._generator.stats.items():
            delta = total - self._reported.get(name, 0)
            if delta and name != "prompts":
                self._counter.add(self.stage, count_key(name), delta)
            self._reported[name] = total

    def process(self, batch: list):
        self._counter.add(self.stage, IN, len(batch))
        outputs = self._generator.generate([self.prompt_fn(e) for e in batch])
        self._count_generator_stats()
        for element, texts in zip(batch, outputs, strict=True):
            yield from self._emit(self.stage, self.attach_fn(element, texts))


class GenerateText(beam.PTransform):
    """``docs | GenerateText("verbalize", "hf:/models/t5", cfg, prompt_fn, attach_fn)``.

    ``prompt_fn(element) -> str`` builds the model input; ``attach_fn(element, outputs)``
    returns the element carrying its ``config.num_return_sequences`` outputs, or a ``Drop``.
    Both must be picklable (module-level functions or ``functools.partial`` of them).
    """

    def __init__(self, stage: str, spec: str, config: GenerationConfig, prompt_fn: PromptFn, attach_fn: AttachFn,
                 keep_rejects: bool = False) -> None:
        super().__init__(label=stage)
        check_generator_spec(spec)  # a bad path fails at construction, before the pipeline runs
        self.stage, self.spec, self.config = stage, spec, config
        self.prompt_fn, self.attach_fn, self.keep_rejects = prompt_fn, attach_fn, keep_rejects

    def expand(self, pcoll):
        return (
            pcoll
            | "batch" >> beam.BatchElements(min_batch_size=self.config.batch_size,
                                               max_batch_size=self.config.batch_size)
            | "generate" >> stage_outputs(_GenerateDoFn(self.stage, self.spec, self.config, self.prompt_fn,
                                                        self.attach_fn, self.keep_rejects))
        )
