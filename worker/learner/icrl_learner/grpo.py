"""GRPO update on token ids, masks and advantages, following the paper's (verl's) loss.

Per trained token: clipped surrogate with ratio = exp(logp - old_logp) (verl's dual clip for negative
advantages), plus kl_coef * k3 KL to the reference (verl's "low_var_kl", clamped the same way), minus
entropy_coef * entropy. Token-mean over each mini-batch, AdamW, grad-norm clip.

Old log-probs are the policy's before this step's first update. The first mini-batch's are the detached
log-probs of its own training forward (same weights, same computation), so a step with one mini-batch and
one epoch costs no extra forward; later mini-batches get a no-grad pass before any update. The reference
forward is skipped when the policy equals the reference (a fresh or just-reset adapter).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from .batching import Sample, micro_batches
from .errors import bad_request, non_finite
from .lora import adapter_mode, policy_equals_reference
from .model import GGUFModel, pad_batch, token_logprobs


@dataclass
class OptimConfig:
    # LoRA learning rate: ~10x the paper's full fine-tuning lr of 1e-6, the LoRA/full ratio reported for
    # RL with alpha = 32 (Schulman et al. 2025, "LoRA Without Regret"). Tune per model.
    lr: float = 1e-5
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.01
    warmup_steps: int = 0  # linear warm-up over this many optimizer updates
    grad_clip: float = 1.0
    clip_ratio_low: float = 0.2
    clip_ratio_high: float = 0.2
    clip_ratio_c: Optional[float] = 3.0  # verl's dual clip for negative advantages; null disables
    kl_coef: float = 0.001
    entropy_coef: float = 0.001
    epochs: int = 1
    mini_batch_size: int = 0  # sequences per optimizer update; 0 = the whole batch (one update per step)
    micro_batch_tokens: int = 8192  # padded tokens per forward/backward (memory bound only; same result)
    shuffle: bool = False  # shuffle sequences before splitting into mini-batches

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


_POSITIVE = {"lr", "eps", "grad_clip", "epochs", "micro_batch_tokens"}
_NON_NEGATIVE = {"weight_decay", "warmup_steps", "clip_ratio_low", "clip_ratio_high", "kl_coef", "entropy_coef",
                 "mini_batch_size", "beta1", "beta2"}
_INTS = {"warmup_steps", "epochs", "mini_batch_size", "micro_batch_tokens"}


def parse_optim_config(raw: Optional[dict]) -> OptimConfig:
    cfg = OptimConfig()
    for key, value in (raw or {}).items():
        if not hasattr(cfg, key) or key == "to_dict":
            raise bad_request(f"unknown optim option {key!r}")
        if key == "shuffle":
            if not isinstance(value, bool):
                raise bad_request("optim.shuffle must be a boolean")
        elif key == "clip_ratio_c" and value is None:
            pass
        else:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise bad_request(f"optim.{key} must be a number, got {value!r}")
            if key in _INTS and int(value) != value:
                raise bad_request(f"optim.{key} must be an integer")
            if key in _POSITIVE and value <= 0 or key in _NON_NEGATIVE and value < 0:
                raise bad_request(f"optim.{key} is out of range: {value!r}")
            if key in ("beta1", "beta2") and value >= 1:
                raise bad_request(f"optim.{key} must be < 1")
            if key == "clip_ratio_c" and value <= 1:
                raise bad_request("optim.clip_ratio_c must be > 1 (or null)")
            value = int(value) if key in _INTS else float(value)
        setattr(cfg, key, value)
    return cfg


def make_optimizer(params: Sequence[torch.nn.Parameter], cfg: OptimConfig) -> torch.optim.AdamW:
    return torch.optim.AdamW(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps,
                             weight_decay=cfg.weight_decay)


def low_var_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """k3 estimator of KL(policy || reference) per token, clamped as verl does."""
    kl = torch.clamp(ref_logp - logp, min=-20.0, max=20.0)
    return torch.clamp(torch.exp(kl) - kl - 1.0, min=-10.0, max=10.0)


def policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, cfg: OptimConfig
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-token clipped surrogate loss, whether the clip was active, and old - new log-prob."""
    neg_kl = torch.clamp(logp - old_logp, min=-20.0, max=20.0)
    ratio = torch.exp(neg_kl)
    loss1 = -adv * ratio
    loss2 = -adv * torch.clamp(ratio, 1.0 - cfg.clip_ratio_low, 1.0 + cfg.clip_ratio_high)
    clipped_loss = torch.maximum(loss1, loss2)
    clipped = loss2 > loss1
    if cfg.clip_ratio_c is not None:
        loss3 = -adv * cfg.clip_ratio_c
        clipped_loss = torch.where(adv < 0, torch.minimum(loss3, clipped_loss), clipped_loss)
    return clipped_loss, clipped, -neg_kl


# What a NaN or infinite value in a step most likely means; training on only spreads it into the adapter.
BROKEN = "the model's weights or the learning rate may be broken"


def _check_logprobs(logp: torch.Tensor) -> None:
    if logp.numel() and not bool(torch.isfinite(logp).all()):
        bad = logp[~torch.isfinite(logp)][0].item()
        raise non_finite("log-prob", bad, BROKEN)


class GRPOTrainer:
    def __init__(self, model: GGUFModel, params: List[torch.nn.Parameter], cfg: OptimConfig,
                 device: torch.device, generator: torch.Generator):
        self.model = model
        self.params = params
        self.cfg = cfg
        self.device = device
        self.generator = generator
        self.optimizer = make_optimizer(params, cfg)
        self.updates = 0  # optimizer updates so far (drives warm-up)

    def reset_optimizer(self) -> None:
        self.optimizer = make_optimizer(self.params, self.cfg)
        self.updates = 0

    def current_lr(self) -> float:
        if self.cfg.warmup_steps > 0:
            return self.cfg.lr * min(1.0, (self.updates + 1) / self.cfg.warmup_steps)
        return self.cfg.lr

    def _forward(self, samples: Sequence[Sample], mode: str, grad: bool, entropy: bool):
        tokens, mask = pad_batch([s.tokens for s in samples], [s.mask for s in samples], self.device)
        with adapter_mode(self.model, mode), torch.set_grad_enabled(grad):
            logp, ent = token_logprobs(self.model, tokens, mask, with_entropy=entropy)
        _check_logprobs(logp.detach())
        adv = torch.tensor([s.advantage for s in samples], dtype=torch.float32, device=self.device)
        adv_tok = adv[:, None].expand(mask.shape)[:, 1:][mask[:, 1:]]
        return logp, ent, adv_tok

    def step(self, samples: List[Sample], lr_scale: float = 1.0) -> Dict[str, Any]:
        """One GRPO step; lr_scale multiplies the learning rate of its updates (the per-stage warm-up)."""
        cfg = self.cfg
        t0 = time.perf_counter()
        samples = [s.trimmed() for s in samples]
        order = list(range(len(samples)))
        if cfg.shuffle:
            order = torch.randperm(len(samples), generator=self.generator).tolist()
        mb_size = cfg.mini_batch_size or len(samples)
        minibatches = [[samples[i] for i in order[k:k + mb_size]] for k in range(0, len(order), mb_size)]
        plans = [[[mb[i] for i in group] for group in micro_batches(mb, cfg.micro_batch_tokens)] for mb in minibatches]

        use_kl = cfg.kl_coef > 0
        ref_is_policy = use_kl and policy_equals_reference(self.model)
        old: Dict[Tuple[int, int], torch.Tensor] = {}
        ref: Dict[Tuple[int, int], torch.Tensor] = {}
        for m, plan in enumerate(plans[1:], start=1):
            for j, micro in enumerate(plan):
                old[(m, j)] = self._forward(micro, "policy", grad=False, entropy=False)[0]

        sums = {"pg_loss": 0.0, "kl": 0.0, "entropy": 0.0, "clipped": 0.0, "ppo_kl": 0.0}
        counted = 0
        grad_norms: List[float] = []
        skipped = 0
        for _epoch in range(cfg.epochs):
            for m, plan in enumerate(plans):
                n_tok = sum(s.n_trained for micro in plan for s in micro)
                if n_tok == 0:
                    continue
                self.optimizer.zero_grad(set_to_none=True)
                for j, micro in enumerate(plan):
                    key = (m, j)
                    if use_kl and not ref_is_policy and key not in ref:
                        # Before the training forward, so its activations are not held meanwhile.
                        ref[key] = self._forward(micro, "reference", grad=False, entropy=False)[0]
                    logp, ent, adv = self._forward(micro, "policy", grad=True, entropy=True)
                    if key not in old:
                        old[key] = logp.detach()
                    pg, clipped, ppo_kl = policy_loss(logp, old[key], adv, cfg)
                    loss = pg - cfg.entropy_coef * ent
                    if use_kl:
                        kl = low_var_kl(logp, ref.setdefault(key, old[key]))  # old == ref when ref_is_policy
                        loss = loss + cfg.kl_coef * kl
                        sums["kl"] += kl.detach().sum().item()
                    (loss.sum() / n_tok).backward()
                    sums["pg_loss"] += pg.detach().sum().item()
                    sums["entropy"] += ent.detach().sum().item()
                    sums["clipped"] += clipped.float().sum().item()
                    sums["ppo_kl"] += ppo_kl.detach().sum().item()
                counted += n_tok
                norm = torch.nn.utils.clip_grad_norm_(self.params, cfg.grad_clip).item()
                grad_norms.append(norm)
                if not math.isfinite(norm):
                    # As verl does: a non-finite gradient skips the update instead of poisoning the adapter.
                    skipped += 1
                    self.optimizer.zero_grad(set_to_none=True)
                    continue
                lr = self.current_lr() * lr_scale
                for group in self.optimizer.param_groups:
                    group["lr"] = lr
                self.optimizer.step()
                self.updates += 1

        mean = {k: v / max(counted, 1) for k, v in sums.items()}
        finite_norms = [g for g in grad_norms if math.isfinite(g)]
        if grad_norms and not finite_norms:
            # Every update was skipped: nothing was learned this step and nothing will be.
            raise non_finite("grad_norm", grad_norms[0], BROKEN)
        metrics = {
            "loss": mean["pg_loss"] + cfg.kl_coef * mean["kl"] - cfg.entropy_coef * mean["entropy"],
            "pg_loss": mean["pg_loss"],
            "kl": mean["kl"],
            "entropy": mean["entropy"],
            "clip_frac": mean["clipped"],
            "ppo_kl": mean["ppo_kl"],
            "grad_norm": sum(finite_norms) / len(finite_norms) if finite_norms else float("nan"),
            "lr": self.current_lr() * lr_scale if self.updates == 0 else self.optimizer.param_groups[0]["lr"],
            "tokens": sum(s.n_trained for s in samples),
            "updates": len(grad_norms) - skipped,
            "skipped_updates": skipped,
            "step_time_s": time.perf_counter() - t0,
        }
        for key in ("loss", "pg_loss", "kl", "entropy", "clip_frac", "ppo_kl", "lr"):
            if not math.isfinite(metrics[key]):
                raise non_finite(key, metrics[key], BROKEN)
        return metrics
