"""The GPT model, the optimizer groups and the learning-rate schedule, on small tensors."""

from __future__ import annotations

import math

import pytest
import torch

from trainer.model import GPT, PRESETS, GPTConfig, alibi_bias, alibi_slopes, count_params, flops_per_token
from trainer.optim import LRSchedule, make_optimizer, param_groups

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def small(**kw) -> GPTConfig:
    base = dict(vocab_size=97, n_layer=2, n_head=4, d_model=32, seq_len=16)
    base.update(kw)
    return GPTConfig(**base)


@pytest.mark.parametrize("pos", ["learned", "rope", "alibi"])
def test_causal_model_never_looks_ahead(pos):
    torch.manual_seed(0)
    model = GPT(small(pos=pos)).eval()
    x = torch.randint(0, 97, (2, 12))
    y = x.clone()
    y[:, 8:] = torch.randint(0, 97, (2, 4))  # change only the future
    with torch.no_grad():
        a, _ = model(x)
        b, _ = model(y)
    assert torch.allclose(a[:, :8], b[:, :8], atol=1e-5)
    assert not torch.allclose(a[:, 8:], b[:, 8:], atol=1e-5)


@pytest.mark.parametrize("pos", ["learned", "rope", "alibi"])
def test_encoder_variant_sees_both_sides(pos):
    torch.manual_seed(0)
    model = GPT(small(pos=pos, causal=False)).eval()
    x = torch.randint(0, 97, (1, 12))
    y = x.clone()
    y[0, 11] = (x[0, 11] + 1) % 97
    with torch.no_grad():
        a, _ = model(x)
        b, _ = model(y)
    assert not torch.allclose(a[:, 0], b[:, 0], atol=1e-6)  # the first position sees the last token


def test_loss_counts_only_labelled_tokens_and_matches_cross_entropy():
    torch.manual_seed(0)
    model = GPT(small())
    x = torch.randint(0, 97, (2, 10))
    labels = torch.randint(0, 97, (2, 10))
    labels[:, :4] = -100
    logits, loss = model(x, labels)
    assert logits.shape == (2, 10, 97)
    expected = torch.nn.functional.cross_entropy(logits[:, 4:].reshape(-1, 97), labels[:, 4:].reshape(-1))
    assert torch.allclose(loss, expected, atol=1e-5)
    _, none = model(x, torch.full_like(labels, -100))
    assert none.item() == 0.0  # nothing to predict: 0, not NaN
    assert model(x)[1] is None
    # at initialization the loss is close to log(vocab): the GPT-2 init keeps logits small
    assert abs(model(x, torch.randint(0, 97, (2, 10)))[1].item() - math.log(97)) < 0.3


def test_tied_embeddings_and_gpt2_init():
    cfg = small(n_layer=8, d_model=64, vocab_size=500)
    torch.manual_seed(0)
    model = GPT(cfg)
    assert model.lm_head.weight is model.wte.weight
    assert model.num_params() == count_params(8, 64, 500, 16)
    std = 0.02 / math.sqrt(2 * 8)
    residual = torch.cat([torch.cat([b.attn.proj.weight.flatten(), b.mlp.proj.weight.flatten()]) for b in model.blocks])
    assert abs(residual.std().item() - std) < 0.1 * std
    assert abs(model.blocks[0].mlp.fc.weight.std().item() - 0.02) < 0.002
    assert all(b.attn.qkv_heads.bias.abs().sum() == 0 for b in model.blocks)


def test_presets_have_their_advertised_sizes():
    sizes = {name: count_params(p["n_layer"], p["d_model"], 50257, p["seq_len"]) for name, p in PRESETS.items()}
    assert abs(sizes["124M"] - 124.4e6) < 1e6  # GPT-2 small
    assert abs(sizes["350M"] - 354e6) < 5e6  # GPT-2 medium
    assert abs(sizes["1.3B"] - 1.3e9) < 0.05e9  # GPT-3 XL
    model = GPT(GPTConfig(vocab_size=50257, **PRESETS["tiny"]))
    assert model.num_params() == count_params(vocab_size=50257, **{k: PRESETS["tiny"][k] for k in ("n_layer", "d_model",
                                                                                                    "seq_len")})


def test_sequences_longer_than_the_model_are_refused():
    model = GPT(small(seq_len=8))
    with pytest.raises(ValueError, match="longer than the model's seq_len=8"):
        model(torch.zeros(1, 9, dtype=torch.long))
    with pytest.raises(ValueError, match="not divisible"):
        GPTConfig(n_head=5, d_model=32)
    with pytest.raises(ValueError, match="pos="):
        GPTConfig(pos="sinusoidal")


def test_alibi_slopes_and_bias():
    assert torch.allclose(alibi_slopes(8), torch.tensor([2 ** -(i + 1) for i in range(8)], dtype=torch.float32))
    assert len(alibi_slopes(6)) == 6 and torch.all(alibi_slopes(6) > 0)
    bias = alibi_bias(2, 4, causal=True)
    assert bias[0, 1, 2] == float("-inf") and bias[0, 2, 1] == -alibi_slopes(2)[0]
    assert torch.all(alibi_bias(2, 4, causal=False)[:, 0, 3] > float("-inf"))


def test_a_few_steps_learn_a_repeating_sequence():
    torch.manual_seed(0)
    model = GPT(small(pos="rope"))
    opt = make_optimizer(model, 3e-3, 0.1, (0.9, 0.95), 1e-8, "cpu")
    x = torch.arange(16).remainder(7).repeat(4, 1)
    labels = torch.roll(x, -1, dims=1)
    first = None
    for _ in range(40):
        _, loss = model(x, labels)
        first = first if first is not None else loss.item()
        loss.backward()
        opt.step()
        opt.zero_grad()
    assert loss.item() < first / 4


def test_weight_decay_only_on_matrices():
    model = GPT(small())
    decay, other = param_groups(model, 0.1)
    decayed = {id(p) for p in decay["params"]}
    names = {n for n, p in model.named_parameters() if id(p) in decayed}
    assert names and all(n.endswith(("qkv_heads.weight", "proj.weight", "fc.weight")) for n in names)
    assert id(model.wte.weight) not in decayed and id(model.wpe.weight) not in decayed
    assert other["weight_decay"] == 0.0 and decay["weight_decay"] == 0.1
    total = sum(p.numel() for g in (decay, other) for p in g["params"])
    assert total == model.num_params()  # every parameter once (the tied embedding too)


@pytest.mark.parametrize("kind", ["cosine", "linear"])
def test_schedule_warmup_then_decay_to_the_floor(kind):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.0)
    s = LRSchedule(opt, lr=1.0, min_lr=0.1, warmup_steps=10, decay_steps=110, kind=kind)
    lrs = [s.lr_at(i) for i in range(130)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(lrs[:10], lrs[1:10], strict=False))
    assert all(a >= b for a, b in zip(lrs[10:110], lrs[11:111], strict=False))
    assert lrs[60] == pytest.approx(0.55)  # half way: both shapes cross the middle
    if kind == "cosine":
        assert lrs[35] > 0.55 + 0.2
    assert lrs[110:] == [0.1] * 20
    assert s.apply() == lrs[0] and opt.param_groups[0]["lr"] == lrs[0]
    s.advance()
    state = s.state_dict()
    t = LRSchedule(opt, lr=1.0, min_lr=0.1, warmup_steps=10, decay_steps=110, kind=kind)
    t.load_state_dict(state)
    assert t.apply() == lrs[1]


def test_flops_per_token_counts_weights_and_attention():
    cfg = GPTConfig(**PRESETS["124M"])
    n = 85_000_000
    assert flops_per_token(cfg, n, 1024) == 6 * n + 12 * 12 * 768 * 1024


def test_hardware_flops_count_the_recomputation():
    """HFU's numerator: full recomputation repeats the forward pass (2N + attention's 4 L d T), selective only
    the attention core's forward; without checkpointing it is the model FLOPs."""
    from trainer.model import hardware_flops_per_token

    cfg = GPTConfig(**PRESETS["124M"])
    n, model = 85_000_000, flops_per_token(cfg, 85_000_000, 1024)
    attention_forward = 4 * 12 * 768 * 1024
    assert hardware_flops_per_token(cfg, n, 1024, "none") == model
    assert hardware_flops_per_token(cfg, n, 1024, "selective") == model + attention_forward
    assert hardware_flops_per_token(cfg, n, 1024, "full") == model + 2 * n + attention_forward
    assert hardware_flops_per_token(cfg, n, 1024, "full") * 3 == model * 4  # one more forward: 8/6 of the work


def test_peak_flops_table_matches_gpu_names(monkeypatch):
    from trainer.train import peak_flops

    assert peak_flops(torch.device("cpu")) is None
    for name, flops in [("NVIDIA H100 80GB HBM3", 989e12), ("NVIDIA H100 PCIe", 756e12), ("NVIDIA H100 NVL", 835e12),
                        ("NVIDIA A100-SXM4-80GB", 312e12), ("NVIDIA A10G", 70e12), ("NVIDIA L4", 121e12),
                        ("NVIDIA L40S", 362e12), ("NVIDIA H200", 989e12), ("Some Future GPU", None)]:
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None, n=name: n)
        assert peak_flops(torch.device("cuda", 0)) == flops, name


@pytest.mark.parametrize("pos", ["learned", "rope", "alibi"])
def test_incremental_decoding_matches_the_full_forward(pos):
    """A prefill then one token per step through the KV cache gives the full forward's logits at every position,
    also with rows at different positions (ragged prompts) and rows dropped or repeated in between."""
    torch.manual_seed(0)
    model = GPT(small(pos=pos, n_head=3, d_model=24)).eval()  # 3 heads: ALiBi's interpolated slopes
    ids = torch.randint(0, 97, (3, 14))
    full, _ = model(ids)
    with torch.no_grad():
        cache = model.new_cache(3, 14)
        lengths = torch.tensor([5, 2, 9])  # row b has lengths[b] real tokens; padding beyond is overwritten later
        padded = ids[:, :9].masked_fill(torch.arange(9)[None, :] >= lengths[:, None], 0)
        first, _ = model(padded, cache=cache, logits_at=lengths - 1)
        assert torch.allclose(first, full[torch.arange(3), lengths - 1], atol=1e-5)
        for step in range(14 - 9):
            pos = (lengths + step)[:, None]
            logits, _ = model(ids.gather(1, pos), positions=pos, cache=cache)
            assert logits.shape == (3, 1, 97)
            assert torch.allclose(logits[:, 0], full.gather(1, pos[:, :, None].expand(3, 1, 97))[:, 0], atol=1e-5)
        cache.select(torch.tensor([2, 0]))  # row 1 finished; the others continue
        cache.repeat(2)  # [2, 2, 0, 0]
        pos = torch.tensor([[13], [13], [10], [10]])
        rows = torch.tensor([2, 2, 0, 0])
        logits, _ = model(ids[rows].gather(1, pos), positions=pos, cache=cache)
        assert torch.allclose(logits[:, 0], full[rows, pos[:, 0]], atol=1e-5)
        # several new tokens per row in one call (a longer continuation) are causal among themselves too
        cache = model.new_cache(3)
        model(ids[:, :4], cache=cache)
        logits, _ = model(ids[:, 4:7], positions=torch.arange(4, 7).expand(3, 3), cache=cache)
        assert torch.allclose(logits, full[:, 4:7], atol=1e-5)


def test_incremental_decoding_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="bidirectional"):
        GPT(small(causal=False)).new_cache(1)
    model = GPT(small())
    with pytest.raises(ValueError, match="pass a cache"):
        model(torch.zeros(1, 3, dtype=torch.long), positions=torch.arange(3)[None])
    with pytest.raises(ValueError, match="longer than the model"):
        model.new_cache(1, 17)
    with pytest.raises(ValueError, match="cache holds 2 rows"):
        model(torch.zeros(1, 3, dtype=torch.long), cache=model.new_cache(2))
    with pytest.raises(ValueError, match="beyond the cache"):
        model(torch.zeros(1, 1, dtype=torch.long), positions=torch.tensor([[8]]), cache=model.new_cache(1, 8))


def _saved_bytes_and_grads(mode: str) -> tuple[int, float, list[torch.Tensor]]:
    """Bytes the autograd graph keeps for the backward pass, the loss and the gradients, under ``mode``."""
    torch.manual_seed(0)
    model = GPT(small(n_layer=2, seq_len=64, pos="alibi"))
    model.set_activation_checkpointing(mode)
    x = torch.randint(0, 97, (2, 64))
    saved = []

    def pack(t):
        saved.append(t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        _, loss = model(x, torch.roll(x, -1, dims=1))
    loss.backward()
    return sum(saved), loss.item(), [p.grad.clone() for p in model.parameters()]


def test_activation_checkpointing_keeps_less_and_computes_the_same():
    none, selective, full = (_saved_bytes_and_grads(m) for m in ("none", "selective", "full"))
    assert full[0] < selective[0] < none[0]  # full keeps block inputs only; selective drops the attention core
    for _, loss, grads in (selective, full):
        assert loss == none[1]  # the same forward
        assert all(torch.equal(a, b) for a, b in zip(grads, none[2], strict=True))  # recomputed exactly
    with pytest.raises(ValueError, match="choose one of none, full, selective"):
        GPT(small()).set_activation_checkpointing("some")
