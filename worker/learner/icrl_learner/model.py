"""PyTorch forward for llama / qwen2 / qwen3 GGUF models, computed the way llama.cpp computes them.

Weights are used exactly as stored in the GGUF (llama's q/k rows are already in the order that llama.cpp's
"norm" RoPE expects), so a LoRA trained here is in GGUF layout and llama.cpp applies it unchanged.
"""

from __future__ import annotations

import inspect
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint

from .config import ModelConfig, config_from_gguf
from .errors import unsupported
from .gguf_reader import GGUFFile
from .lora import TARGET_TENSORS, LoRALinear
from .rope import Rope
from .vocab_logprobs import target_logprob_entropy

# The projections a block owns, by GGUF tensor name (attribute names equal GGUF names).
PROJECTIONS = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]
_BLOCK_TENSORS = {f"{p}.weight" for p in PROJECTIONS} | {f"{p}.bias" for p in PROJECTIONS} | {
    "attn_norm.weight", "ffn_norm.weight", "attn_q_norm.weight", "attn_k_norm.weight"}
_GLOBAL_TENSORS = {"token_embd.weight", "output_norm.weight", "output.weight", "output.bias", "rope_freqs.weight"}
DEFAULT_LOGPROB_CHUNK = 512


def _sdpa_supports_scale() -> bool:
    sdpa = getattr(F, "scaled_dot_product_attention", None)
    if sdpa is None:
        return False
    try:
        return "scale" in inspect.signature(sdpa).parameters
    except (TypeError, ValueError):
        return False


_HAS_SDPA = _sdpa_supports_scale()


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    xf = x.float()
    out = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return (out * weight.float()).to(x.dtype)


# Queries per block in the fallback attention. Blocks skip the keys after the block (never attended)
# and keep the score matrix small enough for cache: on CPU with torch 1.13, T=490 ran 2.5-4x faster
# than one full [T, T] pass (scratch measurement, 16 x 4 heads, head_dim 32).
_ATTN_BLOCK = 64
_causal_bias_cache: Dict[Tuple[str, torch.dtype], torch.Tensor] = {}


def _causal_bias(t: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """[t, t] additive mask: 0 where a query may see the key, -inf after it."""
    key = (str(device), dtype)
    bias = _causal_bias_cache.get(key)
    if bias is None or bias.shape[0] < t:
        n = max(t, 1024)
        bias = torch.zeros(n, n, dtype=dtype, device=device).masked_fill(
            torch.ones(n, n, dtype=torch.bool, device=device).triu(1), float("-inf"))
        _causal_bias_cache[key] = bias
    return bias[:t, :t]


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float) -> torch.Tensor:
    """q: [B, H, T, D]; k, v: [B, H, T, D] (already expanded for GQA). Right padding is harmless: a causal
    mask never lets a real token see the padding after it."""
    if _HAS_SDPA:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)
    t = q.shape[2]
    q = q * scale
    bias = _causal_bias(t, q.device, torch.float32)
    out = []
    for i in range(0, t, _ATTN_BLOCK):
        j = min(t, i + _ATTN_BLOCK)
        scores = torch.matmul(q[:, :, i:j], k[:, :, :j].transpose(-1, -2)).float() + bias[i:j, :j]
        out.append(torch.matmul(torch.softmax(scores, dim=-1).to(q.dtype), v[:, :, :j]))
    return out[0] if len(out) == 1 else torch.cat(out, dim=2)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig, w: Dict[str, Optional[torch.Tensor]], rope: Rope):
        super().__init__()
        self.cfg = cfg
        self.rope = rope
        self.register_buffer("attn_norm", w["attn_norm.weight"], persistent=False)
        self.register_buffer("ffn_norm", w["ffn_norm.weight"], persistent=False)
        for p in PROJECTIONS:
            setattr(self, p, LoRALinear(w[f"{p}.weight"], w.get(f"{p}.bias")))
        if cfg.qk_norm:
            self.register_buffer("attn_q_norm", w["attn_q_norm.weight"], persistent=False)
            self.register_buffer("attn_k_norm", w["attn_k_norm.weight"], persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        b, t, _ = x.shape
        h = rms_norm(x, self.attn_norm, cfg.rms_eps)
        q = self.attn_q(h).view(b, t, cfg.n_head, cfg.head_dim)
        k = self.attn_k(h).view(b, t, cfg.n_head_kv, cfg.head_dim)
        v = self.attn_v(h).view(b, t, cfg.n_head_kv, cfg.head_dim)
        if cfg.qk_norm:
            q = rms_norm(q, self.attn_q_norm, cfg.rms_eps)
            k = rms_norm(k, self.attn_k_norm, cfg.rms_eps)
        q = self.rope.apply(q).transpose(1, 2)
        k = self.rope.apply(k).transpose(1, 2)
        v = v.transpose(1, 2)
        n_rep = cfg.n_head // cfg.n_head_kv
        if n_rep > 1:
            # Query head h reads KV head h // n_rep, as in llama.cpp.
            k = k.repeat_interleave(n_rep, dim=1)
            v = v.repeat_interleave(n_rep, dim=1)
        attn = causal_attention(q, k, v, cfg.attn_scale).transpose(1, 2).reshape(b, t, cfg.n_head * cfg.head_dim)
        x = x + self.attn_output(attn)
        h = rms_norm(x, self.ffn_norm, cfg.rms_eps)
        return x + self.ffn_down(F.silu(self.ffn_gate(h)) * self.ffn_up(h))


class GGUFModel(nn.Module):
    def __init__(self, cfg: ModelConfig, load: Callable[[str], Optional[torch.Tensor]]):
        super().__init__()
        self.cfg = cfg
        self.gradient_checkpointing = False
        # Positions per output-layer chunk in token_logprobs (0 = all at once). 512 keeps a chunk's
        # logits near 300 MB at a 151,936-row vocabulary.
        self.logprob_chunk = DEFAULT_LOGPROB_CHUNK
        self.register_buffer("token_embd", load("token_embd.weight"), persistent=False)
        self.register_buffer("output_norm", load("output_norm.weight"), persistent=False)
        output = load("output.weight")
        # Tied embeddings: the same tensor object, not a copy.
        self.register_buffer("output", self.token_embd if output is None else output, persistent=False)
        self.register_buffer("output_bias", load("output.bias"), persistent=False)
        rope = Rope(cfg.n_rot, cfg.rope_type, cfg.freq_base, cfg.freq_scale, load("rope_freqs.weight"))
        blocks = []
        for i in range(cfg.n_layer):
            # Sorted: a set's order follows Python's per-process string hash, and the order tensors are
            # loaded in becomes the order of every sum over them (a gradient norm), so it must not vary.
            w = {n: load(f"blk.{i}.{n}") for n in sorted(_BLOCK_TENSORS)}
            required = ["attn_norm.weight", "ffn_norm.weight"] + [f"{p}.weight" for p in PROJECTIONS]
            if cfg.qk_norm:
                required += ["attn_q_norm.weight", "attn_k_norm.weight"]
            missing = [n for n in required if w[n] is None]
            if missing:
                raise unsupported(f"missing tensor(s) blk.{i}.{', '.join(missing)}")
            blocks.append(Block(cfg, w, rope))
        self.blocks = nn.ModuleList(blocks)
        # named_buffers() lists a tied output matrix once.
        self.n_params = sum(t.numel() for _, t in self.named_buffers())

    def projection(self, layer: int, target: str) -> LoRALinear:
        return getattr(self.blocks[layer], TARGET_TENSORS[target])

    def hidden(self, tokens: torch.Tensor) -> torch.Tensor:
        """Final-normed hidden states [B, T, n_embd] for token ids [B, T]."""
        x = F.embedding(tokens, self.token_embd)
        for block in self.blocks:
            if self.gradient_checkpointing and torch.is_grad_enabled():
                x = torch.utils.checkpoint.checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return rms_norm(x, self.output_norm, self.cfg.rms_eps)

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return F.linear(h, self.output, self.output_bias).float()


def load_model(path: str, device: torch.device, dtype: torch.dtype = torch.float32) -> Tuple[GGUFModel, GGUFFile]:
    gguf = GGUFFile(path)
    cfg = config_from_gguf(gguf)
    _check_tensor_names(gguf, cfg)

    def load(name: str) -> Optional[torch.Tensor]:
        if not gguf.has(name):
            return None
        # Norm weights and frequency factors stay float32: they are tiny and precision-sensitive.
        keep_f32 = name.endswith("_norm.weight") or name == "rope_freqs.weight"
        return gguf.load(name, torch.float32 if keep_f32 else dtype, device)

    model = GGUFModel(cfg, load)
    model.requires_grad_(False)
    return model, gguf


def _check_tensor_names(gguf: GGUFFile, cfg: ModelConfig) -> None:
    """Refuse files with tensors this forward would silently ignore (another variant of the architecture)."""
    unknown: List[str] = []
    for name in gguf.tensors:
        if name in _GLOBAL_TENSORS:
            continue
        parts = name.split(".", 2)
        if len(parts) == 3 and parts[0] == "blk" and parts[1].isdigit() and int(parts[1]) < cfg.n_layer \
                and parts[2] in _BLOCK_TENSORS:
            continue
        unknown.append(name)
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise unsupported(f"{cfg.arch} model has tensors the learner does not implement: {shown}")


def pad_batch(sequences: List[List[int]], masks: List[List[int]], device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Right-pad with token 0 and mask 0 (padding after a sequence cannot influence it under a causal mask)."""
    t = max(len(s) for s in sequences)
    tokens = torch.zeros(len(sequences), t, dtype=torch.long)
    mask = torch.zeros(len(sequences), t, dtype=torch.bool)
    for i, (s, m) in enumerate(zip(sequences, masks)):
        tokens[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(m)] = torch.tensor(m, dtype=torch.bool)
    return tokens.to(device), mask.to(device)


def token_logprobs(model: GGUFModel, tokens: torch.Tensor, mask: torch.Tensor, with_entropy: bool = False
                   ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Log-prob of tokens[b, i] given tokens[b, :i] at every position where mask[b, i] (i >= 1), flattened in
    row-major order, and the entropy of the full next-token distribution there. The output layer runs only
    on those positions: prompts and tool results cost no vocabulary-sized matmul.

    Positions go through the output layer model.logprob_chunk at a time (0: all at once). Full-vocabulary
    logits are [positions, vocab] floats, with log_softmax, exp and autograd's saved copies several times
    that: 4,096 positions at Qwen's 151,936 rows are 2.5 GB per copy. With grad enabled each chunk runs
    under activation checkpointing, so backward keeps only the chunk's hidden states and recomputes its
    logits one chunk at a time: peak memory is a few chunk x vocab tensors, whatever the batch holds."""
    h = model.hidden(tokens)[:, :-1]
    sel = mask[:, 1:]
    selected = h[sel]
    targets = tokens[:, 1:][sel]
    chunk = model.logprob_chunk
    if chunk <= 0 or selected.shape[0] <= chunk:
        return _chunk_logprobs(model, selected, targets, with_entropy)
    recompute = torch.is_grad_enabled() and selected.requires_grad
    parts = []
    for start in range(0, selected.shape[0], chunk):
        args = (model, selected[start:start + chunk], targets[start:start + chunk], with_entropy)
        parts.append(torch.utils.checkpoint.checkpoint(_chunk_logprobs, *args, use_reentrant=False)
                     if recompute else _chunk_logprobs(*args))
    logp = torch.cat([p[0] for p in parts])
    entropy = torch.cat([p[1] for p in parts]) if with_entropy else None
    return logp, entropy


def _chunk_logprobs(model: GGUFModel, h: torch.Tensor, targets: torch.Tensor, with_entropy: bool
                    ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    return target_logprob_entropy(model.logits(h), targets, with_entropy)
