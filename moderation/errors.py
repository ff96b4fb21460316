"""One small error hierarchy; each error carries the HTTP status a service should answer with."""


class ModerationError(Exception):
    """Base class of the library's errors."""

    status = 500
    code = "internal"


class ModelError(ModerationError):
    """A model directory or file is missing, tampered with, or not a model."""

    status = 503
    code = "model_unavailable"


class InputError(ModerationError, ValueError):
    """Bad input: the message names what was wrong."""

    status = 422
    code = "invalid_input"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class PolicyError(ModerationError, ValueError):
    """A policy file that cannot be used: the message names the clause or key."""

    status = 500
    code = "policy_invalid"


class RepeatedKeyError(InputError):
    """A JSON object that gives one key twice: json keeps the last value, other parsers the first, so which
    was meant is not known."""


def unique_keys(pairs: list) -> dict:
    """``json.loads``' ``object_pairs_hook`` for input: the object, or :class:`RepeatedKeyError` naming the key."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set = set()
        repeated = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise RepeatedKeyError(f"the key {repeated!r} appears twice in one object")
    return obj
