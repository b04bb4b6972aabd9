"""One error type for everything the learner reports back to the worker."""


class LearnerError(Exception):
    """An error with a stable machine-readable code, sent back as {ok: false, error: {code, message}}.

    Codes: bad_request (the request is malformed or inconsistent), unsupported_model (the GGUF uses an
    architecture, tensor type or feature the learner does not implement), not_initialized, io_error,
    state_mismatch (a state file from another model or LoRA shape), unknown_method, parse_error,
    internal (a bug or an unexpected torch failure).
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def bad_request(message: str) -> LearnerError:
    return LearnerError("bad_request", message)


def unsupported(message: str) -> LearnerError:
    return LearnerError("unsupported_model", message)
