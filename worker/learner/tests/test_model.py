import math
import unittest

import torch

from icrl_learner.export import permute_hf_to_gguf
from icrl_learner.lora import adapter_mode
from icrl_learner.model import load_model, pad_batch, token_logprobs
from icrl_learner.rope import Rope

from .helpers import TempDirTest, random_tokens


def unpermute(w: torch.Tensor, n_head: int) -> torch.Tensor:
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).transpose(1, 2).reshape(w.shape)


def logprobs(model, seqs):
    tokens, mask = pad_batch(seqs, [[0] + [1] * (len(s) - 1) for s in seqs], torch.device("cpu"))
    with torch.no_grad():
        return token_logprobs(model, tokens, mask)[0]


class HFLayoutTest(TempDirTest):
    """llama.cpp's converter permutes llama q/k rows so that its "norm" RoPE (adjacent pairs) on GGUF rows
    equals Hugging Face's rotate-half RoPE on the original rows. Checking that equivalence here pins down
    both the RoPE implementation and the permutation used for HF-ordered LoRA B matrices."""

    def setUp(self):
        super().setUp()
        self.net, _ = load_model(self.model(dim=64, heads=4, kv_heads=2), torch.device("cpu"))
        self.seq = [random_tokens(40, 3)]

    def to_hf(self):
        cfg = self.net.cfg
        for block in self.net.blocks:
            block.attn_q.weight = unpermute(block.attn_q.weight, cfg.n_head)
            block.attn_k.weight = unpermute(block.attn_k.weight, cfg.n_head_kv)
        self.net.blocks[0].rope.rope_type = "neox"  # one Rope object is shared by all blocks

    def test_norm_rope_on_gguf_rows_equals_neox_on_hf_rows(self):
        gguf_lp = logprobs(self.net, self.seq)
        self.to_hf()
        hf_lp = logprobs(self.net, self.seq)
        self.assertLess((gguf_lp - hf_lp).abs().max().item(), 1e-4)
        self.net.blocks[0].rope.rope_type = "norm"  # HF rows with the wrong rope: clearly different
        self.assertGreater((gguf_lp - logprobs(self.net, self.seq)).abs().max().item(), 0.1)

    def test_hf_ordered_lora_b_needs_the_converter_permutation(self):
        cfg = self.net.cfg
        g = torch.Generator().manual_seed(1)
        hf_b = {}
        for i, block in enumerate(self.net.blocks):
            for target, heads in (("q", cfg.n_head), ("k", cfg.n_head_kv)):
                m = self.net.projection(i, target)
                m.attach(4, 2.0, g)
                with torch.no_grad():
                    m.lora_b.copy_(torch.randn(m.lora_b.shape, generator=g) * 0.2)
                hf_b[(i, target)] = (m.lora_b.detach().clone(), heads)
        self.to_hf()
        hf_lp = logprobs(self.net, self.seq)  # HF rows, HF-ordered B
        for block in self.net.blocks:
            block.attn_q.weight = permute_hf_to_gguf(block.attn_q.weight, cfg.n_head)
            block.attn_k.weight = permute_hf_to_gguf(block.attn_k.weight, cfg.n_head_kv)
        self.net.blocks[0].rope.rope_type = "norm"
        with torch.no_grad():
            for (i, target), (b, heads) in hf_b.items():
                self.net.projection(i, target).lora_b.copy_(permute_hf_to_gguf(b, heads))
        self.assertLess((hf_lp - logprobs(self.net, self.seq)).abs().max().item(), 1e-4)


class ForwardTest(TempDirTest):
    def test_right_padding_does_not_change_logprobs(self):
        model, _ = load_model(self.model(arch="qwen2"), torch.device("cpu"))
        a, b = random_tokens(30, 1), random_tokens(9, 2)
        together = logprobs(model, [a, b])
        alone = torch.cat([logprobs(model, [a]), logprobs(model, [b])])
        self.assertLess((together - alone).abs().max().item(), 1e-5)

    def test_tied_output_reuses_the_embedding(self):
        model, _ = load_model(self.model(tied=True), torch.device("cpu"))
        self.assertIs(model.output, model.token_embd)
        untied, _ = load_model(self.model("untied.gguf"), torch.device("cpu"))
        self.assertIsNot(untied.output, untied.token_embd)
        self.assertEqual(untied.n_params - model.n_params, untied.output.numel())

    def test_qwen3_head_norms_and_qwen2_biases_take_part(self):
        for arch, tensor in (("qwen3", "attn_q_norm"), ("qwen2", "attn_q")):
            model, _ = load_model(self.model(f"{arch}.gguf", arch=arch), torch.device("cpu"))
            seq = [random_tokens(20, 4)]
            before = logprobs(model, seq)
            block = model.blocks[0]
            if arch == "qwen3":
                block.attn_q_norm = block.attn_q_norm * 2
            else:
                block.attn_q.bias = block.attn_q.bias + 1.0
            self.assertGreater((before - logprobs(model, seq)).abs().max().item(), 1e-3, arch)

    def test_adapter_modes(self):
        model, _ = load_model(self.model(), torch.device("cpu"))
        m = model.projection(0, "v")
        m.attach(2, 1.0, torch.Generator().manual_seed(0))
        seq = [random_tokens(16, 5)]
        base = logprobs(model, seq)
        with torch.no_grad():
            m.lora_b.fill_(0.5)
        policy = logprobs(model, seq)
        self.assertGreater((policy - base).abs().max().item(), 1e-3)
        for mode in ("reference", "base"):  # no reference snapshot yet: the reference is the base model
            with adapter_mode(model, mode):
                self.assertTrue(torch.equal(logprobs(model, seq), base), mode)
        m.snapshot_reference()
        with adapter_mode(model, "reference"):
            self.assertTrue(torch.equal(logprobs(model, seq), policy))
        self.assertEqual(m.mode, "policy")


class RopeTableTest(unittest.TestCase):
    def test_angles_match_the_closed_form(self):
        rope = Rope(64, "neox", 10000.0, 1.0)
        cos, sin = rope._table(4096, torch.device("cpu"), torch.float32)
        pos = torch.arange(4096, dtype=torch.float64)[:, None]
        inv = 10000.0 ** (-2.0 * torch.arange(32, dtype=torch.float64) / 64)
        exact = pos * inv
        self.assertLess((cos.double() - exact.cos()).abs().max().item(), 2e-3)
        self.assertLess((sin.double() - exact.sin()).abs().max().item(), 2e-3)
        self.assertAlmostEqual(cos[1, 0].item(), math.cos(1.0), places=6)


if __name__ == "__main__":
    unittest.main()
