import hashlib
import unittest

import torch

from icrl_learner.errors import LearnerError
from icrl_learner.export import permute_hf_to_gguf
from icrl_learner.gguf_reader import GGML_F16, GGML_F32, GGUFFile

from .helpers import TempDirTest, batch


class ExportTest(TempDirTest):
    def test_adapter_file_layout(self):
        learner = self.learner(self.model(arch="qwen3", dim=64, heads=4, kv_heads=2, head_dim=24, ff=96),
                               lora={"rank": 4, "alpha": 8, "targets": ["q", "v", "down"]})
        learner.step({"batch": batch()})
        out = self.path("sub/adapter.gguf")
        result = learner.export_adapter({"path": out})
        with open(out, "rb") as f:
            data = f.read()
        self.assertEqual(result["bytes"], len(data))
        self.assertEqual(result["sha256"], hashlib.sha256(data).hexdigest())

        g = GGUFFile(out)
        self.assertEqual(g.get("general.architecture"), "qwen3")
        self.assertEqual(g.get("general.type"), "adapter")
        self.assertEqual(g.get("adapter.type"), "lora")
        self.assertEqual(g.get("adapter.lora.alpha"), 8.0)
        self.assertIsInstance(g.get("adapter.lora.alpha"), float)
        expected_names = {f"blk.{i}.{t}.weight.lora_{ab}" for i in range(2)
                          for t in ("attn_q", "attn_v", "ffn_down") for ab in "ab"}
        self.assertEqual(set(g.tensors), expected_names)
        # ggml order: lora_a ne = [in, rank], lora_b ne = [rank, out]
        self.assertEqual(g.tensors["blk.0.attn_q.weight.lora_a"].ne, [64, 4])
        self.assertEqual(g.tensors["blk.0.attn_q.weight.lora_b"].ne, [4, 96])
        self.assertEqual(g.tensors["blk.1.attn_v.weight.lora_b"].ne, [4, 48])
        self.assertEqual(g.tensors["blk.1.ffn_down.weight.lora_a"].ne, [96, 4])
        for i in range(2):
            m = learner.model.projection(i, "q")
            self.assertTrue(torch.equal(g.load(f"blk.{i}.attn_q.weight.lora_a"), m.lora_a.detach()))
            self.assertTrue(torch.equal(g.load(f"blk.{i}.attn_q.weight.lora_b"), m.lora_b.detach()))
        self.assertTrue(all(t.ggml_type == GGML_F32 for t in g.tensors.values()))

    def test_f16_and_permuted_exports(self):
        learner = self.learner(self.model(dim=64, heads=4, kv_heads=2), lora={"rank": 2, "alpha": 2})
        learner.step({"batch": batch()})
        g = GGUFFile(learner.export_adapter({"path": self.path("a16.gguf"), "dtype": "f16"})["path"])
        self.assertTrue(all(t.ggml_type == GGML_F16 for t in g.tensors.values()))
        g = GGUFFile(learner.export_adapter({"path": self.path("perm.gguf"), "permute_qk": True})["path"])
        b_k = learner.model.projection(0, "k").lora_b.detach()
        self.assertTrue(torch.equal(g.load("blk.0.attn_k.weight.lora_b"), permute_hf_to_gguf(b_k, 2)))
        b_v = learner.model.projection(0, "v").lora_b.detach()
        self.assertTrue(torch.equal(g.load("blk.0.attn_v.weight.lora_b"), b_v))  # only q/k are permuted

    def test_permutation_is_refused_for_qwen(self):
        learner = self.learner(self.model(arch="qwen2"))
        with self.assertRaises(LearnerError):
            learner.export_adapter({"path": self.path("x.gguf"), "permute_qk": True})


if __name__ == "__main__":
    unittest.main()
