import json
import os
import subprocess
import sys
import unittest

from icrl_learner.server import _finite

from .helpers import TempDirTest, batch

LEARNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ServerProcessTest(TempDirTest):
    def run_session(self, requests, debug=False):
        env = dict(os.environ, PYTHONPATH=LEARNER_DIR)
        if debug:
            env["ICRL_LEARNER_DEBUG"] = "1"
        lines = [r if isinstance(r, str) else json.dumps(r) for r in requests]
        proc = subprocess.run([sys.executable, "-m", "icrl_learner"], input="\n".join(lines) + "\n", env=env,
                              cwd=self.tmp, capture_output=True, text=True, timeout=120)
        responses = [json.loads(line) for line in proc.stdout.splitlines()]  # every stdout line is JSON
        return proc, responses

    def test_a_session(self):
        model = self.model()
        init = {"model_path": model, "lora": {"rank": 2}, "optim": {"lr": 1e-2}, "device": "auto", "threads": 1}
        proc, res = self.run_session([
            {"id": 1, "method": "step", "params": {"batch": batch()}},
            {"id": 2, "method": "init", "params": init},
            "{not json",
            {"id": "s", "method": "step", "params": {"batch": batch()}},
            {"id": 4, "method": "step", "params": {"batch": [{"tokens": [1], "mask": [0], "advantage": 1}]}},
            {"id": 5, "method": "logprobs", "params": {"sequences": [[1, 2, 3]]}},
            {"id": 6, "method": "frobnicate"},
            {"id": 7, "method": "export_adapter", "params": {"path": self.path("a.gguf")}},
            {"id": 8, "method": "init", "params": "nope"},
            {"id": 9, "method": "shutdown"},
            {"id": 10, "method": "ping"},  # after shutdown: never answered
        ])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual([r["id"] for r in res], [1, 2, None, "s", 4, 5, 6, 7, 8, 9])
        by_id = {r["id"]: r for r in res}
        self.assertEqual(by_id[1]["error"]["code"], "not_initialized")
        self.assertEqual(by_id[2]["result"]["device"], "cpu")
        self.assertEqual(by_id[2]["result"]["arch"], "llama")
        self.assertEqual(by_id[None]["error"]["code"], "parse_error")
        self.assertEqual(by_id["s"]["result"]["step"], 1)
        self.assertEqual(by_id[4]["error"]["code"], "bad_request")
        self.assertEqual(len(by_id[5]["result"]["logprobs"][0]), 2)
        self.assertEqual(by_id[6]["error"]["code"], "unknown_method")
        self.assertTrue(os.path.exists(by_id[7]["result"]["path"]))
        self.assertEqual(by_id[8]["error"]["code"], "bad_request")
        # Logs are JSON lines on stderr.
        logs = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
        self.assertTrue(any(entry["msg"] == "learner initialised" for entry in logs))

    def test_stray_prints_and_failures_do_not_break_the_protocol(self):
        proc, res = self.run_session([
            {"id": 1, "method": "_debug", "params": {"action": "stdout_print"}},
            {"id": 2, "method": "_debug", "params": {"action": "raise"}},
            {"id": 3, "method": "ping"},
        ], debug=True)
        self.assertEqual(proc.returncode, 0)  # EOF on stdin ends the process cleanly
        self.assertEqual([r["ok"] for r in res], [True, False, True])
        self.assertEqual(res[1]["error"]["code"], "internal")
        self.assertIn("stray print", proc.stderr)

    def test_debug_methods_need_the_debug_switch(self):
        _, res = self.run_session([{"id": 1, "method": "_debug", "params": {"action": "exit"}}])
        self.assertEqual(res[0]["error"]["code"], "unknown_method")


class FiniteTest(unittest.TestCase):
    def test_non_finite_numbers_become_null(self):
        self.assertEqual(_finite({"a": float("nan"), "b": [1.0, float("inf")], "c": "x"}),
                         {"a": None, "b": [1.0, None], "c": "x"})


if __name__ == "__main__":
    unittest.main()
