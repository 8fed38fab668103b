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

from pipeline.beam_steps import BatchStep
from pipeline.generation import GenerationConfig, check_generator_spec, make_generator
from pipeline.outcomes import Count

PromptFn = Callable[[Any], str]
AttachFn = Callable[[Any, list[str]], Any]  # -> the element with its outputs, or a Drop


class Generate:
    """The generation stage: a batch of elements -> each with its generated texts (``attach_fn``),
    or a Drop; the generator's own counters (truncated inputs, empty outputs) as counts, except
    ``prompts``. The generator loads once per worker (``setup``)."""

    def __init__(self, spec: str, config: GenerationConfig, prompt_fn: PromptFn, attach_fn: AttachFn) -> None:
        self.spec, self.config, self.prompt_fn, self.attach_fn = spec, config, prompt_fn, attach_fn
        self._generator = None
        self._reported: dict[str, int] = {}

    def setup(self) -> None:
        self._generator = make_generator(self.spec, self.config)
        self._reported = {}

    def __call__(self, batch: list):
        outputs = self._generator.generate([self.prompt_fn(e) for e in batch])
        for name, total in self._generator.stats.items():  # the generator counts since it loaded
            delta = total - self._reported.get(name, 0)
            self._reported[name] = total
            if delta and name != "prompts":
                yield Count(name, delta)
        for element, texts in zip(batch, outputs, strict=True):
            yield self.attach_fn(element, texts)


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
        step = Generate(self.spec, self.config, self.prompt_fn, self.attach_fn)
        return pcoll | "generate" >> BatchStep(self.stage, step, self.config.batch_size, self.keep_rejects)
