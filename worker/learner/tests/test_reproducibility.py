"""Same inputs, same bytes, in any process: base pre-training and GRPO steps.

Python salts its string hashes per process (PYTHONHASHSEED), so anything that iterates a set of tensor
names can change the order of a floating-point sum from one run to the next. Within one process that
never shows; it is why these checks run each side in its own interpreter with a different salt.
"""

import hashlib
import json
import os
import subprocess
import sys

from .helpers import TempDirTest, batch

LEARNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_PRETRAIN = """
import json, sys
from icrl_learner.base_pretrain import pretrain_base
params = json.loads(sys.argv[1])
print(json.dumps(pretrain_base(params)["loss_last"]))
"""

_GRPO = """
import json, sys
from icrl_learner.learner import Learner
params = json.loads(sys.argv[1])
learner = Learner(params["init"])
for _ in range(3):
    learner.step({"batch": params["batch"]})
learner.export_adapter({"path": params["out"]})
"""


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class ReproducibilityTest(TempDirTest):
    def run_in_process(self, script, params, hash_seed):
        env = dict(os.environ, PYTHONPATH=LEARNER_DIR, PYTHONHASHSEED=str(hash_seed))
        proc = subprocess.run([sys.executable, "-c", script, json.dumps(params)], env=env, capture_output=True,
                              text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])

    def test_base_pretraining_gives_the_same_bytes_in_any_process(self):
        # Untied output and two layers: many tensors, so a varying order would show in the norm's sum.
        src = self.model(dim=32, ff=64, layers=2, seed=5)
        seqs = [[(7 * i + j) % 200 for j in range(40 + i)] for i in range(16)]
        outs = []
        for hash_seed in (1, 2, 3):
            out = self.path(f"pretrained-{hash_seed}.gguf")
            self.run_in_process(_PRETRAIN, {"model_path": src, "out_path": out, "sequences": seqs, "steps": 12,
                                            "batch_size": 4, "seed": 9, "threads": 1}, hash_seed)
            outs.append(sha256(out))
        self.assertNotEqual(outs[0], sha256(src))
        self.assertEqual(len(set(outs)), 1, outs)

    def test_grpo_steps_give_the_same_adapter_in_any_process(self):
        src = self.model(dim=32, ff=64, layers=2, seed=6)
        outs = []
        for hash_seed in (1, 2):
            out = self.path(f"adapter-{hash_seed}.gguf")
            init = {"model_path": src, "lora": {"rank": 2}, "optim": {"lr": 1e-2}, "seed": 4, "threads": 1}
            self.run_in_process(_GRPO, {"init": init, "batch": batch(), "out": out}, hash_seed)
            outs.append(sha256(out))
        self.assertEqual(outs[0], outs[1])
