"""Learner step throughput against a bare PyTorch forward + backward of the same model and tokens.

The baseline is the least work any trainer must do per batch: one policy forward (output layer on the
trained positions only, like the learner) and one backward of a policy-gradient loss, no optimizer. The
learner step adds what GRPO needs: the reference forward (KL), entropy, clipping, grad clipping and AdamW.
The learner's adapter and optimizer are restored afterwards, so benchmarking leaves no trace.
Runs are interleaved and each figure is the best of `iterations` repetitions.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List

import torch

from .batching import Sample
from .errors import bad_request
from .learner import Learner, int_param, check_keys
from .lora import adapter_mode
from .model import pad_batch, token_logprobs


def _samples(learner: Learner, batch_size: int, seq_len: int, prompt_len: int, seed: int) -> List[Sample]:
    g = torch.Generator().manual_seed(seed)
    vocab = learner.model.cfg.vocab_size
    out = []
    for i in range(batch_size):
        tokens = torch.randint(0, vocab, (seq_len,), generator=g).tolist()
        mask = [0] * prompt_len + [1] * (seq_len - prompt_len)
        out.append(Sample(tokens, mask, 1.0 if i % 2 == 0 else -1.0))
    return out


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_bench(learner: Learner, params: Dict[str, Any]) -> Dict[str, Any]:
    check_keys(params, {"batch_size", "seq_len", "prompt_len", "iterations", "warmup", "seed"}, "bench")
    batch_size = int_param(params, "batch_size", 8, 1)
    seq_len = int_param(params, "seq_len", 256, 2)
    prompt_len = int_param(params, "prompt_len", seq_len // 2, 1)
    iterations = int_param(params, "iterations", 3, 1)
    warmup = int_param(params, "warmup", 1, 1)  # >= 1: the timed steps then run the reference forward too
    if prompt_len >= seq_len:
        raise bad_request("prompt_len must be < seq_len")
    samples = _samples(learner, batch_size, seq_len, prompt_len, int_param(params, "seed", 0))
    n_tok = sum(s.n_trained for s in samples)
    model, device, trainer = learner.model, learner.device, learner.trainer

    def bare() -> None:
        for p in learner.params:
            p.grad = None
        tokens, mask = pad_batch([s.tokens for s in samples], [s.mask for s in samples], device)
        adv = torch.tensor([s.advantage for s in samples], device=device)[:, None].expand(mask.shape)[:, 1:][mask[:, 1:]]
        with adapter_mode(model, "policy"):
            logp, _ = token_logprobs(model, tokens, mask)
        (-(logp * adv).sum() / n_tok).backward()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def step() -> None:
        trainer.step(samples)
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    kl_coef = trainer.cfg.kl_coef

    def step_without_kl() -> None:
        trainer.cfg.kl_coef = 0.0
        try:
            step()
        finally:
            trainer.cfg.kl_coef = kl_coef

    snap = learner.snapshot()
    # Interleaved and best-of-N: on a shared machine, load spikes hit whichever run happens to be
    # going; the fastest repetition of each is the closest to its true cost.
    times: Dict[str, List[float]] = {"bare": [], "step": [], "no_kl": []}
    try:
        for _ in range(warmup):
            bare()
            step()  # after one update the policy differs from the reference: timed steps pay for the KL
        for _ in range(iterations):
            times["bare"].append(_timed(bare))
            times["step"].append(_timed(step))
            times["no_kl"].append(_timed(step_without_kl))
    finally:
        for p in learner.params:
            p.grad = None
        learner.restore(snap)
    torch_s, step_s, step_no_kl_s = min(times["bare"]), min(times["step"]), min(times["no_kl"])
    return {
        "device": str(device),
        "threads": learner.threads,
        "batch_size": batch_size,
        "seq_len": seq_len,
        "trained_tokens_per_step": n_tok,
        "step_s": step_s,
        "torch_step_s": torch_s,
        "tokens_per_s": n_tok / step_s,
        "torch_tokens_per_s": n_tok / torch_s,
        "ratio_vs_torch": torch_s / step_s,
        "tokens_per_s_without_kl": n_tok / step_no_kl_s,
        "ratio_vs_torch_without_kl": torch_s / step_no_kl_s,
    }
