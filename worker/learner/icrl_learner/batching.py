"""Validation of what the worker sends (token ids, masks, advantages) and grouping into micro-batches."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence

from .errors import bad_request


@dataclass
class Sample:
    tokens: List[int]
    # mask[i] = 1 trains token i (predicted from tokens[:i]); mask[0] must be 0.
    mask: List[int]
    advantage: float = 0.0

    @property
    def n_trained(self) -> int:
        return sum(self.mask)

    def trimmed(self) -> "Sample":
        """Without the tokens after the last trained one: under a causal mask they cannot influence any
        trained position, so training never needs to run the model over them."""
        last = max((i for i, m in enumerate(self.mask) if m), default=0)
        if last == len(self.tokens) - 1:
            return self
        return Sample(self.tokens[: last + 1], self.mask[: last + 1], self.advantage)


def _token_list(value: Any, what: str, vocab_size: int, max_len: int) -> List[int]:
    if not isinstance(value, list) or len(value) < 2:
        raise bad_request(f"{what} must be a list of at least 2 token ids")
    if len(value) > max_len:
        raise bad_request(f"{what} has {len(value)} tokens; the model's context is {max_len}")
    for t in value:
        if not isinstance(t, int) or isinstance(t, bool) or t < 0 or t >= vocab_size:
            raise bad_request(f"{what} contains {t!r}, not a token id in [0, {vocab_size})")
    return value


def _mask_list(value: Any, what: str, n: int) -> List[int]:
    if not isinstance(value, list) or len(value) != n:
        raise bad_request(f"{what} must be a list of {n} values (one per token)")
    out = []
    for m in value:
        if isinstance(m, bool) or (isinstance(m, int) and m in (0, 1)):
            out.append(int(m))
        else:
            raise bad_request(f"{what} must hold 0/1 values, got {m!r}")
    if out[0]:
        raise bad_request(f"{what}[0] must be 0: the first token has no context to be predicted from")
    return out


def parse_sequences(raw: Any, masks: Optional[Any], vocab_size: int, max_len: int) -> List[Sample]:
    """Sequences for logprobs/pretrain; without masks every token after the first is used."""
    if not isinstance(raw, list) or not raw:
        raise bad_request("sequences must be a non-empty list of token id lists")
    if masks is not None and (not isinstance(masks, list) or len(masks) != len(raw)):
        raise bad_request("masks must have one entry per sequence")
    out = []
    for i, seq in enumerate(raw):
        tokens = _token_list(seq, f"sequences[{i}]", vocab_size, max_len)
        mask = [0] + [1] * (len(tokens) - 1) if masks is None else _mask_list(masks[i], f"masks[{i}]", len(tokens))
        out.append(Sample(tokens, mask))
    return out


def parse_batch(raw: Any, vocab_size: int, max_len: int) -> List[Sample]:
    if not isinstance(raw, list) or not raw:
        raise bad_request("batch must be a non-empty list of {tokens, mask, advantage}")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise bad_request(f"batch[{i}] must be an object")
        unknown = set(item) - {"tokens", "mask", "advantage"}
        if unknown:
            raise bad_request(f"batch[{i}] has unknown field(s): {', '.join(sorted(unknown))}")
        tokens = _token_list(item.get("tokens"), f"batch[{i}].tokens", vocab_size, max_len)
        mask = _mask_list(item.get("mask"), f"batch[{i}].mask", len(tokens))
        adv = item.get("advantage")
        if not isinstance(adv, (int, float)) or isinstance(adv, bool) or not math.isfinite(adv):
            raise bad_request(f"batch[{i}].advantage must be a finite number, got {adv!r}")
        out.append(Sample(tokens, mask, float(adv)))
    if sum(s.n_trained for s in out) == 0:
        raise bad_request("batch has no trained tokens (every mask is 0)")
    return out


def micro_batches(samples: Sequence[Sample], token_budget: int) -> List[List[int]]:
    """Indices grouped so that (sequences x longest length) stays within the budget: sorting by length keeps
    padding low. Every group has at least one sequence, however long."""
    order = sorted(range(len(samples)), key=lambda i: -len(samples[i].tokens))
    groups: List[List[int]] = []
    current: List[int] = []
    for i in order:
        longest = len(samples[current[0]].tokens) if current else len(samples[i].tokens)
        if current and (len(current) + 1) * longest > token_budget:
            groups.append(current)
            current = []
        current.append(i)
    if current:
        groups.append(current)
    return groups
