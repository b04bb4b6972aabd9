"""Rotary position embedding computed the way ggml does it, so log-probs match llama.cpp closely.

ggml builds the angle table in float32 by repeated multiplication (theta_i = p * s^i with s =
base^(-2/n_rot), accumulated one factor at a time), divides by optional per-dimension frequency factors
(Llama 3's rope_freqs) and multiplies by freq_scale (linear scaling). Reproducing the float32 recurrence
instead of computing p * base^(-2i/n) in double keeps long positions within float rounding of llama.cpp.
"""

from __future__ import annotations

import struct
from typing import Dict, Optional, Tuple

import torch


def _f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


class Rope:
    def __init__(self, n_rot: int, rope_type: str, freq_base: float, freq_scale: float,
                 freq_factors: Optional[torch.Tensor] = None):
        if rope_type not in ("norm", "neox"):
            raise ValueError(f"unknown rope type {rope_type}")
        self.n_rot = n_rot
        self.rope_type = rope_type
        self.theta_scale = _f32(_f32(freq_base) ** _f32(-2.0 / n_rot))
        self.freq_scale = _f32(freq_scale)
        self.freq_factors = None if freq_factors is None else freq_factors.detach().to(torch.float32).cpu()
        self._cache: Dict[Tuple[str, torch.dtype], Tuple[torch.Tensor, torch.Tensor]] = {}

    def _table(self, n_pos: int, device: torch.device, dtype: torch.dtype) -> Tuple[torch.Tensor, torch.Tensor]:
        cache_key = (str(device), dtype)
        cached = self._cache.get(cache_key)
        if cached is not None and cached[0].shape[0] >= n_pos:
            return cached[0][:n_pos], cached[1][:n_pos]
        size = max(n_pos, 256 if cached is None else 2 * cached[0].shape[0])
        theta = torch.arange(size, dtype=torch.float32)
        scale = torch.tensor(self.theta_scale, dtype=torch.float32)
        cols = []
        for i in range(self.n_rot // 2):
            col = theta if self.freq_factors is None else theta / self.freq_factors[i]
            cols.append(col * self.freq_scale)
            theta = theta * scale
        angles = torch.stack(cols, dim=1)  # [size, n_rot/2]
        table = (angles.cos().to(device=device, dtype=dtype), angles.sin().to(device=device, dtype=dtype))
        self._cache[cache_key] = table
        return table[0][:n_pos], table[1][:n_pos]

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """x: [batch, seq, heads, head_dim], positions 0..seq-1."""
        n_pos = x.shape[1]
        cos, sin = self._table(n_pos, x.device, x.dtype)
        cos = cos[None, :, None, :]
        sin = sin[None, :, None, :]
        rot, rest = x[..., : self.n_rot], x[..., self.n_rot:]
        if self.rope_type == "norm":
            pairs = rot.reshape(*rot.shape[:-1], self.n_rot // 2, 2)
            x0, x1 = pairs[..., 0], pairs[..., 1]
            out = torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)
        else:
            half = self.n_rot // 2
            x0, x1 = rot[..., :half], rot[..., half:]
            out = torch.cat((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1)
        if rest.shape[-1] == 0:
            return out
        return torch.cat((out, rest), dim=-1)
