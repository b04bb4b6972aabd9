"""One error type for everything the learner reports back to the worker."""

import math


class LearnerError(Exception):
    """An error with a stable machine-readable code, sent back as {ok: false, error: {code, message}}.

    Codes: bad_request (the request is malformed or inconsistent), unsupported_model (the GGUF uses an
    architecture, tensor type or feature the learner does not implement), not_initialized, io_error,
    state_mismatch (a state file from another model or LoRA shape), non_finite (a NaN or infinite
    weight, log-prob, loss or metric: a corrupt model or a diverged update; training on cannot help),
    unknown_method, parse_error, internal (a bug or an unexpected torch failure).
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def bad_request(message: str) -> LearnerError:
    return LearnerError("bad_request", message)


def unsupported(message: str) -> LearnerError:
    return LearnerError("unsupported_model", message)


def non_finite(what: str, value: float, cause: str) -> LearnerError:
    """`what` is NaN/inf: worded "learner loss is NaN: <cause>" so the worker can add the step."""
    shown = "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return LearnerError("non_finite", f"learner {what} is {shown}: {cause}")
