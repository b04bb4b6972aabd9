"""LoRA on frozen GGUF weights, with the KL reference obtained from the same modules by a mode switch.

Each targeted projection keeps its base weight as a frozen buffer and adds scale * B (A x), with
A [rank, in] and B [out, rank] (PEFT's shapes, which are also what llama.cpp's GGUF adapters store).
B starts at zero, so a fresh adapter leaves the model unchanged.

Adapter modes (set on the whole model with `adapter_mode(model, mode)`):
  policy     base + trainable adapter (what is trained and exported)
  reference  base + reference snapshot (None until the first reference reset: then just the base)
  base       the GGUF weights alone
The reference snapshot is a copy of the adapter only (a few MB), never of the base weights.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .errors import bad_request

# Short target names, with the GGUF tensor name they adapt.
TARGET_TENSORS = {
    "q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output",
    "gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down",
}
_ALIASES = {
    "q_proj": "q", "k_proj": "k", "v_proj": "v", "o_proj": "o", "gate_proj": "gate", "up_proj": "up",
    "down_proj": "down", "attn_q": "q", "attn_k": "k", "attn_v": "v", "attn_output": "o",
    "ffn_gate": "gate", "ffn_up": "up", "ffn_down": "down",
}
DEFAULT_TARGETS = ["q", "k", "v", "o", "gate", "up", "down"]
MODES = ("policy", "reference", "base")


@dataclass
class LoraConfig:
    rank: int = 32
    alpha: float = 32.0
    targets: List[str] = field(default_factory=lambda: list(DEFAULT_TARGETS))

    @property
    def scale(self) -> float:
        return self.alpha / self.rank

    def to_dict(self) -> dict:
        return {"rank": self.rank, "alpha": self.alpha, "targets": list(self.targets)}


def parse_lora_config(raw: Optional[dict]) -> LoraConfig:
    raw = dict(raw or {})
    unknown = set(raw) - {"rank", "alpha", "targets"}
    if unknown:
        raise bad_request(f"unknown lora option(s): {', '.join(sorted(unknown))}")
    rank = raw.get("rank", 32)
    if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
        raise bad_request(f"lora.rank must be a positive integer, got {rank!r}")
    alpha = raw.get("alpha", float(rank))
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not math.isfinite(alpha) or alpha <= 0:
        raise bad_request(f"lora.alpha must be a positive number, got {alpha!r}")
    targets = raw.get("targets", DEFAULT_TARGETS)
    if not isinstance(targets, list) or not targets:
        raise bad_request("lora.targets must be a non-empty list")
    canonical: List[str] = []
    for t in targets:
        name = _ALIASES.get(t, t)
        if name not in TARGET_TENSORS:
            raise bad_request(f"unknown LoRA target {t!r} (use {', '.join(DEFAULT_TARGETS)})")
        if name not in canonical:
            canonical.append(name)
    canonical.sort(key=DEFAULT_TARGETS.index)
    return LoraConfig(rank=rank, alpha=float(alpha), targets=canonical)


class LoRALinear(nn.Module):
    def __init__(self, weight: torch.Tensor, bias: Optional[torch.Tensor] = None):
        super().__init__()
        self.register_buffer("weight", weight, persistent=False)
        if bias is not None:
            self.register_buffer("bias", bias, persistent=False)
        else:
            self.bias = None
        self.out_features, self.in_features = weight.shape
        self.lora_a: Optional[nn.Parameter] = None
        self.lora_b: Optional[nn.Parameter] = None
        self.ref_a: Optional[torch.Tensor] = None
        self.ref_b: Optional[torch.Tensor] = None
        self.scale = 0.0
        self.mode = "policy"

    def attach(self, rank: int, scale: float, generator: torch.Generator) -> None:
        self.scale = scale
        self.lora_a = nn.Parameter(torch.empty(rank, self.in_features, dtype=torch.float32, device=self.weight.device))
        self.lora_b = nn.Parameter(torch.zeros(self.out_features, rank, dtype=torch.float32, device=self.weight.device))
        self.init_adapter(generator)

    @torch.no_grad()
    def init_adapter(self, generator: torch.Generator) -> None:
        # PEFT's default: kaiming_uniform(a=sqrt(5)) on A, i.e. U(-1/sqrt(in), 1/sqrt(in)); B = 0.
        bound = 1.0 / math.sqrt(self.in_features)
        a = torch.rand(self.lora_a.shape, generator=generator, dtype=torch.float32) * (2 * bound) - bound
        self.lora_a.copy_(a.to(self.lora_a.device))
        self.lora_b.zero_()

    @torch.no_grad()
    def snapshot_reference(self) -> None:
        self.ref_a = self.lora_a.detach().clone()
        self.ref_b = self.lora_b.detach().clone()

    def _adapter(self):
        if self.lora_a is None or self.mode == "base":
            return None
        if self.mode == "policy":
            return self.lora_a, self.lora_b
        if self.ref_a is None:
            return None
        return self.ref_a, self.ref_b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ab = self._adapter()
        if ab is None:
            return F.linear(x, self.weight, self.bias)
        a, b = ab
        # 2-D so the adapter's up-projection and the add run as one GEMM (addmm), with the scale applied
        # to the rank-sized intermediate rather than to the full output.
        x2 = x.reshape(-1, self.in_features)
        y = F.linear(x2, self.weight, self.bias)
        h = F.linear(x2, a.to(x.dtype)) * self.scale
        return torch.addmm(y, h, b.to(x.dtype).t()).view(*x.shape[:-1], self.out_features)


def lora_modules(model: nn.Module) -> Iterator[LoRALinear]:
    for m in model.modules():
        if isinstance(m, LoRALinear) and m.lora_a is not None:
            yield m


@contextlib.contextmanager
def adapter_mode(model: nn.Module, mode: str):
    if mode not in MODES:
        raise bad_request(f"unknown adapter mode {mode!r} (use {', '.join(MODES)})")
    modules = [m for m in model.modules() if isinstance(m, LoRALinear)]
    previous = [m.mode for m in modules]
    for m in modules:
        m.mode = mode
    try:
        yield
    finally:
        for m, p in zip(modules, previous):
            m.mode = p


def trainable_parameters(model: nn.Module) -> List[nn.Parameter]:
    params: List[nn.Parameter] = []
    for m in lora_modules(model):
        params.extend([m.lora_a, m.lora_b])
    return params


@torch.no_grad()
def policy_equals_reference(model: nn.Module) -> bool:
    """True when the reference forward would reproduce the policy exactly, so it can be skipped."""
    for m in lora_modules(model):
        if m.ref_a is None:
            if torch.count_nonzero(m.lora_b).item() != 0:
                return False
        elif not (torch.equal(m.lora_a, m.ref_a) and torch.equal(m.lora_b, m.ref_b)):
            return False
    return True


def adapter_tensors(model: nn.Module, which: str = "policy") -> Dict[str, torch.Tensor]:
    """Adapter tensors keyed by module path (for state files)."""
    out: Dict[str, torch.Tensor] = {}
    for name, m in model.named_modules():
        if isinstance(m, LoRALinear) and m.lora_a is not None:
            a, b = (m.lora_a, m.lora_b) if which == "policy" else (m.ref_a, m.ref_b)
            if a is None:
                continue
            out[f"{name}.a"] = a.detach().to("cpu").clone()
            out[f"{name}.b"] = b.detach().to("cpu").clone()
    return out


@torch.no_grad()
def load_adapter_tensors(model: nn.Module, tensors: Dict[str, torch.Tensor], which: str = "policy") -> None:
    for name, m in model.named_modules():
        if not (isinstance(m, LoRALinear) and m.lora_a is not None):
            continue
        a, b = tensors.get(f"{name}.a"), tensors.get(f"{name}.b")
        if which == "reference":
            if a is None:
                m.ref_a = m.ref_b = None
            else:
                m.ref_a = a.to(m.lora_a.device, torch.float32).clone()
                m.ref_b = b.to(m.lora_b.device, torch.float32).clone()
            continue
        if a is None or a.shape != m.lora_a.shape or b.shape != m.lora_b.shape:
            raise bad_request(f"adapter tensors for {name} are missing or have the wrong shape")
        m.lora_a.copy_(a)
        m.lora_b.copy_(b)
