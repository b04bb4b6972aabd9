"""Pre-training over the tokens the data uses, exact for a model whose other output rows are zero.

A tiny model with a real tokenizer has ~152k output rows and a body of ~0.4M weights: the output layer
is nearly all of each pre-training step (about 3 s of 3 here, forward and backward over every row). The
lookup data uses a few thousand of those tokens. If every row the data never uses is zero, each of
those tokens has logit exactly 0, so the full softmax's normaliser is the seen tokens' terms plus
(vocab - seen) * exp(0): computed in closed form, the loss over the seen rows alone IS the full
vocabulary's loss, at a small fraction of the cost. The model written back has those zero rows (tied
embeddings: a token never seen in pre-training also enters as a zero vector), and everything that reads
it later (engine, learner, agreement checks) sees the full vocabulary.
"""

from __future__ import annotations

import math
from typing import List, Tuple

import torch

from .batching import Sample
from .errors import unsupported


class SeenVocabulary:
    def __init__(self, samples: List[Sample], vocab_size: int):
        seen = sorted({t for s in samples for t in s.tokens})
        self.vocab_size = vocab_size
        self.rows = torch.tensor(seen, dtype=torch.long)
        self.compact_id = torch.full((vocab_size,), -1, dtype=torch.long)
        self.compact_id[self.rows] = torch.arange(len(seen))
        unseen = vocab_size - len(seen)
        # log of the unseen rows' share of the normaliser: unseen * exp(0).
        self.log_unseen_mass = math.log(unseen) if unseen else float("-inf")

    def compact_samples(self, samples: List[Sample]) -> List[Sample]:
        return [Sample(tokens=self.compact_id[torch.tensor(s.tokens)].tolist(), mask=s.mask) for s in samples]

    def compact_rows(self, full: torch.Tensor) -> torch.Tensor:
        return full[self.rows].clone()

    def expand_rows(self, full: torch.Tensor, compact: torch.Tensor, zero_unseen: bool) -> torch.Tensor:
        """The full matrix with the trained rows in place; unseen rows zero where they are output rows."""
        out = torch.zeros_like(full) if zero_unseen else full.clone()
        out[self.rows] = compact.detach()
        return out

    def logprobs(self, model, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """token_logprobs of the full-vocabulary model, from a model holding only the seen rows."""
        if model.output_bias is not None:
            raise unsupported("pre-training over the seen vocabulary needs an output layer without bias")
        h = model.hidden(tokens)[:, :-1]
        sel = mask[:, 1:]
        logits = model.logits(h[sel])
        unseen = torch.full((logits.shape[0], 1), self.log_unseen_mass, dtype=logits.dtype)
        log_norm = torch.logsumexp(torch.cat([logits, unseen], dim=-1), dim=-1)
        return logits.gather(-1, tokens[:, 1:][sel][:, None]).squeeze(-1) - log_norm


def seen_vocabulary(samples: List[Sample], vocab_size: int) -> Tuple[SeenVocabulary, List[Sample]]:
    vocab = SeenVocabulary(samples, vocab_size)
    return vocab, vocab.compact_samples(samples)
