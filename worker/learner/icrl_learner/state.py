"""Save and restore the whole learner state in one torch.save file, for checkpoints and resumable runs.

Holds the policy adapter, the reference snapshot (if any), the optimizer state, counters and every RNG
state, so the steps after a restore are the steps that would have followed the save. A header fingerprint
of the base GGUF guards against restoring onto another model.
"""

from __future__ import annotations

import inspect
import json
import os
import random
from typing import Any, Dict, List

import torch

from .errors import LearnerError

FORMAT = "icrl-learner-state"
VERSION = 1


def _load(path: str) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = {"map_location": "cpu"}
    # weights_only keeps a state file from running code on load (torch >= 1.13 has the flag).
    if "weights_only" in inspect.signature(torch.load).parameters:
        kwargs["weights_only"] = True
    return torch.load(path, **kwargs)


def _pack(value: Any, tensors: List[torch.Tensor]) -> Any:
    """Tensors go into a flat list and everything else into JSON: torch 1.13's weights-only unpickler
    cannot even read a float, and JSON loses int dict keys and tuples, so those are tagged."""
    if isinstance(value, torch.Tensor):
        tensors.append(value.detach().to("cpu"))
        return {"__tensor__": len(tensors) - 1}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _pack(v, tensors) for k, v in value.items()}
        return {"__items__": [[_pack(k, tensors), _pack(v, tensors)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple__": [_pack(v, tensors) for v in value]}
    if isinstance(value, list):
        return [_pack(v, tensors) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot store {type(value).__name__} in a state file")


def _unpack(value: Any, tensors: List[torch.Tensor]) -> Any:
    if isinstance(value, dict):
        if "__tensor__" in value:
            return tensors[value["__tensor__"]]
        if "__items__" in value:
            return {_unpack(k, tensors): _unpack(v, tensors) for k, v in value["__items__"]}
        if "__tuple__" in value:
            return tuple(_unpack(v, tensors) for v in value["__tuple__"])
        return {k: _unpack(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack(v, tensors) for v in value]
    return value


def rng_state(generator: torch.Generator) -> Dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "python": random.getstate(), "generator": generator.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: Dict[str, Any], generator: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    generator.set_state(state["generator"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: str, payload: Dict[str, Any]) -> int:
    tensors: List[torch.Tensor] = []
    body = json.dumps(_pack(payload, tensors))
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        torch.save({"format": FORMAT, "version": VERSION, "body": body, "tensors": tensors}, tmp)
        os.replace(tmp, path)
        return os.path.getsize(path)
    except OSError as e:
        raise LearnerError("io_error", f"cannot write state {path}: {e.strerror or e}") from e


def load(path: str) -> Dict[str, Any]:
    try:
        payload = _load(path)
    except FileNotFoundError as e:
        raise LearnerError("io_error", f"state file {path} does not exist") from e
    except Exception as e:  # a truncated or foreign file raises many different errors
        raise LearnerError("io_error", f"cannot read state {path}: {e}") from e
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise LearnerError("state_mismatch", f"{path} is not a learner state file")
    if payload.get("version") != VERSION:
        raise LearnerError("state_mismatch", f"{path} has state version {payload.get('version')}, expected {VERSION}")
    return _unpack(json.loads(payload["body"]), payload["tensors"])
