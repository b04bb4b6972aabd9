"""Model hyper-parameters read from GGUF metadata, with llama.cpp's defaults and checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import unsupported
from .gguf_reader import GGUFFile

# llama.cpp's rope type per architecture (llama_model_rope_type): "norm" rotates adjacent pairs
# (x[2i], x[2i+1]); "neox" rotates halves (x[i], x[i + n_rot/2]).
ROPE_TYPES = {"llama": "norm", "qwen2": "neox", "qwen3": "neox"}


@dataclass
class ModelConfig:
    arch: str
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ff: int
    vocab_size: int
    context_length: int
    rms_eps: float
    rope_type: str
    n_rot: int
    freq_base: float
    freq_scale: float
    attn_scale: float
    qk_norm: bool


def _uniform(value: Any, what: str) -> int:
    """Per-layer arrays are allowed when all layers agree (the learner builds identical blocks)."""
    if isinstance(value, list):
        if not value or any(v != value[0] for v in value):
            raise unsupported(f"{what} differs between layers ({value}); not supported")
        return int(value[0])
    return int(value)


def config_from_gguf(g: GGUFFile) -> ModelConfig:
    arch = g.get("general.architecture")
    if arch not in ROPE_TYPES:
        raise unsupported(f"architecture {arch!r} is not supported by the learner "
                          f"(supported: {', '.join(sorted(ROPE_TYPES))})")
    if g.get("general.type", "model") == "adapter":
        raise unsupported(f"{g.path} is a LoRA adapter, not a model")

    def key(name: str, default: Any = ...) -> Any:
        full = f"{arch}.{name}"
        if full in g.metadata:
            return g.metadata[full]
        if default is ...:
            raise unsupported(f"{g.path}: required metadata {full} is missing")
        return default

    if int(_uniform(key("expert_count", 0), "expert_count")) > 0:
        raise unsupported("mixture-of-experts models are not supported by the learner")

    n_embd = int(key("embedding_length"))
    n_head = _uniform(key("attention.head_count"), "attention.head_count")
    n_head_kv = _uniform(key("attention.head_count_kv", n_head), "attention.head_count_kv")
    head_dim = int(key("attention.key_length", n_embd // n_head))
    head_dim_v = int(key("attention.value_length", n_embd // n_head))
    if head_dim != head_dim_v:
        raise unsupported(f"key head size {head_dim} != value head size {head_dim_v}")
    if n_head % n_head_kv != 0:
        raise unsupported(f"head_count {n_head} is not a multiple of head_count_kv {n_head_kv}")
    n_rot = int(key("rope.dimension_count", head_dim))
    if n_rot > head_dim or n_rot % 2:
        raise unsupported(f"rope.dimension_count {n_rot} is invalid for head size {head_dim}")

    scaling = key("rope.scaling.type", "linear")
    if scaling not in ("none", "linear"):
        raise unsupported(f"rope scaling {scaling!r} is not supported (none or linear are)")
    factor = float(key("rope.scaling.factor", key("rope.scale_linear", 0.0)))
    attn_factor = float(key("rope.scaling.attn_factor", 1.0))
    if attn_factor != 1.0:
        raise unsupported(f"rope.scaling.attn_factor {attn_factor} is not supported")
    if arch == "llama" and float(key("attention.scale", 0.0)) != 0.0:
        attn_scale = float(key("attention.scale"))
    else:
        attn_scale = head_dim ** -0.5

    if "token_embd.weight" not in g.tensors:
        raise unsupported(f"{g.path}: missing tensor token_embd.weight")
    vocab_size = g.tensors["token_embd.weight"].shape[0]
    if any(n.endswith("attn_qkv.weight") for n in g.tensors):
        raise unsupported("fused attn_qkv tensors are not supported (the LoRA targets separate q/k/v)")

    return ModelConfig(
        arch=arch,
        n_layer=int(key("block_count")),
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=n_head_kv,
        head_dim=head_dim,
        n_ff=_uniform(key("feed_forward_length"), "feed_forward_length"),
        vocab_size=vocab_size,
        context_length=int(key("context_length", 4096)),
        rms_eps=float(key("attention.layer_norm_rms_epsilon")),
        rope_type=ROPE_TYPES[arch],
        n_rot=n_rot,
        freq_base=float(key("rope.freq_base", 10000.0)),
        freq_scale=1.0 if factor == 0.0 else 1.0 / factor,
        attn_scale=attn_scale,
        qk_norm=arch == "qwen3",
    )
