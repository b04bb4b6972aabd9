import unittest

import torch

from icrl_learner.errors import LearnerError
from icrl_learner.gguf_reader import GGML_BF16, GGML_F16, GGML_F32, GGML_Q8_0, T_FLOAT32, T_INT32, T_STRING, GGUFFile
from icrl_learner.gguf_writer import RawTensor, array, f32, i32, u32, write_gguf
from icrl_learner.model import load_model

from .helpers import TempDirTest


class GGUFReadTest(TempDirTest):
    def write_types(self):
        g = torch.Generator().manual_seed(0)
        self.values = torch.randn(3, 64, generator=g) * 2.0
        path = self.path("types.gguf")
        write_gguf(path, [
            ("general.architecture", "llama"),
            ("test.u32", u32(7)),
            ("test.i32", i32(-5)),
            ("test.f32", f32(0.25)),
            ("test.flag", True),
            ("test.strings", array(T_STRING, ["a", "bé", ""])),
            ("test.ints", array(T_INT32, [1, -2, 3])),
            ("test.floats", array(T_FLOAT32, [0.5, 1.5])),
        ], [
            ("t.f32", self.values, GGML_F32),
            ("t.f16", self.values, GGML_F16),
            ("t.bf16", self.values, GGML_BF16),
            ("t.q8_0", self.values, GGML_Q8_0),
            ("t.vec", torch.arange(5, dtype=torch.float32), GGML_F32),
        ])
        return GGUFFile(path)

    def test_metadata_round_trips_with_types(self):
        g = self.write_types()
        self.assertEqual(g.get("test.u32"), 7)
        self.assertEqual(g.get("test.i32"), -5)
        self.assertEqual(g.get("test.f32"), 0.25)
        self.assertIs(g.get("test.flag"), True)
        self.assertEqual(g.get("test.strings"), ["a", "bé", ""])
        self.assertEqual(g.get("test.ints"), [1, -2, 3])
        self.assertEqual(g.get("test.floats"), [0.5, 1.5])

    def test_shapes_follow_ggml_order(self):
        g = self.write_types()
        self.assertEqual(g.tensors["t.f32"].ne, [64, 3])  # ne[0] is the innermost dimension
        self.assertEqual(list(g.load("t.f32").shape), [3, 64])
        self.assertEqual(list(g.load("t.vec").shape), [5])
        for name in g.tensors:
            self.assertEqual(g.tensors[name].offset % 32, 0, name)

    def test_float_types_decode_exactly(self):
        g = self.write_types()
        self.assertTrue(torch.equal(g.load("t.f32"), self.values))
        self.assertTrue(torch.equal(g.load("t.f16"), self.values.half().float()))
        self.assertTrue(torch.equal(g.load("t.bf16"), self.values.bfloat16().float()))

    def test_q8_0_dequantises_blocks_of_32(self):
        g = self.write_types()
        got = g.load("t.q8_0")
        blocks = self.values.reshape(-1, 32)
        amax = blocks.abs().amax(dim=1, keepdim=True)
        # Each value is within half a quantisation step (plus the f16 rounding of the scale).
        err = (got.reshape(-1, 32) - blocks).abs()
        self.assertTrue(bool((err <= amax / 127 * 0.51 + 1e-3).all()))
        # And it is exactly d * q with d the stored f16 scale.
        scale = (amax / 127).half().float()
        self.assertTrue(torch.allclose(got.reshape(-1, 32) / scale, torch.round(got.reshape(-1, 32) / scale), atol=1e-3))

    def test_unsupported_tensor_type_is_named(self):
        path = self.path("q4.gguf")
        write_gguf(path, [("general.architecture", "llama")], [("t.q4", RawTensor([64], bytes(36)), 2)])
        with self.assertRaises(LearnerError) as ctx:
            GGUFFile(path).load("t.q4")
        self.assertEqual(ctx.exception.code, "unsupported_model")
        self.assertIn("Q4_0", ctx.exception.message)

    def test_truncated_and_foreign_files_raise_io_errors(self):
        path = self.model()
        with open(path, "rb") as f:
            data = f.read()
        truncated = self.path("truncated.gguf")
        with open(truncated, "wb") as f:
            f.write(data[: len(data) - 1000])
        with self.assertRaises(LearnerError) as ctx:
            load_model(truncated, torch.device("cpu"))
        self.assertEqual(ctx.exception.code, "io_error")
        foreign = self.path("foreign.bin")
        with open(foreign, "wb") as f:
            f.write(b"PK\x03\x04" + bytes(100))
        with self.assertRaises(LearnerError) as ctx:
            GGUFFile(foreign)
        self.assertIn("not a GGUF", ctx.exception.message)
        with self.assertRaises(LearnerError) as ctx:
            GGUFFile(self.path("missing.gguf"))
        self.assertEqual(ctx.exception.code, "io_error")


class ModelFileChecksTest(TempDirTest):
    def rewrite(self, path, drop=(), meta=None):
        g = GGUFFile(path)
        metadata = [(k, _typed_like(g, k)) for k in g.metadata]
        if meta:
            metadata = [(k, meta.get(k, v)) for k, v in metadata]
        tensors = [(n, g.load(n), GGML_F32) for n in g.tensors if n not in drop]
        out = self.path("rewritten.gguf")
        write_gguf(out, metadata, tensors)
        return out

    def test_unsupported_architecture_is_named(self):
        path = self.rewrite(self.model(), meta={"general.architecture": "gemma"})
        with self.assertRaises(LearnerError) as ctx:
            load_model(path, torch.device("cpu"))
        self.assertEqual(ctx.exception.code, "unsupported_model")
        self.assertIn("gemma", ctx.exception.message)

    def test_missing_tensor_is_named(self):
        path = self.rewrite(self.model(), drop=("blk.1.ffn_up.weight",))
        with self.assertRaises(LearnerError) as ctx:
            load_model(path, torch.device("cpu"))
        self.assertIn("blk.1.ffn_up.weight", ctx.exception.message)

    def test_all_weight_types_load(self):
        ref = None
        for wt in ("f32", "f16", "bf16", "q8_0"):
            model, _ = load_model(self.model(f"{wt}.gguf", type=wt), torch.device("cpu"))
            w = model.blocks[0].attn_q.weight
            self.assertEqual(w.dtype, torch.float32)
            if ref is None:
                ref = w
            else:  # the same seeded weights, rounded by each format
                self.assertLess((w - ref).abs().max().item(), 0.01, wt)


def _typed_like(g, key):
    """Re-wrap a read value with the type a strict reader expects (enough for the tiny models)."""
    v = g.metadata[key]
    if key == "tokenizer.ggml.token_type":
        return array(T_INT32, v)
    if key in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges"):
        return array(T_STRING, v)
    if isinstance(v, float):
        return f32(v)
    return v


if __name__ == "__main__":
    unittest.main()
