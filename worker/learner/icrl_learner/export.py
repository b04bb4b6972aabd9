"""Write the policy adapter as a GGUF LoRA file that llama.cpp (node-llama-cpp) hot-loads.

Layout: general.architecture = the base model's, general.type = "adapter", adapter.type = "lora",
adapter.lora.alpha (f32); tensors blk.N.<tensor>.weight.lora_a [rank, in] and .lora_b [out, rank] in
torch order (GGUF ne = [in, rank] and [rank, out]). llama.cpp scales by alpha / rank with rank = lora_b's
ne[0], as the learner does.

Q/K row order: the learner trains on the GGUF rows exactly as stored, which is the space llama.cpp applies
the adapter in, so its adapters never need a permutation, whatever converter produced the model.
permute_qk exists for a B matrix that was trained against Hugging Face row order (e.g. a PEFT adapter
brought in from elsewhere): llama.cpp's converter permuted llama's q/k rows for its "norm" RoPE, and such
a B must be permuted the same way (skipping that is catastrophic, applying it to our own adapters too).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Dict, List

import torch

from .errors import LearnerError, bad_request
from .gguf_reader import GGML_F16, GGML_F32
from .gguf_writer import f32, write_gguf
from .lora import TARGET_TENSORS, LoraConfig
from .model import GGUFModel


def permute_hf_to_gguf(w: torch.Tensor, n_head: int) -> torch.Tensor:
    """The row permutation llama.cpp's convert_hf_to_gguf applies to llama q (n_head) / k (n_head_kv) weights:
    within each head, rows [first half | second half] become interleaved pairs."""
    rows = w.shape[0]
    return w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).transpose(1, 2).reshape(w.shape)


def export_adapter(model: GGUFModel, lora: LoraConfig, path: str, dtype: str = "f32",
                   permute_qk: bool = False) -> Dict[str, Any]:
    if dtype not in ("f32", "f16"):
        raise bad_request(f"adapter dtype must be f32 or f16, got {dtype!r}")
    if permute_qk and model.cfg.arch != "llama":
        raise bad_request("permute_qk applies to llama models only (qwen2/qwen3 converters do not permute)")
    ggml_type = GGML_F32 if dtype == "f32" else GGML_F16
    cfg = model.cfg
    tensors: List = []
    for i in range(cfg.n_layer):
        for target in lora.targets:
            m = model.projection(i, target)
            a = m.lora_a.detach().to("cpu", torch.float32)
            b = m.lora_b.detach().to("cpu", torch.float32)
            if permute_qk and target in ("q", "k"):
                b = permute_hf_to_gguf(b, cfg.n_head if target == "q" else cfg.n_head_kv)
            name = f"blk.{i}.{TARGET_TENSORS[target]}.weight"
            tensors.append((f"{name}.lora_a", a, ggml_type))
            tensors.append((f"{name}.lora_b", b, ggml_type))
    metadata = [
        ("general.architecture", cfg.arch),
        ("general.type", "adapter"),
        ("general.name", "icrl-learner-lora"),
        ("adapter.type", "lora"),
        ("adapter.lora.alpha", f32(lora.alpha)),
    ]
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        size = write_gguf(path, metadata, tensors)
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as e:
        raise LearnerError("io_error", f"cannot write adapter {path}: {e.strerror or e}") from e
    return {"path": path, "bytes": size, "sha256": digest.hexdigest(), "tensors": len(tensors),
            "rank": lora.rank, "alpha": lora.alpha}
