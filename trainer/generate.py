"""Sampling decode for the bundled GPT, and ``NativeGenerator``: the ``native:CHECKPOINT`` text generator.

``sample(model, prompts, ...)`` continues token-id prompts with top-k / temperature sampling
(or greedy decoding), in batches, until the end-of-document token or ``max_new_tokens``.
Prompts of different lengths share a batch right-padded: the model is causal, so the logits
at a row's last real position never see the padding after it. The bundled GPT decodes with
its key/value cache (:class:`trainer.model.KVCache` through ``GPT.forward(..., positions=,
cache=)``: the prompt in one pass, then one token per step, every row at its own position),
checked against the full forward in the tests for learned, RoPE and ALiBi positions.

Sampling is seeded per (seed, prompt, copy): every row draws one uniform number per step
from its own ``torch.Generator`` and picks its token by inverse-CDF from the renormalised
top-k softmax, so a passage gets the same queries whatever batch or worker it lands in.

``NativeGenerator`` loads a checkpoint (or a run directory's latest) with
:func:`trainer.checkpoint.load_model_for_inference`, finds its tokenizer from the run facts,
and, for a ``prefix-lm`` model, appends the separator the model was trained with
(``passage <|sep|> query<|endoftext|>``, see :func:`prefix_lm_text`). Importing this module
registers it under ``native:`` in :mod:`pipeline.generation`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from contextlib import contextmanager

import torch

from pipeline.generation import GenerationConfig, GeneratorError, register_generator, resolve_device

SEP_TOKEN = "<|sep|>"
SMALL_MODEL_PARAMS = 50_000_000
TOKENIZER_SUBDIR = "tokenizer"  # a copy of the tokenizer inside the run directory, used when the recorded one moved


def prefix_lm_text(prompt: str, target: str, sep: str = SEP_TOKEN) -> str:
    """One training document of a prefix-LM generator: ``prompt <|sep|> target`` (the tokenize
    job appends the end-of-document token)."""
    return f"{' '.join(prompt.split())} {sep} {' '.join(target.split())}"


@contextmanager
def cpu_threads(n: int | None):
    """Run with ``n`` torch intra-op threads (None: leave as is), restoring the setting after."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def row_seed(seed: int, prompt_ids: Sequence[int], copy: int) -> int:
    """The seed of one sampled sequence: a hash of the run seed, the prompt tokens and the copy number."""
    h = hashlib.blake2b(digest_size=8)
    h.update(f"{seed}:{copy}:".encode())
    h.update(",".join(map(str, prompt_ids)).encode())
    return int.from_bytes(h.digest(), "little") & ((1 << 63) - 1)


def _is_gpt(model: torch.nn.Module) -> bool:
    from trainer.model import GPT

    return isinstance(model, GPT)


def last_logits(model: torch.nn.Module, input_ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Logits [B, V] at ``positions[b]`` of each row, recomputing the whole prefix (no cache).

    The bundled GPT projects those positions only onto the vocabulary (``logits_at``), which is most of the
    cost of a small model's step; any other model goes through its plain ``forward``.
    """
    if _is_gpt(model):
        return model(input_ids, logits_at=positions)[0]
    logits, _ = model(input_ids)
    return logits[torch.arange(input_ids.shape[0], device=input_ids.device), positions]


@torch.inference_mode()
def sample(model: torch.nn.Module, prompts: list[list[int]], *, max_new_tokens: int, eod_id: int,
           do_sample: bool = True, top_k: int | None = 10, temperature: float = 1.0, seed: int = 0,
           num_return_sequences: int = 1, banned_ids: Sequence[int] = (), pad_id: int = 0,
           allowed_vocab: int | None = None, use_cache: bool = True) -> list[list[list[int]]]:
    """Continue every prompt ``num_return_sequences`` times; returns the new token ids (without the
    end-of-document token) as ``[prompt][copy] -> ids``.

    ``banned_ids`` are never generated (e.g. the separator and pad tokens); ids at or above
    ``allowed_vocab`` neither (a model's vocabulary is padded beyond the tokenizer's). The
    bundled GPT decodes with a key/value cache (one prompt pass, then one token per step);
    other models, or ``use_cache=False``, recompute the prefix every step.
    """
    device = next(model.parameters()).device
    seq_len = model.config.seq_len
    rows = [(p, c) for p in range(len(prompts)) for c in range(num_return_sequences)]
    if not rows:
        return []
    lengths = torch.tensor([len(prompts[p]) for p, _ in rows], dtype=torch.long)
    if int(lengths.min()) < 1:
        raise ValueError("every prompt needs at least one token")
    if int(lengths.max()) >= seq_len:
        raise ValueError(f"a prompt of {int(lengths.max())} tokens leaves no room in the model's context "
                         f"({seq_len}); truncate prompts first")
    total = min(seq_len, int(lengths.max()) + max_new_tokens)
    buf = torch.full((len(rows), total), pad_id, dtype=torch.long)
    for r, (p, _) in enumerate(rows):
        buf[r, :len(prompts[p])] = torch.tensor(prompts[p], dtype=torch.long)
    starts = lengths.clone()
    uniforms = None  # [row, step]: one uniform number per sampled token, from the row's own generator
    if do_sample:
        draws = []
        for p, c in rows:
            g = torch.Generator(device="cpu")
            g.manual_seed(row_seed(seed, prompts[p], c))
            draws.append(torch.rand(max_new_tokens, generator=g, dtype=torch.float64))
        uniforms = torch.stack(draws)
    vocab = model.config.vocab_size
    ban = torch.zeros(vocab, dtype=torch.bool)
    for i in banned_ids:
        if 0 <= i < vocab:
            ban[i] = True
    if allowed_vocab is not None and allowed_vocab < vocab:
        ban[allowed_vocab:] = True
    ban[eod_id] = False
    ban = ban.to(device)

    def pick(last: torch.Tensor, active: torch.Tensor, step: int) -> torch.Tensor:
        last = last.float().masked_fill(ban, float("-inf"))
        if not do_sample:
            return last.argmax(dim=-1).cpu()
        last = last / temperature
        if top_k is not None and top_k < last.shape[-1]:
            kth = torch.topk(last, top_k, dim=-1).values[:, -1:]
            last = last.masked_fill(last < kth, float("-inf"))
        # inverse-CDF sampling from the (top-k) softmax: the first token whose cumulative probability
        # exceeds u * total; tokens of probability 0 have empty intervals and are never drawn
        cdf = torch.softmax(last, dim=-1).double().cumsum(dim=-1).cpu()
        target = (uniforms[active, step] * cdf[:, -1]).unsqueeze(-1)
        return torch.searchsorted(cdf, target, right=True).squeeze(-1).clamp(max=cdf.shape[-1] - 1)

    done = torch.zeros(len(rows), dtype=torch.bool)
    cache = model.new_cache(len(prompts), total) if use_cache and _is_gpt(model) and model.config.causal else None
    if cache is not None:  # one prefill per prompt (positions 0..width-1 of every row), shared by its copies
        n = num_return_sequences
        width = int(lengths.max())
        firsts = torch.arange(0, len(rows), n)
        last, _ = model(buf[firsts, :width].to(device), cache=cache, logits_at=(lengths[firsts] - 1).to(device))
        last = last.repeat_interleave(n, dim=0)
        cache.repeat(n)
    active = torch.arange(len(rows))
    live = torch.arange(len(rows))  # the rows held in the cache, in cache order
    for step in range(max_new_tokens):
        if cache is None:
            active = active[(~done[active]) & (lengths[active] < total)]
            if active.numel() == 0:
                break
            width = int(lengths[active].max())
            last = last_logits(model, buf[active, :width].to(device), (lengths[active] - 1).to(device))
        else:
            if step:  # feed each live row's previous token (rows finished since the last compaction too)
                pos = (lengths[live] - 1).clamp(max=total - 1)
                logits, _ = model(buf[live, pos][:, None].to(device), positions=pos[:, None].to(device), cache=cache)
                last = logits[:, 0]
            keep = (~done[live]) & (lengths[live] < total)
            if not bool(keep.any()):
                break
            if int(keep.sum()) <= live.numel() // 2:  # most rows have finished: drop them from the cache
                idx = keep.nonzero().squeeze(1)
                cache.select(idx.to(device))
                last, live, keep = last[idx.to(device)], live[idx], keep[idx]
            active = live[keep]
            last = last[keep.to(device)]
        next_ids = pick(last, active, step)
        buf[active, lengths[active]] = next_ids
        lengths[active] += 1
        done[active] = next_ids == eod_id
    out: list[list[list[int]]] = [[] for _ in prompts]
    for r, (p, _) in enumerate(rows):
        ids = buf[r, int(starts[r]):int(lengths[r])].tolist()
        if ids and ids[-1] == eod_id:
            ids = ids[:-1]
        out[p].append(ids)
    return out


def _find_tokenizer(run: dict, checkpoint: str) -> str:
    """The run's tokenizer directory: as recorded, else a ``tokenizer/`` copy in the run directory."""
    candidates = [run.get("tokenizer_dir")]
    run_dir = os.path.dirname(os.path.dirname(checkpoint.rstrip("/")))  # RUN/checkpoints/step-N
    candidates.append(os.path.join(run_dir, TOKENIZER_SUBDIR))
    for c in candidates:
        if c and os.path.isfile(os.path.join(c, "tokenizer.json")):
            return c
    raise GeneratorError(
        f"native:{checkpoint}: the run's tokenizer ({run.get('tokenizer_dir')}) is not there any more; copy the "
        f"tokenizer directory to {os.path.join(run_dir, TOKENIZER_SUBDIR)}")


def _run_facts(path: str) -> tuple[str, dict, str]:
    """(checkpoint directory, run facts, tokenizer directory), with GeneratorError for anything unusable."""
    from trainer.checkpoint import CheckpointError, load_state, resolve_checkpoint

    if not os.path.isdir(path):
        raise GeneratorError(f"native:{path}: no such directory (give a trainer run directory or one of its "
                             "checkpoints/step-N directories)")
    try:
        checkpoint = resolve_checkpoint(path)
        state = load_state(checkpoint)
    except CheckpointError as exc:
        raise GeneratorError(f"native:{path}: not a trainer checkpoint ({exc})") from exc
    run = state.get("run") if isinstance(state, dict) else None
    if not isinstance(run, dict) or "model" not in run or "eod_id" not in run:
        raise GeneratorError(f"native:{path}: the checkpoint records no model/run facts (written by an older trainer?)")
    if run.get("objective") == "mlm" or not run["model"].get("causal", True):
        raise GeneratorError(f"native:{path}: a masked-LM (bidirectional) model cannot generate text; train with "
                             "objective=prefix-lm (or clm)")
    tokenizer_dir = _find_tokenizer(run, checkpoint)
    from tokenizer.load import TokenizerInfo

    sha = TokenizerInfo(tokenizer_dir).sha256
    if run.get("tokenizer_sha256") and sha != run["tokenizer_sha256"]:
        raise GeneratorError(f"native:{path}: tokenizer {tokenizer_dir} is not the one the model was trained with "
                             f"(sha256 {sha[:12]}... != {run['tokenizer_sha256'][:12]}...)")
    return checkpoint, run, tokenizer_dir


def check_native_checkpoint(path: str) -> None:
    """Fail early, naming the fix, unless ``path`` is a usable checkpoint (no weights are loaded)."""
    _run_facts(path)


class NativeGenerator:
    """A ``TextGenerator`` on the bundled trainer's model: batched top-k sampling or greedy decoding."""

    def __init__(self, path: str, config: GenerationConfig) -> None:
        from tokenizer.load import load_tokenizer
        from tokenizer.text_only import text_only
        from trainer.checkpoint import load_model_for_inference

        if config.num_beams > 1:
            raise GeneratorError("native: generators sample (top-k, temperature) or decode greedily; beam search "
                                 "is not implemented for them (use --decode sample)")
        self.checkpoint, run, self.tokenizer_dir = _run_facts(path)
        self.config = config
        self.device = resolve_device(config.device)
        self.model, self.run = load_model_for_inference(self.checkpoint, device=self.device)
        self.tokenizer = load_tokenizer(self.tokenizer_dir)
        self.eod_id = int(self.run["eod_id"])
        # Passages are encoded as text, as the tokenize job encoded them for training: a passage
        # that quotes <|endoftext|> or <|sep|> must not end or split the prompt.
        self.text_tokenizer = text_only(self.tokenizer, self.eod_id).tokenizer
        self.pad_id = self.run.get("pad_id")
        special = dict(self.run.get("special_ids") or {})
        self.sep_id = special.get(SEP_TOKEN)
        self.prefix_lm = self.run.get("objective") == "prefix-lm" and self.sep_id is not None
        # the separator suffix exactly as prefix_lm_text tokenizes it: " " then the separator token
        self.suffix = self.tokenizer.encode(f" {SEP_TOKEN}", add_special_tokens=False).ids if self.prefix_lm else []
        self.banned = sorted(i for t, i in special.items() if i != self.eod_id)
        self.max_prompt = max(1, min(config.max_input_tokens, self.model.config.seq_len - config.max_new_tokens))
        self.stats: dict[str, int] = {"prompts": 0, "truncated_inputs": 0, "empty_outputs": 0}
        # Small models on CPU: one intra-op thread. Their matrices are too small for threads to pay off
        # (on a busy 2-core machine 2 threads made each step ~10x slower), and Beam already runs one
        # worker process per core. Larger models keep torch's default.
        self.threads = 1 if self.model.num_params() < SMALL_MODEL_PARAMS else None

    def encode_prompts(self, prompts: list[str]) -> list[list[int]]:
        """Token ids of each prompt (+ separator), passages cut to fit the model (counted)."""
        limit = max(1, self.max_prompt - len(self.suffix))
        out = []
        for enc in self.text_tokenizer.encode_batch([" ".join(p.split()) for p in prompts], add_special_tokens=False):
            ids = enc.ids
            if len(ids) > limit:
                self.stats["truncated_inputs"] += 1
                ids = ids[:limit]
            out.append((ids or [self.eod_id]) + self.suffix)
        return out

    def generate(self, prompts: list[str]) -> list[list[str]]:
        with cpu_threads(self.threads if self.device == "cpu" else None):
            return self._generate(prompts)

    def _generate(self, prompts: list[str]) -> list[list[str]]:
        cfg = self.config
        results: list[list[str]] = []
        encoded = self.encode_prompts(prompts)
        for start in range(0, len(encoded), cfg.batch_size):
            batch = encoded[start:start + cfg.batch_size]
            ids = sample(self.model, batch, max_new_tokens=cfg.max_new_tokens, eod_id=self.eod_id,
                         do_sample=cfg.do_sample, top_k=cfg.top_k, temperature=cfg.temperature, seed=cfg.seed,
                         num_return_sequences=cfg.num_return_sequences, banned_ids=self.banned,
                         pad_id=self.pad_id if self.pad_id is not None else self.eod_id,
                         allowed_vocab=self.tokenizer.get_vocab_size(with_added_tokens=True))
            for copies in ids:
                texts = [t.strip() for t in self.tokenizer.decode_batch(copies, skip_special_tokens=True)]
                self.stats["empty_outputs"] += sum(1 for t in texts if not t)
                results.append(texts)
        self.stats["prompts"] += len(prompts)
        return results


register_generator("native", NativeGenerator, check_native_checkpoint)
