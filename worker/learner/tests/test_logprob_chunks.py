"""token_logprobs in chunks of positions (model.logprob_chunk) gives what the whole batch at once gives:
log-probs, entropies and the gradients of a loss on both, with activation checkpointing recomputing each
chunk's logits in backward."""

import torch

from icrl_learner.lora import trainable_parameters
from icrl_learner.model import DEFAULT_LOGPROB_CHUNK, load_model, pad_batch, token_logprobs

from .helpers import TempDirTest, random_tokens

VOCAB = 2000


class LogprobChunkTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.net, _ = load_model(self.model(vocab=VOCAB), torch.device("cpu"))
        generator = torch.Generator().manual_seed(0)
        for block in range(self.net.cfg.n_layer):
            for target in ("q", "v"):
                self.net.projection(block, target).attach(2, 1.0, generator)
        self.params = trainable_parameters(self.net)
        with torch.no_grad():
            for p in self.params:  # B starts at zero: give the adapter a gradient path through A too
                p.normal_(0, 0.05, generator=generator)
        # Two rows of different lengths (padding included), masks with gaps: 78 selected positions.
        seqs = [random_tokens(60, 1, VOCAB), random_tokens(41, 2, VOCAB)]
        masks = [[0] * 10 + [1] * 30 + [0] * 5 + [1] * 15, [0] * 8 + [1] * 33]
        self.tokens, self.mask = pad_batch(seqs, masks, torch.device("cpu"))
        self.selected = int(self.mask[:, 1:].sum())

    def run_with(self, chunk):
        self.net.logprob_chunk = chunk
        for p in self.params:
            p.grad = None
        logp, entropy = token_logprobs(self.net, self.tokens, self.mask, with_entropy=True)
        # A GRPO-like loss on both outputs, with per-position weights so every position's gradient counts.
        weights = torch.linspace(-1.0, 1.0, logp.shape[0])
        (-(weights * logp).sum() - 0.01 * entropy.sum()).backward()
        return logp.detach(), entropy.detach(), [p.grad.clone() for p in self.params]

    def test_chunks_give_the_unchunked_values_and_gradients(self):
        self.assertEqual(self.selected, 78)
        logp, entropy, grads = self.run_with(0)
        for chunk in (1, 16, 32, 77, 78, 512):
            c_logp, c_entropy, c_grads = self.run_with(chunk)
            self.assertEqual(c_logp.shape, logp.shape, chunk)
            torch.testing.assert_close(c_logp, logp, rtol=1e-5, atol=1e-6, msg=f"log-probs, chunk {chunk}")
            torch.testing.assert_close(c_entropy, entropy, rtol=1e-5, atol=1e-6, msg=f"entropy, chunk {chunk}")
            for g, c in zip(grads, c_grads):
                torch.testing.assert_close(c, g, rtol=1e-4, atol=1e-7, msg=f"gradients, chunk {chunk}")
        self.assertGreater(max(g.abs().max().item() for g in grads), 1e-4)  # the gradients are not all zero

    def test_no_grad_needs_no_recompute_and_agrees(self):
        self.net.logprob_chunk = 0
        with torch.no_grad():
            whole = token_logprobs(self.net, self.tokens, self.mask)[0]
        self.net.logprob_chunk = 7
        with torch.no_grad():
            chunked, entropy = token_logprobs(self.net, self.tokens, self.mask)
        self.assertIsNone(entropy)
        torch.testing.assert_close(chunked, whole, rtol=1e-5, atol=1e-6)

    def test_the_learner_takes_the_chunk_size_from_init(self):
        path = self.model(vocab=VOCAB)
        self.assertEqual(self.learner(path).model.logprob_chunk, DEFAULT_LOGPROB_CHUNK)
        self.assertEqual(self.learner(path, logprob_chunk=0).model.logprob_chunk, 0)
        with self.assertRaisesRegex(Exception, "logprob_chunk must be an integer >= 0"):
            self.learner(path, logprob_chunk=-1)
