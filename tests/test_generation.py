"""The shared generators: spec checks, the HF seq2seq generator, and the batched Beam stage."""

from __future__ import annotations

import json
import os

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipeline.beam_generation import GenerateText
from pipeline.generation import (
    GenerationConfig,
    GeneratorError,
    HFSeq2SeqGenerator,
    check_generator_spec,
    make_generator,
)
from pipeline.jobs import make_pipeline
from pipeline.records import Drop
from tests.tiny_models import make_tiny_seq2seq


@pytest.fixture(scope="module")
def tiny_t5(tmp_path_factory) -> str:
    return make_tiny_seq2seq(str(tmp_path_factory.mktemp("t5")))


def test_bad_specs_fail_before_loading(tmp_path):
    with pytest.raises(GeneratorError, match="expected hf:PATH"):
        check_generator_spec("just-a-path")
    with pytest.raises(GeneratorError, match="unknown kind 'gpt'"):
        check_generator_spec("gpt:/x")
    with pytest.raises(GeneratorError, match="no such directory"):
        check_generator_spec(f"hf:{tmp_path}/missing")
    with pytest.raises(GeneratorError, match="no config.json"):
        check_generator_spec(f"hf:{tmp_path}")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(GeneratorError, match="not a seq2seq"):
        check_generator_spec(f"hf:{tmp_path}")


def test_config_is_validated():
    with pytest.raises(GeneratorError, match="batch_size"):
        GenerationConfig(batch_size=0)
    with pytest.raises(GeneratorError, match="num_beams >= num_return_sequences"):
        GenerationConfig(num_return_sequences=3)


def test_hf_generator_batches_truncates_and_is_seeded(tiny_t5):
    cfg = GenerationConfig(max_input_tokens=8, max_new_tokens=5, batch_size=2, do_sample=True, top_k=10,
                           num_return_sequences=3, seed=7)
    gen = make_generator(f"hf:{tiny_t5}", cfg)
    assert isinstance(gen, HFSeq2SeqGenerator)
    prompts = ["Marie Curie was born in Warsaw in 1867 and she studied in Paris", "bread", "the river"]
    out = gen.generate(prompts)
    assert [len(o) for o in out] == [3, 3, 3]
    assert all(isinstance(t, str) for o in out for t in o)
    assert gen.stats["truncated_inputs"] == 1  # only the long prompt exceeds 8 tokens
    assert gen.stats["prompts"] == 3
    again = make_generator(f"hf:{tiny_t5}", cfg).generate(prompts)
    assert again == out  # same seed and batches -> same samples


def _prompt(element: dict) -> str:
    return element["text"]


def _attach(element: dict, outputs: list[str]):
    if element["text"] == "drop me":
        return Drop("", "unwanted", id=element["id"])
    return {**element, "n_outputs": len(outputs)}


def test_generate_text_stage_counts_and_drops(tiny_t5, tmp_path):
    cfg = GenerationConfig(max_new_tokens=3, batch_size=2)
    docs = [{"id": str(i), "text": t} for i, t in enumerate(["the river", "bread", "drop me", "Paris"])]
    with make_pipeline([]) as p:
        outs = p | beam.Create(docs) | GenerateText("generate", f"hf:{tiny_t5}", cfg, _prompt, _attach)
        assert_that(outs["out"] | beam.Map(lambda d: (d["id"], d["n_outputs"])),
                    equal_to([("0", 1), ("1", 1), ("3", 1)]), label="kept")
        stats = outs["stats"] | beam.CombinePerKey(sum)
        assert_that(stats, equal_to([(("generate", "in"), 4), (("generate", "out"), 3),
                                     (("generate", "drop:unwanted"), 1)]), label="stats")


def test_stage_rejects_a_bad_checkpoint_at_construction(tmp_path):
    os.makedirs(tmp_path / "m")
    with pytest.raises(GeneratorError):
        GenerateText("generate", f"hf:{tmp_path}/m", GenerationConfig(), _prompt, _attach)
