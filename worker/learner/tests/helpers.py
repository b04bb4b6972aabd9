"""Shared fixtures: tiny models in a temporary directory and small batches."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import unittest
from typing import Any, Dict, List, Tuple

import torch

from icrl_learner.learner import Learner

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# The learner is checked against the same model files the engine is: the project's one tiny-model writer.
ICRL_BIN = os.path.join(REPO_ROOT, "bin", "icrl.js")
# A fixed 0.08 init with non-trivial norms (a misplaced norm shows), small enough for fast steps.
MODEL_DEFAULTS = {"dim": 64, "ff": 128, "context": 512, "seed": 0, "std": 0.08}

_model_cache: Dict[Tuple[str, ...], str] = {}
_cache_dir = tempfile.mkdtemp(prefix="icrl-learner-models-")
atexit.register(shutil.rmtree, _cache_dir, True)


def tiny_model_file(**options: Any) -> str:
    """Path of a model written by `icrl model tiny` (options as its flags: arch="qwen3", kv_heads=2, tied=True).

    Each distinct model is written once per run: starting node costs seconds on a busy machine.
    """
    args: List[str] = []
    for key, value in sorted({**MODEL_DEFAULTS, **options}.items()):
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value is not False and value is not None:
            args += [flag, str(value)]
    key = tuple(args)
    if key not in _model_cache:
        out = os.path.join(_cache_dir, f"model-{len(_model_cache)}.gguf")
        run = subprocess.run([os.environ.get("ICRL_NODE", "node"), ICRL_BIN, "model", "tiny", "--out", out, *args],
                             capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            raise RuntimeError(f"icrl model tiny {' '.join(args)} failed: {run.stderr.strip()}")
        _model_cache[key] = out
    return _model_cache[key]


class TempDirTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="icrl-learner-test-")

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name: str) -> str:
        return os.path.join(self.tmp, name)

    def model(self, name: str = "model.gguf", **spec: Any) -> str:
        path = self.path(name)
        shutil.copyfile(tiny_model_file(**spec), path)
        return path

    def learner(self, model_path: str, lora: Dict[str, Any] = None, optim: Dict[str, Any] = None, **extra: Any) -> Learner:
        # One thread: tiny matmuls only lose to OpenMP synchronisation, badly so on a busy 2-core machine.
        params = {"model_path": model_path, "lora": lora or {"rank": 4, "alpha": 8}, "optim": optim or {"lr": 1e-2},
                  "device": "cpu", "threads": 1, **extra}
        return Learner(params)


def random_tokens(n: int, seed: int, vocab: int = 256) -> List[int]:
    return torch.randint(0, vocab, (n,), generator=torch.Generator().manual_seed(seed)).tolist()


def batch(seeds=(1, 2, 3, 4), length: int = 24, prompt: int = 12, advantages=(1.0, -1.0, 0.5, -0.5)) -> List[Dict[str, Any]]:
    return [{"tokens": random_tokens(length, s), "mask": [0] * prompt + [1] * (length - prompt), "advantage": a}
            for s, a in zip(seeds, advantages)]


def masked_logprob_sum(learner: Learner, item: Dict[str, Any], mode: str = "policy") -> float:
    lp = learner.logprobs({"sequences": [item["tokens"]], "mode": mode})["logprobs"][0]
    return sum(v for v, m in zip(lp, item["mask"][1:]) if m)
