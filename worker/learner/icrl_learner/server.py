"""Line-delimited JSON over stdin/stdout: one request per line, one response line per request.

Request:  {"id": <any>, "method": "<name>", "params": {...}}
Response: {"id": <same>, "ok": true, "result": {...}} or {"id": <same>, "ok": false, "error": {"code", "message"}}

stdout carries responses only: the protocol writes to a duplicate of the original stdout and file
descriptor 1 is pointed at stderr, so stray prints (ours, torch's, native libraries') cannot corrupt it.
Logs are JSON lines on stderr. A failed request never ends the process; EOF on stdin or `shutdown` does.
"""

from __future__ import annotations

import gc
import json
import math
import os
import sys
import time
import traceback
from typing import Any, Callable, Dict, Optional, TextIO

from .errors import LearnerError, bad_request

_log_stream: TextIO = sys.stderr


def log(level: str, msg: str, **fields: Any) -> None:
    record = {"level": level, "time": int(time.time() * 1000), "msg": msg, **fields}
    try:
        _log_stream.write(json.dumps(_finite(record)) + "\n")
        _log_stream.flush()
    except (OSError, ValueError):
        pass


def _finite(value: Any) -> Any:
    """JSON has no NaN/Infinity: send null instead (e.g. a grad norm that overflowed)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _protocol_stream() -> TextIO:
    sys.stdout.flush()
    proto_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(proto_fd, "w", encoding="utf-8", buffering=1)


def _out_of_memory(e: BaseException) -> bool:
    """MemoryError, torch's CPU allocator failing, or CUDA out of memory (RuntimeError subclasses)."""
    if isinstance(e, MemoryError):
        return True
    text = str(e)
    return isinstance(e, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def _empty_cuda_cache() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


class Server:
    def __init__(self, out: TextIO):
        self.out = out
        self.learner = None
        self.debug = os.environ.get("ICRL_LEARNER_DEBUG") == "1"
        self.methods: Dict[str, Callable[[Dict[str, Any]], Any]] = {
            "init": self.init,
            "info": lambda p: self._learner().info(),
            "logprobs": lambda p: self._learner().logprobs(p),
            "step": lambda p: self._learner().step(p),
            "pretrain": lambda p: self._learner().pretrain(p),
            "reset": lambda p: self._learner().reset(p),
            "export_adapter": lambda p: self._learner().export_adapter(p),
            "save_state": lambda p: self._learner().save_state(p),
            "load_state": lambda p: self._learner().load_state(p),
            "bench": self.bench,
            "pretrain_base": self.pretrain_base,
            "ping": lambda p: {"pong": True},
            "shutdown": lambda p: {"bye": True},
        }
        if self.debug:
            self.methods["_debug"] = self._debug

    def _learner(self):
        if self.learner is None:
            raise LearnerError("not_initialized", "send init first")
        return self.learner

    def init(self, params: Dict[str, Any]) -> Dict[str, Any]:
        from .learner import Learner  # torch import happens here, after the protocol is up

        self.learner = None  # a re-init releases the previous model before loading the next
        self.learner = Learner(params)
        info = self.learner.info()
        log("info", "learner initialised", **{k: info[k] for k in ("arch", "device", "n_params", "trainable_params")})
        return info

    def bench(self, params: Dict[str, Any]) -> Dict[str, Any]:
        from .bench import run_bench

        return run_bench(self._learner(), params)

    def pretrain_base(self, params: Dict[str, Any]) -> Dict[str, Any]:
        """Full-parameter pre-training of a small model into a new GGUF; needs no init."""
        from .base_pretrain import pretrain_base

        return pretrain_base(params, log)

    def _debug(self, params: Dict[str, Any]) -> Any:
        """Failure injection for the driver's tests (only with ICRL_LEARNER_DEBUG=1)."""
        action = params.get("action")
        if action == "exit":
            os._exit(int(params.get("code", 3)))
        if action == "sleep":
            time.sleep(float(params.get("seconds", 1)))
            return {"slept": True}
        if action == "garbage":
            self.out.write("this is not json\n")
            self.out.flush()
            return {"garbage": True}
        if action == "stdout_print":
            print("stray print from learner code")  # must land on stderr, not in the protocol
            return {"printed": True}
        if action == "raise":
            raise RuntimeError("injected failure")
        if action == "allocate":  # a real allocation through torch's allocator, sized to fail
            import torch

            torch.empty(int(params.get("bytes", 1)), dtype=torch.uint8)
            return {"allocated": True}
        raise bad_request(f"unknown debug action {action!r}")

    def respond(self, message: Dict[str, Any]) -> None:
        self.out.write(json.dumps(_finite(message), allow_nan=False, separators=(",", ":")) + "\n")
        self.out.flush()

    def handle(self, line: str) -> bool:
        """Serve one request line; False when the process should stop."""
        try:
            request = json.loads(line)
        except ValueError as e:
            self.respond({"id": None, "ok": False, "error": {"code": "parse_error", "message": f"invalid JSON: {e}"}})
            return True
        req_id: Optional[Any] = request.get("id") if isinstance(request, dict) else None
        t0 = time.perf_counter()
        method = request.get("method") if isinstance(request, dict) else None
        try:
            if not isinstance(method, str):
                raise bad_request("a request is an object with a string method")
            handler = self.methods.get(method)
            if handler is None:
                raise LearnerError("unknown_method", f"unknown method {method!r}")
            params = request.get("params", {})
            if params is None:
                params = {}
            if not isinstance(params, dict):
                raise bad_request("params must be an object")
            result = handler(params)
            self.respond({"id": req_id, "ok": True, "result": result})
            log("debug", "request done", method=method, seconds=round(time.perf_counter() - t0, 4))
        except LearnerError as e:
            log("warn", "request failed", method=method, code=e.code, error=e.message)
            self.respond({"id": req_id, "ok": False, "error": {"code": e.code, "message": e.message}})
        except Exception as e:  # keep serving: one bad batch must not kill a training run
            if _out_of_memory(e):
                gc.collect()
                _empty_cuda_cache()
                message = (f"the learner ran out of memory in {method} ({type(e).__name__}: {str(e)[:200]}): lower "
                           "grpo.groupSize, grpo.questionsPerStep or the rollout token limits, set learner.logprobChunk "
                           "lower (e.g. 128), learner.gradientCheckpointing true or learner.dtype bfloat16, use a smaller "
                           "model, or give the learner more memory")
                log("error", "request out of memory", method=method, error=repr(e)[:500])
                self.respond({"id": req_id, "ok": False, "error": {"code": "out_of_memory", "message": message}})
                return method != "shutdown"
            log("error", "request crashed", method=method, error=repr(e), trace=traceback.format_exc())
            self.respond({"id": req_id, "ok": False, "error": {"code": "internal", "message": f"{type(e).__name__}: {e}"}})
        return method != "shutdown"


def main() -> int:
    out = _protocol_stream()
    server = Server(out)
    log("info", "learner process ready", pid=os.getpid(), python=sys.version.split()[0])
    try:
        for raw in sys.stdin:
            if not raw.strip():
                continue
            if not server.handle(raw):
                break
    except (BrokenPipeError, KeyboardInterrupt):
        return 0
    return 0
