"""``python -m trainer plan --gpus / --model``: the proposed tensor x pipeline x data layout reproduces the
published layouts of Megatron-LM 8.3B and MT-NLG 530B, and its memory arithmetic is what the docs state."""

from __future__ import annotations

import pytest

from trainer.__main__ import main
from trainer.layout_plan import SHAPES, USABLE, activation_bytes, propose, stage_params


def test_megatron_8_3b_is_8_way_tensor_parallel_by_64_way_data_parallel():
    chosen, _ = propose(**SHAPES["megatron-8.3b"])
    assert (chosen.tp, chosen.pp, chosen.dp) == (8, 1, 64)  # Shoeybi et al. 2019: 8-way model x 64-way data


def test_mt_nlg_530b_is_8_tensor_by_35_pipeline_by_8_data():
    chosen, seen = propose(**SHAPES["mt-nlg-530b"])
    assert (chosen.tp, chosen.pp, chosen.dp) == (8, 35, 8)  # Smith et al. 2022
    assert chosen.micro_batch == 1 and chosen.microbatches == 1920 // 8
    assert chosen.bubble == pytest.approx(34 / 240)
    # fewer stages were tried first and did not fit: 7 stages hold ~9.6B parameters per GPU, 143 GiB of state
    seven = [c for c in seen if c.pp == 7]
    assert seven and not any(c.fits for c in seven)


def test_the_memory_arithmetic():
    params = stage_params(n_layer=4, d_model=64, vocab_size=100, seq_len=32, tp=2, pp=2)
    assert params == ((12 * 64 * 64 + 13 * 64) * 2 + (100 + 32) * 64) / 2
    s, b, h, a = 32, 2, 64, 4
    assert activation_bytes(4, h, a, s, b, 2, "none") == 4 * s * b * h * (34 + 5 * a * s / h) / 2
    assert activation_bytes(4, h, a, s, b, 2, "selective") == 4 * 34 * s * b * h / 2
    full = activation_bytes(4, h, a, s, b, 2, "full")
    assert full < activation_bytes(4, h, a, s, b, 2, "selective") < activation_bytes(4, h, a, s, b, 2, "none")
    chosen, _ = propose(**SHAPES["megatron-8.3b"])
    assert chosen.state_bytes == 16 * chosen.params_per_gpu
    assert chosen.total_bytes <= USABLE * 32 * 2**30 == chosen.capacity_bytes


def test_plan_cli_prints_the_layout_and_its_arithmetic(capsys):
    assert main(["plan", "--model", "mt-nlg-530b"]) == 0
    out = capsys.readouterr().out
    assert "proposed: tensor_parallel=8 x pipeline_parallel=35 x data parallel 8" in out
    assert "16 B x parameters held" in out and "GiB model state" in out
    assert main(["plan", "--gpus", "1", "--gpu-memory", "1", "--global-batch", "8", "--preset", "1.3B"]) == 1
    assert "no layout fits" in capsys.readouterr().out
    assert main(["plan", "--gpus", "8"]) == 2
    assert "needs --n-layer" in capsys.readouterr().err
