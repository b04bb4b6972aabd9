import unittest

import torch

from icrl_learner.errors import LearnerError
from icrl_learner.lora import adapter_tensors

from .helpers import TempDirTest, batch

DROP = ("step_time_s",)


def clean(metrics):
    return {k: v for k, v in metrics.items() if k not in DROP}


class StateTest(TempDirTest):
    def test_restore_gives_identical_subsequent_steps(self):
        path = self.model()
        optim = {"lr": 1e-2, "kl_coef": 0.1, "shuffle": True, "mini_batch_size": 2, "warmup_steps": 5}
        learner = self.learner(path, optim=optim, seed=3)
        learner.step({"batch": batch()})
        learner.reset({"reference": True})
        learner.step({"batch": batch(seeds=(5, 6, 7, 8))})
        state = self.path("state.pt")
        saved = learner.save_state({"path": state})
        self.assertEqual(saved["step"], 2)
        expected = [clean(learner.step({"batch": batch(seeds=(9, 10, 11, 12))})) for _ in range(2)]
        expected_adapter = adapter_tensors(learner.model)

        for target in (learner, self.learner(path, optim=optim, seed=99)):  # same process, then a fresh learner
            target.load_state({"path": state})
            got = [clean(target.step({"batch": batch(seeds=(9, 10, 11, 12))})) for _ in range(2)]
            self.assertEqual(got, expected)
            adapter = adapter_tensors(target.model)
            for key in expected_adapter:
                self.assertTrue(torch.equal(adapter[key], expected_adapter[key]), key)

    def test_restore_refuses_another_model_or_lora_shape(self):
        learner = self.learner(self.model())
        learner.step({"batch": batch()})
        state = self.path("state.pt")
        learner.save_state({"path": state})
        for other in (self.learner(self.model("other.gguf", seed=1)), self.learner(self.model(), lora={"rank": 8})):
            with self.assertRaises(LearnerError) as ctx:
                other.load_state({"path": state})
            self.assertEqual(ctx.exception.code, "state_mismatch")
        with open(self.path("junk.pt"), "wb") as f:
            f.write(b"not a state file")
        with self.assertRaises(LearnerError) as ctx:
            learner.load_state({"path": self.path("junk.pt")})
        self.assertEqual(ctx.exception.code, "io_error")


if __name__ == "__main__":
    unittest.main()
