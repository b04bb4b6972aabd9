import math
import os
import unittest

import torch

from icrl_learner.errors import LearnerError
from icrl_learner.grpo import OptimConfig, low_var_kl, parse_optim_config, policy_loss
from icrl_learner.lora import adapter_tensors

from .helpers import TempDirTest, batch, masked_logprob_sum, random_tokens


class LossFunctionTest(unittest.TestCase):
    def test_clipped_surrogate_and_dual_clip(self):
        cfg = OptimConfig()
        old = torch.zeros(5)
        logp = torch.log(torch.tensor([1.5, 0.5, 0.5, 1.1, 5.0]))
        adv = torch.tensor([1.0, 1.0, -1.0, -1.0, -1.0])
        loss, clipped, ppo_kl = policy_loss(logp, old, adv, cfg)
        expected = [-1.2,  # ratio above 1 + eps with A > 0: clipped at 1.2
                    -0.5,  # ratio below 1 - eps with A > 0: the unclipped term is larger
                    0.8,   # ratio below 1 - eps with A < 0: clipped at 0.8
                    1.1,   # inside the trust region
                    3.0]   # A < 0 and ratio 5: dual clip caps the loss at clip_ratio_c
        self.assertTrue(torch.allclose(loss, torch.tensor(expected), atol=1e-6), loss)
        self.assertEqual(clipped.tolist(), [True, False, True, False, False])
        self.assertTrue(torch.allclose(ppo_kl, -logp))
        cfg.clip_ratio_c = None
        self.assertAlmostEqual(policy_loss(logp, old, adv, cfg)[0][4].item(), 5.0, places=5)

    def test_asymmetric_clip(self):
        cfg = OptimConfig(clip_ratio_low=0.2, clip_ratio_high=0.28)
        loss, clipped, _ = policy_loss(torch.log(torch.tensor([1.25, 1.3])), torch.zeros(2), torch.ones(2), cfg)
        self.assertEqual(clipped.tolist(), [False, True])
        self.assertAlmostEqual(loss[1].item(), -1.28, places=5)

    def test_low_var_kl(self):
        logp = torch.tensor([-1.0, -2.0, -1.0, 0.0])
        ref = torch.tensor([-1.0, -1.0, -2.0, -100.0])
        kl = low_var_kl(logp, ref)
        self.assertEqual(kl[0].item(), 0.0)
        self.assertAlmostEqual(kl[1].item(), math.exp(1) - 1 - 1, places=5)
        self.assertAlmostEqual(kl[2].item(), math.exp(-1) + 1 - 1, places=5)
        self.assertEqual(kl[3].item(), 10.0)  # log-ratio clamped to -20, estimate clamped to 10

    def test_config_validation(self):
        self.assertEqual(parse_optim_config({"lr": 3e-4, "epochs": 2}).epochs, 2)
        for bad in ({"lr": 0}, {"lrr": 1e-3}, {"epochs": 1.5}, {"clip_ratio_c": 0.5}, {"shuffle": 1}, {"kl_coef": -1}):
            with self.assertRaises(LearnerError, msg=str(bad)):
                parse_optim_config(bad)


class StepTest(TempDirTest):
    def test_step_moves_probability_toward_positive_advantage(self):
        learner = self.learner(self.model(), optim={"lr": 5e-3})
        items = batch(seeds=(1, 2), advantages=(1.0, -1.0))
        before = [masked_logprob_sum(learner, it) for it in items]
        metrics = learner.step({"batch": items})
        after = [masked_logprob_sum(learner, it) for it in items]
        self.assertGreater(after[0], before[0] + 0.05)  # rewarded tokens became more likely
        self.assertLess(after[1], before[1] - 0.05)  # penalised tokens became less likely
        self.assertEqual(metrics["tokens"], 24)
        self.assertEqual(metrics["step"], 1)
        self.assertGreater(metrics["grad_norm"], 0)
        self.assertGreater(metrics["entropy"], 0)
        self.assertLess(metrics["entropy"], math.log(259) + 1e-4)

    def test_repeated_steps_lower_the_surrogate_loss_on_a_fixed_batch(self):
        learner = self.learner(self.model(), optim={"lr": 3e-3})
        item = batch(seeds=(7,), advantages=(1.0,))
        start = masked_logprob_sum(learner, item[0])
        sums = []
        for _ in range(4):
            learner.step({"batch": item})
            sums.append(masked_logprob_sum(learner, item[0]))
        self.assertTrue(all(b > a for a, b in zip([start] + sums, sums)), sums)

    def test_kl_is_zero_while_the_adapter_is_zero_and_positive_after_training(self):
        learner = self.learner(self.model(), optim={"lr": 1e-2, "kl_coef": 0.1})
        items = batch()
        seq = items[0]["tokens"]
        self.assertEqual(learner.logprobs({"sequences": [seq]}), learner.logprobs({"sequences": [seq], "mode": "reference"}))
        first = learner.step({"batch": items})
        self.assertEqual(first["kl"], 0.0)
        second = learner.step({"batch": items})
        self.assertGreater(second["kl"], 0.0)
        # After a reference reset the policy is the reference again, so the KL starts from zero.
        learner.reset({"reference": True})
        self.assertEqual(learner.logprobs({"sequences": [seq]}), learner.logprobs({"sequences": [seq], "mode": "reference"}))
        self.assertNotEqual(learner.logprobs({"sequences": [seq]}), learner.logprobs({"sequences": [seq], "mode": "base"}))
        self.assertEqual(learner.step({"batch": items})["kl"], 0.0)

    def test_masked_out_tokens_do_not_influence_the_update(self):
        items = batch(seeds=(1, 2))
        items[0]["mask"][-1] = 0  # the last token is not trained...
        changed = [dict(it) for it in items]
        changed[0] = dict(items[0], tokens=items[0]["tokens"][:-1] + [(items[0]["tokens"][-1] + 1) % 256])
        results = []
        for b in (items, changed):  # ...so changing it must not change the update
            learner = self.learner(self.model(), optim={"lr": 1e-2})
            learner.step({"batch": b})
            results.append(adapter_tensors(learner.model))
        for key in results[0]:
            self.assertTrue(torch.equal(results[0][key], results[1][key]), key)
        # Control: training that token does change the update.
        learner = self.learner(self.model(), optim={"lr": 1e-2})
        learner.step({"batch": [dict(items[0], mask=items[0]["mask"][:-1] + [1])] + items[1:]})
        trained = adapter_tensors(learner.model)
        self.assertFalse(all(torch.equal(results[0][k], trained[k]) for k in trained))

    def test_clip_fraction_is_zero_on_policy_and_positive_with_stale_ratios(self):
        path = self.model()
        one = self.learner(path, optim={"lr": 5e-2})
        for _ in range(3):
            self.assertEqual(one.step({"batch": batch()})["clip_frac"], 0.0)  # one update per step: ratio 1
        many = self.learner(path, optim={"lr": 5e-2, "epochs": 4})
        metrics = many.step({"batch": batch()})
        self.assertEqual(metrics["updates"], 4)
        self.assertGreater(metrics["clip_frac"], 0.0)
        self.assertGreater(abs(metrics["ppo_kl"]), 0.0)

    def test_mini_batches_give_one_update_each(self):
        learner = self.learner(self.model(), optim={"lr": 1e-2, "mini_batch_size": 1})
        self.assertEqual(learner.step({"batch": batch()})["updates"], 4)

    def test_lr_scale_scales_this_steps_updates(self):
        # The worker's per-stage warm-up (grpo.stageWarmup) sends lr_scale with each step.
        path = self.model()
        items = batch(seeds=(1, 2), advantages=(1.0, -1.0))
        frozen = self.learner(path, optim={"lr": 1e-2, "weight_decay": 0.0})
        before = adapter_tensors(frozen.model)
        metrics = frozen.step({"batch": items, "lr_scale": 0.0})
        self.assertEqual(metrics["lr"], 0.0)
        self.assertEqual(metrics["updates"], 1)
        for key, value in adapter_tensors(frozen.model).items():
            self.assertTrue(torch.equal(value, before[key]), key)  # lr 0: AdamW's moments move, the adapter does not
        half = self.learner(path, optim={"lr": 1e-2})
        self.assertAlmostEqual(half.step({"batch": items, "lr_scale": 0.25})["lr"], 2.5e-3)
        moved = adapter_tensors(half.model)  # same seed, same initial adapter: a non-zero scale moves it
        self.assertTrue(any(not torch.equal(moved[key], before[key]) for key in before))
        self.assertAlmostEqual(half.step({"batch": items})["lr"], 1e-2)  # the scale is for one step only
        for bad in (-0.1, 1.5, "1", True):
            with self.assertRaises(LearnerError) as ctx:
                half.step({"batch": items, "lr_scale": bad})
            self.assertEqual(ctx.exception.code, "bad_request")

    def test_micro_batching_does_not_change_the_result(self):
        path = self.model()
        items = batch(seeds=(1, 2, 3), advantages=(1.0, -0.5, 0.25))
        items[2]["tokens"] = items[2]["tokens"][:15]
        items[2]["mask"] = items[2]["mask"][:15]
        adapters = []
        for budget in (10_000, 24):
            learner = self.learner(path, optim={"lr": 1e-2, "micro_batch_tokens": budget, "kl_coef": 0.1})
            learner.step({"batch": items})
            learner.step({"batch": items})
            adapters.append(adapter_tensors(learner.model))
        for key in adapters[0]:
            self.assertTrue(torch.allclose(adapters[0][key], adapters[1][key], atol=1e-5), key)

    def test_bad_batches_are_rejected(self):
        learner = self.learner(self.model())
        good = batch()[0]
        cases = [
            [dict(good, mask=[1] + good["mask"][1:])],  # first token cannot be trained
            [dict(good, mask=good["mask"][:-1])],  # length mismatch
            [dict(good, tokens=good["tokens"][:-1] + [100000])],  # outside the vocabulary
            [dict(good, advantage=float("nan"))],
            [dict(good, mask=[0] * len(good["mask"]))],  # nothing to train
            [dict(good, extra=1)],
            [],
        ]
        for case in cases:
            with self.assertRaises(LearnerError) as ctx:
                learner.step({"batch": case})
            self.assertEqual(ctx.exception.code, "bad_request")
        self.assertEqual(learner.steps, 0)

    def test_pretrain_lowers_cross_entropy_and_refuses_text(self):
        learner = self.learner(self.model())
        seqs = [random_tokens(20, 1), random_tokens(20, 2)]
        result = learner.pretrain({"sequences": seqs, "steps": 20, "lr": 1e-2})
        self.assertLess(result["loss_after"], result["loss_before"] - 0.5)
        with self.assertRaises(LearnerError):
            learner.pretrain({"texts": ["hello"], "steps": 1})


if __name__ == "__main__":
    unittest.main()


class VariantsTest(TempDirTest):
    def test_gradient_checkpointing_gives_the_same_update(self):
        path = self.model()
        adapters = []
        for checkpointing in (False, True):
            learner = self.learner(path, gradient_checkpointing=checkpointing)
            learner.step({"batch": batch()})
            adapters.append(adapter_tensors(learner.model))
        for key in adapters[0]:
            self.assertTrue(torch.allclose(adapters[0][key], adapters[1][key], atol=1e-6), key)

    def test_bfloat16_weights_train(self):
        path = self.model()
        f32 = self.learner(path)
        bf16 = self.learner(path, dtype="bfloat16")
        seq = [random_tokens(20, 1)]
        diff = max(abs(a - b) for a, b in zip(f32.logprobs({"sequences": seq})["logprobs"][0],
                                              bf16.logprobs({"sequences": seq})["logprobs"][0]))
        self.assertLess(diff, 0.5)
        metrics = bf16.step({"batch": batch()})
        self.assertGreater(metrics["grad_norm"], 0)
        self.assertEqual(bf16.model.projection(0, "q").lora_a.dtype, torch.float32)  # adapter stays f32

    def test_sequences_without_trained_tokens_are_carried_along(self):
        learner = self.learner(self.model(), optim={"lr": 1e-2, "mini_batch_size": 1})
        items = batch(seeds=(1, 2))
        items[1]["mask"] = [0] * len(items[1]["mask"])
        metrics = learner.step({"batch": items})
        self.assertEqual(metrics["tokens"], 12)
        self.assertEqual(metrics["updates"], 1)  # the mini-batch with nothing to train is skipped


class NonFiniteTest(TempDirTest):
    """NaN anywhere in a step stops it with an error that says what and why, never a silent bad update."""

    def test_nan_weights_make_step_report_the_log_probs(self):
        learner = self.learner(self.model())
        learner.model.token_embd.fill_(float("nan"))
        with self.assertRaises(LearnerError) as caught:
            learner.step({"batch": batch()})
        self.assertEqual(caught.exception.code, "non_finite")
        self.assertEqual(caught.exception.message,
                         "learner log-prob is NaN: the model's weights or the learning rate may be broken")
        self.assertEqual(learner.steps, 0)

    def test_a_model_file_with_nan_bytes_is_refused_naming_the_tensor(self):
        from icrl_learner.gguf_reader import GGUFFile

        path = self.model()
        info = GGUFFile(path).tensors["blk.0.attn_q.weight"]
        size = os.path.getsize(path)
        with open(path, "r+b") as f:  # same size, valid header: 0xFF bytes are NaN in F32
            f.seek(info.offset)
            f.write(b"\xff" * info.n_bytes())
        self.assertEqual(os.path.getsize(path), size)
        with self.assertRaises(LearnerError) as caught:
            self.learner(path)
        self.assertEqual(caught.exception.code, "non_finite")
        self.assertIn("tensor blk.0.attn_q.weight holds NaN or infinite values: the model file is corrupt", caught.exception.message)
