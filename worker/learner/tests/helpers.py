"""Shared fixtures: tiny models in a temporary directory and small batches."""

from __future__ import annotations

import os
import shutil
import tempfile
import unittest
from typing import Any, Dict, List

import torch

from icrl_learner.learner import Learner
from icrl_learner.tiny_model import TinySpec, write_tiny_model


class TempDirTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="icrl-learner-test-")

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name: str) -> str:
        return os.path.join(self.tmp, name)

    def model(self, name: str = "model.gguf", **spec: Any) -> str:
        path = self.path(name)
        write_tiny_model(path, TinySpec(**spec))
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
