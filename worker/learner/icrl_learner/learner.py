"""The learner's state and the operations the protocol exposes (one Learner per process)."""

from __future__ import annotations

import copy
import os
import random
from typing import Any, Dict, List, Optional

import torch

from . import state as state_file
from .batching import micro_batches, parse_batch, parse_sequences
from .errors import LearnerError, bad_request
from .export import export_adapter
from .grpo import GRPOTrainer, parse_optim_config
from .lora import (adapter_mode, adapter_tensors, load_adapter_tensors, lora_modules, parse_lora_config,
                   trainable_parameters)
from .model import DEFAULT_LOGPROB_CHUNK, load_model, pad_batch, token_logprobs
from .pretrain import pretrain

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_INIT_KEYS = {"model_path", "lora", "optim", "device", "seed", "dtype", "threads", "gradient_checkpointing",
              "logprob_chunk"}


def check_keys(params: Dict[str, Any], allowed: set, what: str) -> None:
    unknown = set(params) - allowed
    if unknown:
        raise bad_request(f"unknown {what} parameter(s): {', '.join(sorted(unknown))}")


def int_param(params: Dict[str, Any], key: str, default: int, minimum: int = 0) -> int:
    value = params.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise bad_request(f"{key} must be an integer >= {minimum}, got {value!r}")
    return value


def resolve_device(name: Any) -> torch.device:
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(name, str) or not (name == "cpu" or name.startswith("cuda")):
        raise bad_request(f"device must be auto, cpu or cuda[:N], got {name!r}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise bad_request("device cuda was requested but torch sees no CUDA device")
    return torch.device(name)


class Learner:
    def __init__(self, params: Dict[str, Any]):
        check_keys(params, _INIT_KEYS, "init")
        model_path = params.get("model_path")
        if not isinstance(model_path, str) or not model_path:
            raise bad_request("init needs model_path (a GGUF file)")
        self.lora_cfg = parse_lora_config(params.get("lora"))
        self.optim_cfg = parse_optim_config(params.get("optim"))
        self.device = resolve_device(params.get("device", "auto"))
        dtype_name = params.get("dtype", "float32")
        if dtype_name not in _DTYPES:
            raise bad_request(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype_name!r}")
        if dtype_name == "float16" and self.device.type == "cpu":
            raise bad_request("dtype float16 needs a CUDA device (CPU matmuls in half precision are not supported); "
                              "use float32 or bfloat16")
        self.dtype_name = dtype_name
        self.seed = int_param(params, "seed", 0)
        default_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        self.threads = int_param(params, "threads", default_threads, minimum=1)
        torch.set_num_threads(self.threads)

        torch.manual_seed(self.seed)
        random.seed(self.seed)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.model_path = model_path
        self.model, gguf = load_model(model_path, self.device, _DTYPES[dtype_name])
        self.fingerprint = {"fingerprint": gguf.fingerprint, "file_size": gguf.file_size}
        checkpointing = params.get("gradient_checkpointing", False)
        if not isinstance(checkpointing, bool):
            raise bad_request("gradient_checkpointing must be a boolean")
        self.model.gradient_checkpointing = checkpointing
        self.model.logprob_chunk = int_param(params, "logprob_chunk", DEFAULT_LOGPROB_CHUNK, minimum=0)
        for i in range(self.model.cfg.n_layer):
            for target in self.lora_cfg.targets:
                self.model.projection(i, target).attach(self.lora_cfg.rank, self.lora_cfg.scale, self.generator)
        self.params = trainable_parameters(self.model)
        self.trainer = GRPOTrainer(self.model, self.params, self.optim_cfg, self.device, self.generator)
        self.steps = 0

    # ---- info -------------------------------------------------------------------------------------------
    def info(self) -> Dict[str, Any]:
        cfg = self.model.cfg
        return {
            "device": str(self.device),
            "dtype": self.dtype_name,
            "arch": cfg.arch,
            "n_params": self.model.n_params,
            "trainable_params": sum(p.numel() for p in self.params),
            "vocab_size": cfg.vocab_size,
            "context_length": cfg.context_length,
            "n_layer": cfg.n_layer,
            "threads": self.threads,
            "lora": self.lora_cfg.to_dict(),
            "optim": self.optim_cfg.to_dict(),
            "torch_version": torch.__version__,
        }

    # ---- evaluation -------------------------------------------------------------------------------------
    def logprobs(self, params: Dict[str, Any]) -> Dict[str, Any]:
        """Per-token log-probs of tokens[1:] of every sequence (length len - 1), like the engine's logProbs."""
        check_keys(params, {"sequences", "mode"}, "logprobs")
        cfg = self.model.cfg
        samples = parse_sequences(params.get("sequences"), None, cfg.vocab_size, cfg.context_length)
        mode = params.get("mode", "policy")
        out: List[Optional[List[float]]] = [None] * len(samples)
        with torch.no_grad(), adapter_mode(self.model, mode):
            for group in micro_batches(samples, self.optim_cfg.micro_batch_tokens):
                seqs = [samples[i] for i in group]
                tokens, mask = pad_batch([s.tokens for s in seqs], [s.mask for s in seqs], self.device)
                flat = token_logprobs(self.model, tokens, mask)[0].double().cpu().tolist()
                pos = 0
                for i, s in zip(group, seqs):
                    n = len(s.tokens) - 1
                    out[i] = flat[pos:pos + n]
                    pos += n
        return {"logprobs": out}

    # ---- training ---------------------------------------------------------------------------------------
    def step(self, params: Dict[str, Any]) -> Dict[str, Any]:
        check_keys(params, {"batch", "lr_scale"}, "step")
        cfg = self.model.cfg
        samples = parse_batch(params.get("batch"), cfg.vocab_size, cfg.context_length)
        # The worker's per-stage warm-up: it knows where the curriculum stands, the learner does not.
        lr_scale = params.get("lr_scale", 1.0)
        if not isinstance(lr_scale, (int, float)) or isinstance(lr_scale, bool) or not 0 <= lr_scale <= 1:
            raise bad_request(f"lr_scale must be a number in [0, 1], got {lr_scale!r}")
        metrics = self.trainer.step(samples, float(lr_scale))
        self.steps += 1
        metrics["step"] = self.steps
        return metrics

    def pretrain(self, params: Dict[str, Any]) -> Dict[str, Any]:
        check_keys(params, {"sequences", "masks", "steps", "lr", "texts"}, "pretrain")
        if "texts" in params:
            raise bad_request("pretrain takes token ids (sequences): the learner never tokenises; "
                              "tokenise with the engine that serves the same GGUF")
        cfg = self.model.cfg
        samples = parse_sequences(params.get("sequences"), params.get("masks"), cfg.vocab_size, cfg.context_length)
        steps = int_param(params, "steps", 50, minimum=1)
        lr = params.get("lr", 1e-3)
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
            raise bad_request(f"lr must be a positive number, got {lr!r}")
        return pretrain(self.model, self.params, samples, steps, float(lr), self.optim_cfg.micro_batch_tokens,
                        self.device, self.optim_cfg.grad_clip)

    def reset(self, params: Dict[str, Any]) -> Dict[str, Any]:
        """Per-stage reset. reference: the current policy becomes the KL reference (a snapshot of the adapter;
        the policy keeps training from where it is). optimizer: fresh AdamW moments and warm-up."""
        check_keys(params, {"optimizer", "reference"}, "reset")
        for key in ("optimizer", "reference"):
            if key in params and not isinstance(params[key], bool):
                raise bad_request(f"reset.{key} must be a boolean")
        if params.get("reference", False):
            for m in lora_modules(self.model):
                m.snapshot_reference()
        if params.get("optimizer", False):
            self.trainer.reset_optimizer()
        return {"optimizer": bool(params.get("optimizer", False)), "reference": bool(params.get("reference", False))}

    # ---- files ------------------------------------------------------------------------------------------
    def export_adapter(self, params: Dict[str, Any]) -> Dict[str, Any]:
        check_keys(params, {"path", "dtype", "permute_qk"}, "export_adapter")
        path = params.get("path")
        if not isinstance(path, str) or not path:
            raise bad_request("export_adapter needs a path")
        permute = params.get("permute_qk", False)
        if not isinstance(permute, bool):
            raise bad_request("permute_qk must be a boolean")
        return export_adapter(self.model, self.lora_cfg, path, params.get("dtype", "f32"), permute)

    def save_state(self, params: Dict[str, Any]) -> Dict[str, Any]:
        check_keys(params, {"path"}, "save_state")
        path = params.get("path")
        if not isinstance(path, str) or not path:
            raise bad_request("save_state needs a path")
        reference = adapter_tensors(self.model, "reference")
        size = state_file.save(path, {
            "model": {"path": self.model_path, "arch": self.model.cfg.arch, **self.fingerprint},
            "lora": self.lora_cfg.to_dict(),
            "adapter": adapter_tensors(self.model, "policy"),
            "reference": reference if reference else None,
            "optimizer": self.trainer.optimizer.state_dict(),
            "updates": self.trainer.updates,
            "steps": self.steps,
            "rng": state_file.rng_state(self.generator),
        })
        return {"path": path, "bytes": size, "step": self.steps}

    def load_state(self, params: Dict[str, Any]) -> Dict[str, Any]:
        check_keys(params, {"path"}, "load_state")
        path = params.get("path")
        if not isinstance(path, str) or not path:
            raise bad_request("load_state needs a path")
        payload = state_file.load(path)
        model = payload.get("model", {})
        if model.get("fingerprint") != self.fingerprint["fingerprint"]:
            raise LearnerError("state_mismatch", f"{path} was saved for another model ({model.get('path')})")
        if payload.get("lora") != self.lora_cfg.to_dict():
            raise LearnerError("state_mismatch", f"{path} has LoRA {payload.get('lora')}, the learner has "
                                                 f"{self.lora_cfg.to_dict()}")
        load_adapter_tensors(self.model, payload["adapter"], "policy")
        load_adapter_tensors(self.model, payload["reference"] or {}, "reference")
        self.trainer.reset_optimizer()
        self.trainer.optimizer.load_state_dict(payload["optimizer"])
        self.trainer.updates = int(payload["updates"])
        self.steps = int(payload["steps"])
        state_file.restore_rng(payload["rng"], self.generator)
        return {"path": path, "step": self.steps}

    # ---- benchmark support -------------------------------------------------------------------------------
    def snapshot(self) -> Dict[str, Any]:
        return {"adapter": adapter_tensors(self.model, "policy"), "reference": adapter_tensors(self.model, "reference"),
                "optimizer": copy.deepcopy(self.trainer.optimizer.state_dict()), "updates": self.trainer.updates,
                "steps": self.steps}

    def restore(self, snap: Dict[str, Any]) -> None:
        load_adapter_tensors(self.model, snap["adapter"], "policy")
        load_adapter_tensors(self.model, snap["reference"], "reference")
        self.trainer.reset_optimizer()
        self.trainer.optimizer.load_state_dict(snap["optimizer"])
        self.trainer.updates = snap["updates"]
        self.steps = snap["steps"]
