"""Peak memory of one GRPO step on one long sequence: `python3 -m icrl_learner.memory_probe MODEL TOKENS CHUNK`.

Run in a fresh process per measurement (bench/learner-memory.ts), since ru_maxrss only ever grows. The
step trains every position of one TOKENS-long sequence (mask 1 everywhere but the first token) with the
GRPO loss, entropy bonus included, the learner's log-probs computed CHUNK positions at a time (0: all at
once). Prints one JSON line: peak RSS after loading and after the step, the step's time, or the error
when the step could not allocate its memory. An address-space cap (ICRL_PROBE_MAX_GB, default 16)
makes an oversized step fail in this process instead of waking the kernel's OOM killer on a shared machine.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import torch

from .batching import Sample
from .learner import Learner


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main(argv: list) -> int:
    model_path, n_tokens, chunk = argv[0], int(argv[1]), int(argv[2])
    cap_gb = float(os.environ.get("ICRL_PROBE_MAX_GB", "16"))
    cap = int(cap_gb * 2 ** 30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    learner = Learner({"model_path": model_path, "lora": {"rank": 8, "alpha": 16}, "optim": {"lr": 1e-3},
                       "device": "cpu", "threads": int(os.environ.get("ICRL_PROBE_THREADS", "1")), "logprob_chunk": chunk})
    vocab = learner.model.cfg.vocab_size
    tokens = torch.randint(0, vocab, (n_tokens,), generator=torch.Generator().manual_seed(0)).tolist()
    sample = Sample(tokens, [0] + [1] * (n_tokens - 1), 1.0)
    loaded = peak_rss_mb()
    result = {"tokens": n_tokens, "chunk": chunk, "vocab": vocab, "address_space_cap_gb": cap_gb, "loaded_peak_rss_mb": round(loaded)}
    started = time.perf_counter()
    try:
        learner.trainer.step([sample])
        result["step_s"] = round(time.perf_counter() - started, 2)
        result["peak_rss_mb"] = round(peak_rss_mb())
    except (MemoryError, RuntimeError) as error:  # torch reports a failed CPU allocation as RuntimeError
        result["error"] = str(error).splitlines()[0][:200]
        result["peak_rss_mb_before_failing"] = round(peak_rss_mb())
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
