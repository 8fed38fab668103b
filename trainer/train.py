"""The training loop: open the shards, build (or resume) model, optimizer, schedule and loader, then step:
gradient accumulation, bf16 autocast on GPU, clipping, AdamW, validation at an interval, atomic checkpoints,
and logging (loss averaged over ranks, tokens/s, lr, grad norm, MFU) by rank 0 to stdout and metrics.jsonl.

    from trainer.config import load_config
    from trainer.train import train

    summary = train(load_config("tiny", ["max_steps=100"], data=["out/shards"]))
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time

import torch

from pipeline import fileio
from trainer import checkpoint as ckpt
from trainer.config import ConfigError, TrainConfig, config_from_dict
from trainer.distributed import (
    Dist,
    all_gather_objects,
    all_reduce_mean,
    all_reduce_sum,
    barrier,
    broadcast_object,
    init_distributed,
    shutdown,
    wrap_model,
)
from trainer.distributed import set_grad_sync as _set_grad_sync
from trainer.model import GPT, flops_per_token, hardware_flops_per_token
from trainer.optim import LRSchedule, make_optimizer
from trainer.parallel import LayoutError, build_mesh, local_value, loss_context, make_layout
from trainer.plan import assess_run

METRICS = "metrics.jsonl"

# Dense bf16 tensor-core peak FLOP/s per GPU, matched by substring of torch.cuda.get_device_name(), most
# specific first (vendor datasheets, without sparsity).
PEAK_FLOPS: list[tuple[str, float]] = [
    ("GB200", 2.5e15), ("B200", 2.25e15), ("B100", 1.75e15),
    ("H200", 989e12), ("GH200", 989e12), ("H100 NVL", 835e12), ("H100 PCIe", 756e12), ("H100", 989e12),
    ("H800", 989e12), ("H20", 148e12),
    ("A100", 312e12), ("A800", 312e12), ("A30", 165e12), ("A10G", 70e12), ("A10", 125e12),
    ("L40S", 362e12), ("L40", 181e12), ("L4", 121e12),
    ("RTX 6000 Ada", 364e12), ("RTX A6000", 155e12), ("RTX 4090", 165e12), ("RTX 3090", 71e12),
    ("V100", 125e12), ("T4", 65e12),  # fp16 (no bf16)
    ("MI300X", 1307e12), ("MI250X", 383e12),
]


class TrainingError(RuntimeError):
    """The run cannot start or continue; the message says why and what to do."""


class TrainingDiverged(TrainingError):
    """The loss became NaN or infinite; nothing was saved after the last good checkpoint."""


def peak_flops(device: torch.device) -> float | None:
    """Peak bf16 FLOP/s of this GPU from :data:`PEAK_FLOPS`, or None (CPU, or a GPU not in the table)."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((flops for key, flops in PEAK_FLOPS if key in name), None)


def peak_memory_gb(device: torch.device) -> float:
    """This process's peak memory so far in GiB: the GPU's allocated tensors on CUDA, the resident set (the
    interpreter and libraries included) on the CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def check_compile_toolchain(device_type: str) -> None:
    """``torch.compile`` builds kernels with a C++ compiler (CPU) or Triton (GPU, which itself needs a C
    compiler); without them it would fail at the first step, after the shards were verified. Fail first."""
    if device_type == "cpu":
        from torch._inductor.cpp_builder import get_cpp_compiler

        try:
            get_cpp_compiler()
        except Exception as exc:  # torch raises InvalidCxxCompiler (or an OSError) when none works
            raise ConfigError("compile=true on the CPU needs a C++ compiler (g++, or the one $CXX names) and none "
                              "works here; install one, or set compile=false") from exc
        return
    try:
        import triton  # noqa: F401
    except ImportError as exc:
        raise ConfigError("compile=true on the GPU needs triton (installed with the CUDA build of torch); "
                          "install it, or set compile=false") from exc
    if not any(shutil.which(cc) for cc in (os.environ.get("CC") or "cc", "gcc", "clang")):
        raise ConfigError("compile=true on the GPU needs a C compiler for Triton (cc, gcc or clang, or $CC); "
                          "install one, or set compile=false")


def train(cfg: TrainConfig, log=print) -> dict:
    """Run (or resume) the training described by ``cfg``; returns a summary dict (rank 0's view)."""
    d = init_distributed(cfg.device)
    threads = torch.get_num_threads()
    finished = False
    try:
        summary = Trainer(cfg, d, log).run()
        finished = True
        return summary
    finally:
        torch.set_num_threads(threads)  # ``threads`` applies to this run only, when called from Python
        shutdown(d, wait=finished)


class Trainer:
    """Holds the pieces of one run; :meth:`run` is the loop."""

    def __init__(self, cfg: TrainConfig, d: Dist, log=print) -> None:
        self.cfg, self.d = cfg, d
        self.log = log if d.is_main else (lambda *a, **k: None)
        self.step = 0
        self.last_checkpoint: str | None = None
        self.loss_tokens = self.local_tokens = 0  # labelled tokens of the last step: global, this rank's
        self._setup()

    # -------------------------------------------------------------------------------------------------------
    # Setup: everything is checked here, before the first step

    def _setup(self) -> None:
        cfg, d = self.cfg, self.d
        if not cfg.data:
            raise ConfigError("no data: pass --data SHARDS_DIR (or set data: in the config)")
        self._setup_layout()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        if cfg.compile:
            check_compile_toolchain(d.device.type)
        if d.device.type == "cpu" or cfg.deterministic:
            if d.device.type == "cuda":
                os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            if cfg.compile:
                torch.use_deterministic_algorithms(True)  # also sets the compiler's flag
            else:  # the same switch without importing the compiler stack (seconds per process)
                torch._C._set_deterministic_algorithms(True)
        self.corpora = self._open_corpora()
        self.data_cfg = cfg.data_config()
        self.model_cfg = cfg.model_config(self.corpora.vocab_size)
        self._check_tokenizer()
        self.world_batch = cfg.micro_batch_size * self.layout.dp * cfg.grad_accum_steps
        resume_from = self._find_resume()
        saved = self._check_resume(resume_from) if resume_from else None

        torch.manual_seed(cfg.seed)  # identical initial weights on every rank
        self.raw_model = GPT(self.model_cfg).to(d.device)
        self.raw_model.set_activation_checkpointing(cfg.activation_checkpointing)
        self.n_params = self.raw_model.num_params(exclude_positions=True)
        self.flops_per_token = flops_per_token(self.model_cfg, self.n_params, cfg.seq_len)
        self.hardware_flops_per_token = hardware_flops_per_token(self.model_cfg, self.n_params, cfg.seq_len,
                                                                 cfg.activation_checkpointing)
        self.pipeline = None
        if self.layout.pp > 1:  # this rank keeps its stage of the whole model built above (same initial weights)
            from trainer.pipeline import Pipeline

            self.pipeline = Pipeline(self.raw_model, self.layout, self.mesh, d.device, cfg.sequence_parallel,
                                     cfg.grad_accum_steps, cfg.virtual_pipeline_stages)
            self.raw_model = self.model = self.pipeline.module
        else:
            self.model = wrap_model(self.raw_model, d, cfg.parallel, self.layout, self.mesh, cfg.sequence_parallel)
        self.optimizer = make_optimizer(self.raw_model, cfg.lr, cfg.weight_decay, (cfg.beta1, cfg.beta2), cfg.eps,
                                        d.device.type)
        self.schedule = LRSchedule(self.optimizer, cfg.lr, cfg.min_lr, cfg.warmup_steps,
                                   cfg.decay_steps or cfg.max_steps, cfg.schedule)
        from trainer.loader import TrainLoader

        self.loader = TrainLoader(self.corpora, self.data_cfg, rank=self.dp_rank, world_size=self.layout.dp)
        # Dropout differs per rank, except between tensor-parallel ranks that hold the same replicated activations
        # (no sequence parallelism): theirs must drop the same elements.
        replicated = self.layout.tp > 1 and not cfg.sequence_parallel
        torch.manual_seed(cfg.seed + 1 + (self.dp_rank if replicated else d.rank))
        if saved:
            self._restore(saved)
        self.forward = torch.compile(self.model) if cfg.compile else self.model
        use_bf16 = cfg.dtype == "bf16" or (cfg.dtype == "auto" and d.device.type == "cuda")
        self.autocast = (lambda: torch.autocast(d.device.type, dtype=torch.bfloat16)) if use_bf16 \
            else contextlib.nullcontext
        self.peak = peak_flops(d.device)
        self.metrics_path = os.path.join(cfg.out_dir, METRICS)
        if d.is_main:
            self._prepare_run_dir()

    def _setup_layout(self) -> None:
        """The tensor x pipeline x data layout for this many processes (a bad one fails here, before any work),
        its device mesh, and this rank's place on the data-parallel dimension (which batches it reads)."""
        cfg, d = self.cfg, self.d
        shape = cfg.model_config(cfg.vocab_size or 64)
        try:
            self.layout = make_layout(d.world_size, cfg.tensor_parallel, cfg.pipeline_parallel, n_head=shape.n_head,
                                      n_layer=shape.n_layer, vocab_size=shape.vocab_size, seq_len=cfg.seq_len,
                                      sequence_parallel=cfg.sequence_parallel, parallel=cfg.parallel,
                                      micro_batches=cfg.grad_accum_steps,
                                      virtual_stages=cfg.virtual_pipeline_stages)
        except LayoutError as exc:
            raise ConfigError(str(exc)) from exc
        model_parallel = self.layout.tp * self.layout.pp > 1
        self.mesh = build_mesh(self.layout, d.device.type) if model_parallel else None
        self.dp_rank = self.mesh["dp"].get_local_rank() if model_parallel else d.rank
        # the group over which batches differ: token counts and losses are summed over it only (None: all ranks)
        self.dp_group = self.mesh["dp"].get_group() if model_parallel else None
        self.loss_context = lambda: loss_context(self.layout.tp)
        # sharded parameters are checkpointed as shards (torch.distributed.checkpoint), the others whole
        self.sharded_checkpoints = model_parallel or (d.enabled and cfg.parallel == "fsdp")

    def _open_corpora(self):
        """Open the shards: first on each node's local rank 0, which downloads remote shards into the node's
        cache and verifies every checksum, tokenizer and mix name; then on the other ranks (no re-verify)."""
        from trainer.open_shards import open_corpora

        first = self.d.local_rank == 0
        error, corpora = None, None
        if first:
            try:
                corpora = open_corpora(self.cfg.data_config())
            except (ValueError, OSError) as exc:
                error = str(exc)
        errors = [e for e in all_gather_objects(error, self.d) if e]
        if errors:
            raise ConfigError(errors[0])
        if not first:
            data_cfg = self.cfg.data_config()
            data_cfg.verify_checksums = False  # this node's local rank 0 has verified them
            corpora = open_corpora(data_cfg)
        return corpora

    def _check_tokenizer(self) -> None:
        """The shards must come from the model's tokenizer (when ``tokenizer`` is set) and fit its vocabulary."""
        expected_sha = None
        if self.cfg.tokenizer:
            from tokenizer.load import TokenizerDirError, TokenizerInfo

            try:
                expected_sha = TokenizerInfo(self.cfg.tokenizer).sha256
            except (TokenizerDirError, OSError) as exc:
                raise ConfigError(f"tokenizer={self.cfg.tokenizer}: {exc}") from exc
        try:
            self.corpora.check_tokenizer(tokenizer_sha256=expected_sha, vocab_size=self.model_cfg.vocab_size)
        except ValueError as exc:
            raise ConfigError(f"--data {', '.join(self.cfg.data)} does not match the model's tokenizer "
                              f"{self.cfg.tokenizer or ''}: {exc}") from exc

    def _find_resume(self) -> str | None:
        cfg = self.cfg
        if cfg.resume == "never":
            if ckpt.list_checkpoints(cfg.out_dir):
                raise ConfigError(f"out_dir={cfg.out_dir} already holds checkpoints and resume=never; choose "
                                  f"another out_dir, or resume=auto to continue that run")
            return None
        if cfg.resume == "auto":
            return ckpt.latest_checkpoint(cfg.out_dir)
        return ckpt.resolve_checkpoint(cfg.resume)

    def _check_resume(self, path: str) -> dict:
        """Load a checkpoint and refuse it when it belongs to another experiment; returns its contents."""
        state = ckpt.load_state(path)
        run = state["run"]
        if run["tokenizer_sha256"] != self.corpora.tokenizer_sha256:
            raise ConfigError(f"checkpoint {path} was trained on shards of another tokenizer ({run['tokenizer_dir']}, "
                              f"sha256 {run['tokenizer_sha256'][:12]}) than --data ({self.corpora.tokenizer_dir}, "
                              f"sha256 {self.corpora.tokenizer_sha256[:12]}); use shards of the same tokenizer")
        current = self.cfg.as_dict()
        diffs = ckpt.config_differences(state["config"], current)
        if diffs:
            raise ConfigError(f"checkpoint {path} comes from a different config:\n  " + "\n  ".join(diffs)
                              + "\nresume with the same settings, or start a new run in another out_dir")
        if run["global_batch"] != self.world_batch:
            raise ConfigError(
                f"checkpoint {path} was trained with a global batch of {run['global_batch']} samples per step "
                f"(micro_batch_size x data-parallel processes x grad_accum_steps = {run['micro_batch_size']} x "
                f"{run.get('data_parallel', run['world_size'])} x "
                f"{run['grad_accum_steps']}); now it is {self.cfg.micro_batch_size} x {self.layout.dp} x "
                f"{self.cfg.grad_accum_steps} = {self.world_batch}. Choose micro_batch_size and grad_accum_steps so "
                f"the product matches to continue the same data order")
        # whole state dicts are read now; shards once the model and optimizer exist to receive them (_restore)
        model_state, optimizer_state = (None, None) if ckpt.is_sharded(path) else ckpt.load_tensors(path)
        self.log(f"resuming from {path} (step {state['step']}, trained with {run['world_size']} processes"
                 + (f", {run['layout']}" if "layout" in run else "") + ")")
        return {"path": path, "state": state, "model": model_state, "optimizer": optimizer_state}

    def _restore(self, saved: dict) -> None:
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict, set_state_dict

        state = saved["state"]
        if saved["model"] is None:  # shards of any layout: each rank reads the parts its own tensors cover
            model_state, optimizer_state = get_state_dict(self.model, self.optimizer)
            ckpt.load_sharded(saved["path"], model_state, optimizer_state)
            set_state_dict(self.model, self.optimizer, model_state_dict=model_state, optim_state_dict=optimizer_state)
        else:  # full state dicts keyed by parameter name: they load under DDP, FSDP2, TP or one process
            set_state_dict(self.model, self.optimizer, model_state_dict=saved["model"],
                           optim_state_dict=saved["optimizer"], options=StateDictOptions(full_state_dict=True))
        self.schedule.load_state_dict(state["scheduler"])
        try:
            self.loader.load_state_dict(state["loader"])
        except ValueError as exc:
            raise ConfigError(f"cannot resume the data order of {saved['path']} with {self.layout.dp} "
                              f"data-parallel processes: {exc}") from exc
        rngs = state["rng"]
        if self.d.rank < len(rngs):
            ckpt.set_rng_state(rngs[self.d.rank])
        self.step = int(state["step"])
        self.last_checkpoint = saved["path"]

    def _prepare_run_dir(self) -> None:
        """Create out_dir; keep metrics.jsonl only up to the resumed step (later lines were never saved)."""
        os.makedirs(self.cfg.out_dir, exist_ok=True)
        kept = []
        if self.step and os.path.exists(self.metrics_path):
            with open(self.metrics_path) as fh:
                kept = [line for line in fh if line.strip() and json.loads(line).get("step", 0) <= self.step]
        if self.step:
            kept.append(json.dumps({"step": self.step, "event": "resumed", "checkpoint": self.last_checkpoint,
                                    "world_size": self.d.world_size}) + "\n")
        fileio.write_atomic(self.metrics_path, "".join(kept).encode())
        with open(os.path.join(self.cfg.out_dir, "config.json"), "w") as fh:
            json.dump({"config": self.cfg.as_dict(), "run": self.run_facts()}, fh, indent=2)

    def run_facts(self) -> dict:
        """What a generator or a resume needs to know about this run, as plain values."""
        c = self.corpora
        return {
            "model": self.model_cfg.as_dict(), "objective": self.cfg.objective, "seq_len": self.cfg.seq_len,
            "tokenizer_dir": c.tokenizer_dir, "tokenizer_sha256": c.tokenizer_sha256, "vocab_size": c.vocab_size,
            "eod_id": c.eod_id, "pad_id": c.pad_id, "special_ids": dict(c.special_ids), "sources": sorted(c.sources),
            "world_size": self.d.world_size, "layout": self.layout.describe(), "data_parallel": self.layout.dp,
            "micro_batch_size": self.cfg.micro_batch_size,
            "grad_accum_steps": self.cfg.grad_accum_steps, "global_batch": self.world_batch,
            "n_params": self.n_params,
        }

    # -------------------------------------------------------------------------------------------------------
    # The loop

    def run(self) -> dict:
        cfg, d = self.cfg, self.d
        start_step = self.step
        tokens_per_step = self.world_batch * cfg.seq_len
        m = self.model_cfg
        attention = "causal" if m.causal else "bidirectional"
        self.log(f"model: {self.n_params / 1e6:.2f}M parameters ({m.n_layer} layers, d_model {m.d_model}, {m.pos} "
                 f"positions, {attention}), objective {cfg.objective}; {d.world_size} process(es) on "
                 f"{d.device.type}, {self._describe_layout()}; {tokens_per_step:,} tokens per step")
        self.log(self.corpora.summary())  # what it reads: sources, documents, tokens, mixing weights
        if self.peak:
            self.log(f"mfu: model FLOPs {self.flops_per_token:,} per token x tokens/s over {self.peak / 1e12:,.0f} "
                     f"TFLOP/s x {d.world_size} GPU(s) ({self.layout.describe()}: all ranks, so communication, "
                     f"the pipeline bubble and replicated work count as lost); hfu counts "
                     f"{self.hardware_flops_per_token:,} per token (activation_checkpointing="
                     f"{cfg.activation_checkpointing} recomputation included)")
        warning = assess_run(self.n_params, cfg.max_steps * tokens_per_step)
        if warning:
            self.log(f"plan: {warning}")
        bar = self._progress_bar(start_step)
        self.raw_model.train()
        loss = val_loss = None
        window_start, window_tokens = time.perf_counter(), 0
        started = time.perf_counter()
        # The loop reads nothing back from the device except at a log, eval or checkpoint step (a host sync each
        # step would keep the CPU from queueing the next step while the GPU works); a non-finite loss is noted
        # on the device and raised at the next of those steps, before anything is logged or saved.
        self.first_bad = torch.zeros((), dtype=torch.long, device=d.device)
        self.bad_loss = torch.zeros((), device=d.device)
        while self.step < cfg.max_steps:
            batches = self._next_batches()
            if batches is None:
                self.log(f"a corpus ran out at step {self.step} (on_exhaust=stop); stopping")
                break
            lr = self.schedule.apply()
            local_loss, loss, grad_norm = self._train_step(batches)
            self._note_nonfinite(loss)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.schedule.advance()
            self.step += 1
            window_tokens += tokens_per_step
            bar.update(1)
            log_now = self.step % cfg.log_interval == 0 or self.step == cfg.max_steps or self.step == start_step + 1
            eval_now = cfg.eval_batches and (self.step % cfg.eval_interval == 0 or self.step == cfg.max_steps)
            save_now = self.step % cfg.checkpoint_interval == 0 or self.step == cfg.max_steps
            if log_now or eval_now or save_now:
                self._raise_if_diverged(bar)
            if log_now:
                loss_value = loss.item()
                bar.set_postfix(loss=f"{loss_value:.4f}", refresh=False)
                elapsed = time.perf_counter() - window_start
                self._log_step(bar, loss_value, local_loss.item(), lr, grad_norm.item(),
                               window_tokens / max(elapsed, 1e-9))
                window_start, window_tokens = time.perf_counter(), 0
            if eval_now:
                val_loss = self.evaluate()
                if val_loss is not None:
                    self._write_metrics({"step": self.step, "val_loss": val_loss})
                    self._print(bar, f"step {self.step}: val loss {val_loss:.4f}")
            if save_now:
                self.save()
        self._raise_if_diverged(bar)
        bar.close()
        loss_value = None if loss is None else loss.item()
        if self.step > start_step and (self.last_checkpoint is None or not self.last_checkpoint.endswith(
                ckpt.step_dir_name(self.step))):
            self.save()
        elapsed = time.perf_counter() - started
        summary = {"run_dir": cfg.out_dir, "start_step": start_step, "steps": self.step, "final_loss": loss_value,
                   "val_loss": val_loss, "tokens": (self.step - start_step) * tokens_per_step,
                   "elapsed_s": round(elapsed, 2), "checkpoint": self.last_checkpoint}
        self.log(f"done: steps {start_step} -> {self.step}, {summary['tokens']:,} tokens in {elapsed:.1f}s, "
                 f"final loss {loss_value if loss_value is None else round(loss_value, 4)}"
                 + (f", val loss {val_loss:.4f}" if val_loss is not None else "")
                 + f"; checkpoint {self.last_checkpoint}; metrics {self.metrics_path}")
        return summary

    def _note_nonfinite(self, loss: torch.Tensor) -> None:
        """Remember (on the device, without a sync) the first step whose loss is NaN or infinite."""
        bad = ~torch.isfinite(loss)
        first = bad & (self.first_bad == 0)
        self.first_bad = torch.where(first, self.step + 1, self.first_bad)
        self.bad_loss = torch.where(first, loss.detach().float(), self.bad_loss)

    def _raise_if_diverged(self, bar) -> None:
        """Stop with :class:`TrainingDiverged` if a loss since the last check was not finite; nothing of the
        bad steps has been logged or saved."""
        step = int(self.first_bad.item())
        if not step:
            return
        bar.close()
        raise TrainingDiverged(
            f"loss is {self.bad_loss.item()} at step {step}; stopped without saving. The last good checkpoint is "
            f"{self.last_checkpoint or 'none (no checkpoint was written yet)'}; resume from it with a lower lr or "
            f"more warmup, or check the data")

    def _next_batches(self) -> list[dict] | None:
        """This rank's micro-batches of the coming step, or None when a corpus ran out (on_exhaust=stop);
        all ranks agree on stopping."""
        batches = []
        try:
            for _ in range(self.cfg.grad_accum_steps):
                batches.append(next(self.loader))
            exhausted = 0.0
        except StopIteration:
            exhausted = 1.0
        if self.cfg.on_exhaust == "stop" and self.d.enabled:
            exhausted = all_reduce_mean(torch.tensor(exhausted, device=self.d.device), self.d).item()
        return None if exhausted > 0 else batches

    def _train_step(self, batches: list[dict]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Forward and backward over the micro-batches; returns (this rank's loss, the global batch's loss, grad
        norm).

        Every loss token of the global batch (all micro-batches of all ranks) weighs the same: the optimised and
        logged loss is the sum of the per-token losses over the total number of labelled tokens, so a
        micro-batch with few labels (mlm, prefix-lm) counts for less than a full one. The token count is
        all-reduced once (over the data-parallel ranks), before the backward passes; DDP (and FSDP) then average the
        gradients over those ranks, hence the factor ``dp`` in each micro-batch's weight ``n_i * dp / N``. When every position has
        a label (clm) that weight is exactly ``1 / grad_accum_steps``, as before.
        """
        d = self.d
        counts = [int((b["labels"] != -100).sum()) for b in batches]  # labels are still on the CPU: no sync
        local_tokens = sum(counts)
        # The global count stays on the device: no sync.
        global_tokens = all_reduce_sum(torch.tensor(local_tokens, dtype=torch.long, device=d.device), d,
                                       self.dp_group)
        self.loss_tokens, self.local_tokens = global_tokens, local_tokens
        clip = self.cfg.grad_clip if self.cfg.grad_clip > 0 else float("inf")
        if self.pipeline is not None:  # the micro-batches go through the stages on the 1F1B schedule
            x, y = (self._to_device(torch.cat([b[key] for b in batches])) for key in ("input_ids", "labels"))
            with self.loss_context(), self.autocast():
                loss_sum = self.pipeline.run(x, y, global_tokens)
            grad_norm = self.pipeline.finish_gradients(clip)
            return (loss_sum / max(local_tokens, 1), all_reduce_sum(loss_sum, d, self.dp_group)
                    / global_tokens.clamp(min=1), grad_norm)
        accum, dp = len(batches), self.layout.dp  # DDP / FSDP average the gradients over the dp ranks
        loss_sum = torch.zeros((), device=d.device)  # this rank's sum of per-token losses
        for i, (batch, n) in enumerate(zip(batches, counts, strict=True)):
            x, y = self._to_device(batch["input_ids"]), self._to_device(batch["labels"])
            _set_grad_sync(self.model, i == accum - 1)
            with self.loss_context():  # the backward pass too: vocabulary-parallel cross-entropy under TP
                with self.autocast():
                    _, loss = self.forward(x, y)  # the mean over this micro-batch's n labelled tokens
                if n:  # written as a division so that clm divides by exactly grad_accum_steps
                    (loss / (global_tokens / (n * dp))).backward()
                    loss_sum += loss.detach() * n
                else:  # nothing to learn here, but DDP still needs every rank's backward
                    (loss * 0.0).backward()
        grad_norm = local_value(torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip))
        local = loss_sum / max(local_tokens, 1)
        return local, all_reduce_sum(loss_sum, d, self.dp_group) / global_tokens.clamp(min=1), grad_norm

    def _to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        """A batch tensor on the training device; to a GPU through pinned memory, so the copy is asynchronous
        (a copy from pageable memory waits for the GPU to finish its queued work)."""
        if self.d.device.type == "cuda":
            return tensor.pin_memory().to(self.d.device, non_blocking=True)
        return tensor

    @torch.no_grad()
    def evaluate(self) -> float | None:
        """Mean loss per labelled token over ``eval_batches`` validation batches of every rank; None without a
        val split."""
        from trainer.val_loader import val_batches

        self.raw_model.eval()
        total, tokens, count = torch.zeros((), device=self.d.device), 0, 0
        batches = list(val_batches(self.corpora, self.data_cfg, self.dp_rank, self.layout.dp, self.cfg.eval_batches))
        if self.pipeline is not None and batches:
            total = self._evaluate_pipeline(batches)
        for batch in batches:
            n = int((batch["labels"] != -100).sum())
            if self.pipeline is None:
                with self.loss_context(), self.autocast():
                    _, loss = self.model(batch["input_ids"].to(self.d.device), batch["labels"].to(self.d.device))
                total += loss.float() * n
            tokens += n
            count += 1
        self.raw_model.train()
        counts = all_gather_objects(count, self.d)
        if min(counts) == 0:
            return None
        global_tokens = int(all_reduce_sum(torch.tensor(tokens, dtype=torch.long, device=self.d.device), self.d,
                                           self.dp_group))
        return (all_reduce_sum(total, self.d, self.dp_group) / max(global_tokens, 1)).item()

    def _evaluate_pipeline(self, batches: list[dict]) -> torch.Tensor:
        """The sum of per-token validation losses of ``batches`` through the pipeline, ``grad_accum_steps`` at a
        time (the schedule's micro-batch count); a short last group is filled with unlabelled copies."""
        accum, total = self.cfg.grad_accum_steps, torch.zeros((), device=self.d.device)
        for start in range(0, len(batches), accum):
            group = batches[start:start + accum]
            filler = {"input_ids": group[-1]["input_ids"], "labels": torch.full_like(group[-1]["labels"], -100)}
            group += [filler] * (accum - len(group))
            x, y = (self._to_device(torch.cat([b[key] for b in group])) for key in ("input_ids", "labels"))
            with self.loss_context(), self.autocast():
                total += self.pipeline.run(x, y, torch.ones((), device=self.d.device), train=False)
        return total

    def save(self) -> None:
        """Checkpoint this step (all ranks take part: RNG states are gathered; sharded parameters are written
        by each rank, unsharded ones gathered on rank 0)."""
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict

        rngs = all_gather_objects(ckpt.rng_state(), self.d)
        state = {"step": self.step, "scheduler": self.schedule.state_dict(), "loader": self.loader.state_dict(),
                 "rng": rngs, "config": self.cfg.as_dict(), "run": self.run_facts()}
        path = None
        if self.sharded_checkpoints:  # each rank writes its own shards into rank 0's temporary directory
            model_state, optimizer_state = get_state_dict(self.model, self.optimizer)
            tmp = broadcast_object(ckpt.begin_checkpoint(self.cfg.out_dir, self.step) if self.d.is_main else None,
                                   self.d)
            ckpt.save_sharded(tmp, model_state, optimizer_state)
            barrier(self.d)
            if self.d.is_main:
                path = ckpt.finish_checkpoint(self.cfg.out_dir, self.step, tmp, state, keep=self.cfg.keep_checkpoints)
        else:  # full (unsharded) model and optimizer state keyed by parameter name, on rank 0's CPU
            model_state, optimizer_state = get_state_dict(
                self.model, self.optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=self.d.enabled))
            if self.d.is_main:
                path = ckpt.save_checkpoint(self.cfg.out_dir, self.step, model_state, optimizer_state, state,
                                            keep=self.cfg.keep_checkpoints)
        self.last_checkpoint = broadcast_object(path, self.d)
        barrier(self.d)

    # -------------------------------------------------------------------------------------------------------
    # Logging

    def _progress_bar(self, start_step: int):
        from tqdm import tqdm

        return tqdm(total=self.cfg.max_steps, initial=start_step, desc="train", unit="step", dynamic_ncols=True,
                    disable=not (self.d.is_main and self.cfg.progress), file=sys.stderr)

    def _log_step(self, bar, loss: float, local_loss: float, lr: float, grad_norm: float,
                  tokens_per_s: float) -> None:
        # MFU: model FLOPs (6N + attention per token, whatever the layout) at the global tokens/s, over the peak
        # of every rank (tp x pp x dp GPUs); HFU counts the recomputation of activation checkpointing too.
        mfu = hfu = None
        if self.peak:
            mfu = self.flops_per_token * tokens_per_s / (self.peak * self.d.world_size)
            hfu = self.hardware_flops_per_token * tokens_per_s / (self.peak * self.d.world_size)
        record = {"step": self.step, "loss": loss, "lr": lr, "grad_norm": grad_norm, "layout": self.layout.describe(),
                  "tokens": self.step * self.world_batch * self.cfg.seq_len, "tokens_per_s": tokens_per_s,
                  "loss_tokens": int(self.loss_tokens), "mfu": mfu, "hfu": hfu,
                  "consumed_samples": getattr(self.loader, "consumed_samples", None)}
        if self.d.device.type == "cuda":
            record["max_memory_gb"] = torch.cuda.max_memory_allocated(self.d.device) / 2**30
        # each rank's own loss, what the all-reduce gave it (identical on every rank), and its peak memory
        facts = all_gather_objects((local_loss, loss, self.local_tokens, peak_memory_gb(self.d.device)), self.d)
        record["rank_peak_memory_gb"] = [t[3] for t in facts]
        if self.d.enabled:
            record["rank_loss"] = [t[0] for t in facts]
            record["rank_reduced_loss"] = [t[1] for t in facts]
            record["rank_loss_tokens"] = [t[2] for t in facts]
        self._write_metrics(record)
        if self.d.is_main:
            line = (f"step {self.step}/{self.cfg.max_steps} | loss {loss:.4f} | lr {lr:.2e} | grad norm "
                    f"{grad_norm:.3f} | {tokens_per_s:,.0f} tok/s" + (f" | mfu {mfu:.1%}" if mfu is not None else "")
                    + (f" (hfu {hfu:.1%})" if hfu is not None and hfu != mfu else "")
                    + (f" | mem {record['max_memory_gb']:.1f} GiB" if "max_memory_gb" in record else "")
                    + f" | {self.layout.describe()}")
            self._print(bar, line)

    def _describe_layout(self) -> str:
        """``single process``, ``ddp`` / ``fsdp``, or the model-parallel layout (``tp=2 x pp=1 x dp=2, fsdp``)."""
        if not self.d.enabled:
            return "single process"
        if self.layout.tp * self.layout.pp == 1:
            return self.cfg.parallel
        sp = ", sequence parallel" if self.layout.tp > 1 and self.cfg.sequence_parallel else ""
        if self.layout.pp > 1:
            v = self.cfg.virtual_pipeline_stages
            sp += f", interleaved 1F1B ({v} stages per rank)" if v > 1 else ", 1F1B"
        dp = f", {self.cfg.parallel} over dp" if self.layout.dp > 1 else ""
        return f"{self.layout.describe()}{sp}{dp}"

    def _print(self, bar, line: str) -> None:
        """A log line on stdout (rank 0), above the progress bar when there is one."""
        if not self.d.is_main:
            return
        if bar.disable:
            self.log(line)
        else:
            bar.write(line, file=sys.stdout)

    def _write_metrics(self, record: dict) -> None:
        if self.d.is_main:
            with open(self.metrics_path, "a") as fh:
                fh.write(json.dumps(record) + "\n")


def saved_config(path: str) -> TrainConfig:
    """The TrainConfig a checkpoint (or run directory) was trained with."""
    return config_from_dict(ckpt.load_state(ckpt.resolve_checkpoint(path))["config"])
