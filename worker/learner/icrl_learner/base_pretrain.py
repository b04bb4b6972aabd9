"""Full-parameter pre-training of a small GGUF model, written back as a GGUF with the same metadata.

Tests and the demo build their own tiny models (no weights can be downloaded), and a random model
never samples a rewarded answer. LoRA alone on frozen random weights does not learn to copy a token
from a tool result into the answer within a few hundred steps; training every weight does (about a
hundred steps on the lookup task), so this is how a tiny model is made "sometimes right" before RL.

The output file is a byte copy of the input with each tensor's data overwritten in place: metadata,
tokenizer and chat template stay exactly as they were. Only F32 and F16 tensors can be rewritten (the
tiny models use those); anything else is a clear error.

unseen_rows="zero" trains only the rows of tokens the data uses and writes the others as zeros, which
makes the loss over the seen rows exact for the whole vocabulary (seen_vocabulary.py): for tiny models
with a real tokenizer, whose ~152k-row output layer is otherwise nearly all of the cost.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from typing import Any, Callable, Dict, List, Optional

import torch

from .batching import parse_sequences
from .config import config_from_gguf
from .errors import bad_request, unsupported
from .gguf_reader import GGML_F16, GGML_F32, GGUFFile
from .gguf_writer import tensor_bytes
from .model import GGUFModel, pad_batch, token_logprobs
from .seen_vocabulary import seen_vocabulary

_KEYS = {"model_path", "out_path", "sequences", "masks", "steps", "lr", "batch_size", "seed", "threads", "unseen_rows"}
_VOCAB_TENSORS = ("token_embd.weight", "output.weight")
_DTYPE_OF = {GGML_F32: torch.float32, GGML_F16: torch.float16}


def _number(params: Dict[str, Any], key: str, default: float, integer: bool) -> Any:
    value = params.get(key, default)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    if integer:
        ok = ok and int(value) == value
    if not ok:
        raise bad_request(f"pretrain_base.{key} must be a positive {'integer' if integer else 'number'}, got {value!r}")
    return int(value) if integer else float(value)


def pretrain_base(params: Dict[str, Any], log: Optional[Callable[..., None]] = None) -> Dict[str, Any]:
    unknown = set(params) - _KEYS
    if unknown:
        raise bad_request(f"unknown pretrain_base parameter(s): {', '.join(sorted(unknown))}")
    model_path, out_path = params.get("model_path"), params.get("out_path")
    if not isinstance(model_path, str) or not isinstance(out_path, str):
        raise bad_request("pretrain_base needs model_path and out_path (file paths)")
    steps = _number(params, "steps", 100, True)
    lr = _number(params, "lr", 3e-3, False)
    batch_size = _number(params, "batch_size", 16, True)
    seed = int(params.get("seed", 0))
    if "threads" in params:
        torch.set_num_threads(_number(params, "threads", 1, True))

    gguf = GGUFFile(model_path)
    cfg = config_from_gguf(gguf)
    odd = [f"{n} ({info.type_name})" for n, info in gguf.tensors.items() if info.ggml_type not in _DTYPE_OF]
    if odd:
        raise unsupported(f"pretrain_base rewrites F32/F16 tensors only; {model_path} has {', '.join(odd[:5])}")
    samples = parse_sequences(params.get("sequences"), params.get("masks"), cfg.vocab_size, cfg.context_length)
    unseen_rows = params.get("unseen_rows", "keep")
    if unseen_rows not in ("keep", "zero"):
        raise bad_request(f'pretrain_base.unseen_rows must be "keep" or "zero", got {unseen_rows!r}')
    vocab = None
    if unseen_rows == "zero":
        vocab, samples = seen_vocabulary(samples, cfg.vocab_size)

    loaded: Dict[str, torch.Tensor] = {}
    full: Dict[str, torch.Tensor] = {}

    def load(name: str) -> Optional[torch.Tensor]:
        if not gguf.has(name):
            return None
        tensor = gguf.load(name, torch.float32, torch.device("cpu"))
        if vocab is not None and name in _VOCAB_TENSORS:
            full[name] = tensor
            tensor = vocab.compact_rows(tensor)
        loaded[name] = tensor.requires_grad_(True)
        return loaded[name]

    torch.manual_seed(seed)
    model = GGUFModel(cfg, load)
    # By name, each tensor once (tied embeddings are one tensor): the order of the gradient-norm sum.
    weights = list({id(loaded[n]): loaded[n] for n in sorted(loaded)}.values())
    optimizer = torch.optim.AdamW(weights, lr=lr, weight_decay=0.0)
    order = random.Random(seed)
    t0 = time.perf_counter()
    losses: List[float] = []
    for step in range(steps):
        batch = [samples[order.randrange(len(samples))] for _ in range(min(batch_size, len(samples)))]
        tokens, mask = pad_batch([s.tokens for s in batch], [s.mask for s in batch], torch.device("cpu"))
        logp = vocab.logprobs(model, tokens, mask) if vocab is not None else token_logprobs(model, tokens, mask)[0]
        loss = -logp.mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(weights, 1.0)
        optimizer.step()
        losses.append(loss.item())
        if log and (step + 1) % max(1, steps // 10) == 0:
            log("info", "pretrain_base progress", step=step + 1, steps=steps, loss=round(losses[-1], 4))

    # Byte copy, then each tensor's data overwritten where it lives; renamed into place when complete.
    tmp = f"{out_path}.tmp-{os.getpid()}"
    shutil.copyfile(model_path, tmp)
    tied = not gguf.has("output.weight")
    with open(tmp, "r+b") as f:
        for name, info in gguf.tensors.items():
            tensor = loaded[name].detach()
            if name in full:
                # Output rows of unseen tokens are zero (what the loss assumed); input-only rows stay.
                tensor = vocab.expand_rows(full[name], tensor, zero_unseen=tied or name == "output.weight")
            f.seek(info.offset)
            f.write(tensor_bytes(tensor.to(_DTYPE_OF[info.ggml_type])))
    os.replace(tmp, out_path)
    head = sum(losses[: max(1, steps // 10)]) / max(1, steps // 10)
    tail = sum(losses[-max(1, steps // 10):]) / max(1, steps // 10)
    return {"steps": steps, "loss_first": head, "loss_last": tail, "params": sum(t.numel() for t in weights),
            "seen_tokens": len(vocab.rows) if vocab is not None else cfg.vocab_size,
            "time_s": time.perf_counter() - t0}
