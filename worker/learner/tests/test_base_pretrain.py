import os
import unittest

import torch

from icrl_learner.base_pretrain import pretrain_base
from icrl_learner.errors import LearnerError
from icrl_learner.gguf_reader import GGUFFile
from icrl_learner.batching import Sample
from icrl_learner.config import config_from_gguf
from icrl_learner.model import GGUFModel, causal_attention, load_model, pad_batch, token_logprobs
from icrl_learner.seen_vocabulary import seen_vocabulary

from .helpers import TempDirTest


def mean_nll(path, seqs):
    model, _ = load_model(path, torch.device("cpu"))
    tokens, mask = pad_batch(seqs, [[0] + [1] * (len(s) - 1) for s in seqs], torch.device("cpu"))
    with torch.no_grad():
        return -token_logprobs(model, tokens, mask)[0].mean().item()


class BasePretrainTest(TempDirTest):
    def test_trains_every_weight_and_keeps_the_header(self):
        src = self.model(dim=32, ff=64, tied=True, seed=3)
        out = self.path("trained.gguf")
        # A pattern only learnable by the model itself: each sequence repeats a random 5-token motif.
        g = torch.Generator().manual_seed(0)
        seqs = [torch.randint(0, 200, (5,), generator=g).tolist() * 6 for _ in range(24)]
        result = pretrain_base({"model_path": src, "out_path": out, "sequences": seqs, "steps": 60, "lr": 1e-2,
                                "batch_size": 8, "threads": 1})
        self.assertLess(result["loss_last"], result["loss_first"] * 0.7)
        self.assertLess(mean_nll(out, seqs), mean_nll(src, seqs) * 0.7)
        a, b = GGUFFile(src), GGUFFile(out)
        self.assertEqual(a.metadata, b.metadata)
        self.assertEqual({n: (i.ne, i.ggml_type, i.offset) for n, i in a.tensors.items()},
                         {n: (i.ne, i.ggml_type, i.offset) for n, i in b.tensors.items()})
        self.assertEqual(os.path.getsize(src), os.path.getsize(out))
        changed = [n for n in a.tensors if not torch.equal(a.load(n), b.load(n))]
        self.assertEqual(sorted(changed), sorted(a.tensors))  # norms and embeddings too, not only projections

    def test_unseen_rows_zero_trains_the_seen_rows_with_the_full_vocabulary_loss(self):
        g = torch.Generator().manual_seed(0)
        seqs = [torch.randint(40, 90, (5,), generator=g).tolist() * 6 for _ in range(24)]
        seen = sorted({t for s in seqs for t in s})
        for tied in (True, False):
            src = self.model(dim=32, ff=64, tied=tied, seed=3)
            out = self.path(f"trained-{tied}.gguf")
            result = pretrain_base({"model_path": src, "out_path": out, "sequences": seqs, "steps": 60, "lr": 1e-2,
                                    "batch_size": 8, "threads": 1, "unseen_rows": "zero"})
            self.assertEqual(result["seen_tokens"], len(seen))
            self.assertLess(mean_nll(out, seqs), mean_nll(src, seqs) * 0.7)  # scored over every row
            a, b = GGUFFile(src), GGUFFile(out)
            unseen = torch.ones(a.tensors["token_embd.weight"].ne[1], dtype=torch.bool)
            unseen[seen] = False
            output = "token_embd.weight" if tied else "output.weight"
            self.assertTrue(torch.all(b.load(output)[unseen] == 0))
            self.assertFalse(torch.equal(a.load(output)[seen], b.load(output)[seen]))
            if not tied:  # input rows of tokens never seen are neither trained nor zeroed
                self.assertTrue(torch.equal(a.load("token_embd.weight")[unseen], b.load("token_embd.weight")[unseen]))

            # Exactness: the seen rows' loss with the unseen mass in closed form = the full model's log-probs.
            samples = [Sample(tokens=s, mask=[0] + [1] * (len(s) - 1)) for s in seqs]
            vocab, compact = seen_vocabulary(samples, a.tensors["token_embd.weight"].ne[1])
            full_model, _ = load_model(out, torch.device("cpu"))
            rows = {"token_embd.weight", "output.weight"}
            small = GGUFModel(config_from_gguf(b), lambda n: None if not b.has(n) else
                              (vocab.compact_rows(b.load(n)) if n in rows else b.load(n)))
            with torch.no_grad():
                expected = token_logprobs(full_model, *pad_batch([s.tokens for s in samples], [s.mask for s in samples],
                                                                 torch.device("cpu")))[0]
                got = vocab.logprobs(small, *pad_batch([s.tokens for s in compact], [s.mask for s in compact],
                                                       torch.device("cpu")))
            self.assertLess((got - expected).abs().max().item(), 1e-5)

    def test_refuses_quantised_models(self):
        src = self.model(dim=32, ff=64, type="q8_0")
        with self.assertRaises(LearnerError) as ctx:
            pretrain_base({"model_path": src, "out_path": self.path("x.gguf"), "sequences": [[1, 2, 3]], "steps": 1})
        self.assertIn("F32/F16", ctx.exception.message)
        with self.assertRaises(LearnerError) as ctx:
            pretrain_base({"model_path": self.model(dim=32, ff=64), "out_path": self.path("y.gguf"),
                           "sequences": [[1, 2, 3]], "steps": 1, "unseen_rows": "drop"})
        self.assertIn("unseen_rows", ctx.exception.message)
        self.assertFalse(os.path.exists(self.path("x.gguf")))


class BlockedAttentionTest(unittest.TestCase):
    def test_equals_one_full_causal_pass(self):
        g = torch.Generator().manual_seed(1)
        q, k, v = (torch.randn(2, 3, 150, 8, generator=g) for _ in range(3))
        scores = torch.matmul(q, k.transpose(-1, -2)) * 0.3
        scores = scores.masked_fill(torch.ones(150, 150, dtype=torch.bool).triu(1), float("-inf"))
        expected = torch.matmul(torch.softmax(scores, dim=-1), v)
        self.assertLess((causal_attention(q, k, v, 0.3) - expected).abs().max().item(), 1e-5)


if __name__ == "__main__":
    unittest.main()
