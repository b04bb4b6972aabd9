"""Plain next-token cross-entropy on the LoRA: gives a tiny test model a warm start before RL.

Uses its own AdamW (the GRPO optimizer state is left untouched) and trains the policy adapter only; the
KL reference stays where it was, so callers that want the warm-started policy as the reference send
`reset {reference: true}` afterwards.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List

import torch

from .batching import Sample, micro_batches
from .lora import adapter_mode
from .model import GGUFModel, pad_batch, token_logprobs


def pretrain(model: GGUFModel, params: List[torch.nn.Parameter], samples: List[Sample], steps: int, lr: float,
             micro_batch_tokens: int, device: torch.device, grad_clip: float = 1.0) -> Dict[str, Any]:
    t0 = time.perf_counter()
    samples = [s.trimmed() for s in samples]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    groups = [[samples[i] for i in g] for g in micro_batches(samples, micro_batch_tokens)]
    n_tok = sum(s.n_trained for s in samples)
    losses: List[float] = []
    with adapter_mode(model, "policy"):
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            total = 0.0
            for group in groups:
                tokens, mask = pad_batch([s.tokens for s in group], [s.mask for s in group], device)
                logp, _ = token_logprobs(model, tokens, mask)
                loss = -logp.sum() / n_tok
                loss.backward()
                total += loss.item()
            losses.append(total)
            torch.nn.utils.clip_grad_norm_(params, grad_clip)
            optimizer.step()
        with torch.no_grad():
            final = 0.0
            for group in groups:
                tokens, mask = pad_batch([s.tokens for s in group], [s.mask for s in group], device)
                final += (-token_logprobs(model, tokens, mask)[0].sum() / n_tok).item()
    # Token-mean cross-entropy before the first update and after the last one.
    return {"loss_before": losses[0], "loss_after": final, "steps": steps, "tokens": n_tok,
            "time_s": time.perf_counter() - t0}
