"""The hand-written gradient of target log-prob and entropy equals autograd's through log_softmax."""

import unittest

import torch

from icrl_learner.vocab_logprobs import target_logprob_entropy


def reference(logits, targets, with_entropy):
    logp_all = torch.log_softmax(logits, dim=-1)
    logp = logp_all.gather(-1, targets[:, None]).squeeze(-1)
    return logp, (-(logp_all.exp() * logp_all).sum(-1) if with_entropy else None)


class TargetLogprobEntropyTest(unittest.TestCase):
    def check(self, with_entropy: bool, entropy_weight: float):
        g = torch.Generator().manual_seed(3)
        base = torch.randn(37, 501, generator=g, dtype=torch.float64) * 4
        targets = torch.randint(0, 501, (37,), generator=g)
        w_lp = torch.randn(37, generator=g, dtype=torch.float64)
        w_h = torch.randn(37, generator=g, dtype=torch.float64) * entropy_weight
        grads, values = [], []
        for fn in (target_logprob_entropy, reference):
            z = base.clone().requires_grad_(True)
            logp, ent = fn(z, targets, with_entropy)
            loss = (w_lp * logp).sum() + ((w_h * ent).sum() if with_entropy else 0)
            loss.backward()
            grads.append(z.grad)
            values.append((logp.detach(), None if ent is None else ent.detach()))
        torch.testing.assert_close(values[0][0], values[1][0], rtol=0, atol=1e-12)
        if with_entropy:
            torch.testing.assert_close(values[0][1], values[1][1], rtol=0, atol=1e-10)
        else:
            self.assertIsNone(values[0][1])
        torch.testing.assert_close(grads[0], grads[1], rtol=0, atol=1e-12)

    def test_logprob_and_entropy(self):
        self.check(True, 1.0)

    def test_logprob_only(self):
        self.check(False, 0.0)

    def test_gradcheck(self):
        g = torch.Generator().manual_seed(5)
        z = torch.randn(4, 9, generator=g, dtype=torch.float64, requires_grad=True)
        t = torch.randint(0, 9, (4,), generator=g)
        self.assertTrue(torch.autograd.gradcheck(lambda x: target_logprob_entropy(x, t, True), (z,)))

    def test_entropy_gradient_only(self):
        # A loss on the entropy alone (no gradient reaches logp): the closed form's second term alone.
        g = torch.Generator().manual_seed(7)
        base = torch.randn(5, 11, generator=g, dtype=torch.float64)
        t = torch.randint(0, 11, (5,), generator=g)
        z1, z2 = base.clone().requires_grad_(True), base.clone().requires_grad_(True)
        target_logprob_entropy(z1, t, True)[1].sum().backward()
        reference(z2, t, True)[1].sum().backward()
        torch.testing.assert_close(z1.grad, z2.grad, rtol=0, atol=1e-12)


if __name__ == "__main__":
    unittest.main()
