"""Log-prob of the target token and entropy of the next-token distribution from logits, with the
gradient written out by hand.

At a real vocabulary every element-wise op over [positions, vocab] is the cost: 1,300 positions x
151,669 rows is 197M floats, and on a CPU each fresh tensor of that size costs about as much to fault in
and fill as the matmul that made it. Autograd through `log_softmax`, `exp`, `p * logp` and `sum`
allocated and traversed about a dozen such tensors per chunk (26.7 s for one step of 1,300 positions,
two thirds of it in the entropy's mul/add and their backward). The closed form needs two:

    logp  = z - logsumexp(z)             p = exp(logp)            H = -sum(p * logp)
    d logp[t] / dz = onehot(t) - p       dH / dz = -p * (logp + H)

so dL/dz = g_lp * onehot(t) - p * (g_lp + g_H * (logp + H)), built in place. Element-wise passes run
over blocks of rows with one reused scratch block: the only vocabulary-sized tensors are the log-probs
(saved for backward) and the gradient.
"""

from __future__ import annotations

from typing import Optional, Tuple

import torch


# Rows per block of the element-wise passes: one scratch block is reused for every block.
_ROWS = 64


class _TargetLogprobEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits: torch.Tensor, targets: torch.Tensor, with_entropy: bool):
        logp_all = torch.empty_like(logits)
        entropy = logits.new_zeros(logits.shape[0])
        scratch = torch.empty((min(_ROWS, logits.shape[0]), logits.shape[1]), dtype=logits.dtype, device=logits.device)
        for start in range(0, logits.shape[0], _ROWS):
            rows = slice(start, start + _ROWS)
            z, out, p = logits[rows], logp_all[rows], scratch[: min(_ROWS, logits.shape[0] - start)]
            # logsumexp by hand: torch.logsumexp allocates a block-sized temporary on every call.
            torch.sub(z, z.amax(dim=-1, keepdim=True), out=out)
            torch.exp(out, out=p)
            out.sub_(p.sum(-1, keepdim=True).log_())
            if with_entropy:
                torch.exp(out, out=p)
                entropy[rows] = -p.mul_(out).sum(-1)
        ctx.save_for_backward(logp_all, targets, entropy)
        ctx.with_entropy = with_entropy
        return logp_all.gather(-1, targets[:, None]).squeeze(-1), entropy

    @staticmethod
    def backward(ctx, grad_logp: Optional[torch.Tensor], grad_entropy: Optional[torch.Tensor]):
        logp_all, targets, entropy = ctx.saved_tensors
        g_lp = grad_logp if grad_logp is not None else entropy.new_zeros(entropy.shape)
        use_entropy = ctx.with_entropy and grad_entropy is not None
        grad = torch.empty_like(logp_all)
        scratch = torch.empty((min(_ROWS, logp_all.shape[0]), logp_all.shape[1]), dtype=logp_all.dtype, device=logp_all.device)
        for start in range(0, logp_all.shape[0], _ROWS):
            rows = slice(start, start + _ROWS)
            g, logp = grad[rows], logp_all[rows]
            if use_entropy:  # coef = g_lp + g_H * (logp + H)
                torch.add(logp, entropy[rows, None], out=g)
                g.mul_(grad_entropy[rows, None]).add_(g_lp[rows, None])
            else:
                g.copy_(g_lp[rows, None].expand_as(g))
            p = scratch[: g.shape[0]]
            torch.exp(logp, out=p)
            g.mul_(p).neg_()  # -p * coef
        grad.scatter_add_(-1, targets[:, None], g_lp[:, None])
        return grad, None, None


def target_logprob_entropy(logits: torch.Tensor, targets: torch.Tensor, with_entropy: bool
                           ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """log softmax(logits)[i, targets[i]] and, if asked, the entropy of softmax(logits)[i], for 2-D logits."""
    logp, entropy = _TargetLogprobEntropy.apply(logits, targets, with_entropy)
    return logp, entropy if with_entropy else None
