"""Random llama / qwen2 / qwen3 GGUF models small enough for tests and benchmarks.

Weights are written natively in GGUF layout. The vocabulary is byte-level (the 256 GPT-2 byte characters,
a few special tokens and optional filler tokens) with an empty merge list, which llama.cpp accepts.

CLI: python3 -m icrl_learner.tiny_model --out model.gguf [--arch llama] [--n-embd 128] ...
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass
from typing import List, Optional, Tuple

import torch

from .gguf_reader import GGML_BF16, GGML_F16, GGML_F32, GGML_Q8_0, T_INT32, T_STRING
from .gguf_writer import array, f32, u32, write_gguf

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
TYPE_IDS = {"f32": GGML_F32, "f16": GGML_F16, "bf16": GGML_BF16, "q8_0": GGML_Q8_0}


@dataclass
class TinySpec:
    arch: str = "llama"
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_head_kv: int = 2
    head_dim: Optional[int] = None  # None: n_embd // n_head
    n_ff: int = 128
    vocab_size: int = 259  # 256 bytes + 3 specials
    context_length: int = 512
    freq_base: float = 10000.0
    rms_eps: float = 1e-5
    tied: bool = False
    weight_type: str = "f32"  # type of the projection matrices and embeddings
    std: float = 0.08
    seed: int = 0


def byte_vocab(size: int) -> Tuple[List[str], List[int]]:
    """GPT-2's byte-to-character table, the special tokens, then normal filler tokens up to `size`."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars = {b: chr(b) for b in printable}
    n = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + n)
            n += 1
    tokens = [chars[b] for b in range(256)] + list(SPECIAL_TOKENS)
    types = [1] * 256 + [3] * len(SPECIAL_TOKENS)
    if size < len(tokens):
        raise ValueError(f"vocab_size must be at least {len(tokens)}")
    for i in range(len(tokens), size):
        tokens.append(f"[tok{i}]")
        types.append(1)
    return tokens, types


def build_tensors(spec: TinySpec) -> List[Tuple[str, torch.Tensor, int]]:
    g = torch.Generator().manual_seed(spec.seed)
    head_dim = spec.head_dim or spec.n_embd // spec.n_head
    q_out, kv_out = spec.n_head * head_dim, spec.n_head_kv * head_dim
    wtype = TYPE_IDS[spec.weight_type]

    def rnd(*shape: int, std: float = spec.std) -> torch.Tensor:
        return torch.randn(*shape, generator=g) * std

    def norm(n: int) -> torch.Tensor:
        return 1.0 + rnd(n, std=0.1)

    out_std = 3.0 / math.sqrt(spec.n_embd)
    # A tied matrix also serves as the output layer, so it gets the output layer's scale.
    tensors = [("token_embd.weight", rnd(spec.vocab_size, spec.n_embd, std=out_std if spec.tied else 1.0), wtype)]
    for i in range(spec.n_layer):
        p = f"blk.{i}."
        tensors += [
            (p + "attn_norm.weight", norm(spec.n_embd), GGML_F32),
            (p + "attn_q.weight", rnd(q_out, spec.n_embd), wtype),
            (p + "attn_k.weight", rnd(kv_out, spec.n_embd), wtype),
            (p + "attn_v.weight", rnd(kv_out, spec.n_embd), wtype),
        ]
        if spec.arch == "qwen2":
            tensors += [(p + "attn_q.bias", rnd(q_out, std=0.1), GGML_F32),
                        (p + "attn_k.bias", rnd(kv_out, std=0.1), GGML_F32),
                        (p + "attn_v.bias", rnd(kv_out, std=0.1), GGML_F32)]
        if spec.arch == "qwen3":
            tensors += [(p + "attn_q_norm.weight", norm(head_dim), GGML_F32),
                        (p + "attn_k_norm.weight", norm(head_dim), GGML_F32)]
        tensors += [
            (p + "attn_output.weight", rnd(spec.n_embd, q_out), wtype),
            (p + "ffn_norm.weight", norm(spec.n_embd), GGML_F32),
            (p + "ffn_gate.weight", rnd(spec.n_ff, spec.n_embd), wtype),
            (p + "ffn_up.weight", rnd(spec.n_ff, spec.n_embd), wtype),
            (p + "ffn_down.weight", rnd(spec.n_embd, spec.n_ff), wtype),
        ]
    tensors.append(("output_norm.weight", norm(spec.n_embd), GGML_F32))
    if not spec.tied:
        tensors.append(("output.weight", rnd(spec.vocab_size, spec.n_embd, std=out_std), wtype))
    return tensors


def write_tiny_model(path: str, spec: TinySpec) -> int:
    a = spec.arch
    if a not in ("llama", "qwen2", "qwen3"):
        raise ValueError(f"unknown arch {a}")
    tokens, types = byte_vocab(spec.vocab_size)
    head_dim = spec.head_dim or spec.n_embd // spec.n_head
    meta = [
        ("general.architecture", a),
        ("general.name", f"icrl-tiny-{a}"),
        (f"{a}.context_length", u32(spec.context_length)),
        (f"{a}.embedding_length", u32(spec.n_embd)),
        (f"{a}.block_count", u32(spec.n_layer)),
        (f"{a}.feed_forward_length", u32(spec.n_ff)),
        (f"{a}.attention.head_count", u32(spec.n_head)),
        (f"{a}.attention.head_count_kv", u32(spec.n_head_kv)),
        (f"{a}.attention.layer_norm_rms_epsilon", f32(spec.rms_eps)),
        (f"{a}.rope.freq_base", f32(spec.freq_base)),
    ]
    if head_dim != spec.n_embd // spec.n_head:
        meta += [(f"{a}.attention.key_length", u32(head_dim)), (f"{a}.attention.value_length", u32(head_dim))]
    meta += [
        ("tokenizer.ggml.model", "gpt2"),
        ("tokenizer.ggml.pre", "qwen2"),
        ("tokenizer.ggml.tokens", array(T_STRING, tokens)),
        ("tokenizer.ggml.token_type", array(T_INT32, types)),
        ("tokenizer.ggml.merges", array(T_STRING, [])),
        ("tokenizer.ggml.bos_token_id", u32(256)),
        ("tokenizer.ggml.eos_token_id", u32(256)),
        ("tokenizer.ggml.add_bos_token", False),
    ]
    return write_gguf(path, meta, build_tensors(spec))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m icrl_learner.tiny_model", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    defaults = TinySpec()
    for name, value in asdict(defaults).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parser.add_argument(flag, action="store_true", default=value)
        elif name == "head_dim":
            parser.add_argument(flag, type=int, default=None)
        else:
            parser.add_argument(flag, type=type(value), default=value)
    args = vars(parser.parse_args(argv))
    out = args.pop("out")
    spec = TinySpec(**args)
    size = write_tiny_model(out, spec)
    print(json.dumps({"path": out, "bytes": size, **asdict(spec)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
