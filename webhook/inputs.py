"""Reading request bodies: raw bytes (for signatures), JSON, and schema checks that name the field."""

from __future__ import annotations

import json
import math
import re

from flask import request
from jsonschema import Draft202012Validator
from werkzeug.exceptions import RequestEntityTooLarge

from moderation.errors import unique_keys

from .errors import BadRequest, InvalidInput, UnsupportedMediaType
from .openapi import ID_PATTERN

__all__ = ["check", "check_id", "parse_json", "raw_body", "require_json", "scrub", "scrub_text", "validator"]

_BAD_CHARS = re.compile(r"[\x00\ud800-\udfff]")
_BAD_ID = "must not contain NUL or unpaired surrogate characters"


def raw_body() -> bytes:
    """The request body exactly as sent; 413 when it is over the limit (MODERATION_MAX_BODY_BYTES).

    werkzeug refuses a Content-Length over the limit, but reads a chunked body (no length) only up
    to the limit and stops there without a word: the cut body would then fail its signature or its
    JSON, for no reason the client could see.
    """
    body = request.get_data(cache=True)
    limit = request.max_content_length
    if limit is not None and request.content_length is None and len(body) >= limit and _more_to_read():
        raise RequestEntityTooLarge()
    return body


def _more_to_read() -> bool:
    # The limited stream stops at the limit; one byte more from the server's own stream tells a body
    # of exactly the limit from a longer one.
    try:
        return bool(request.environ["wsgi.input"].read(1))
    except (OSError, ValueError):
        return False


def require_json() -> None:
    """Raise :class:`UnsupportedMediaType` unless the body is declared as JSON."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(f"send the body as application/json, not {request.mimetype or 'nothing'}",
                                   field="Content-Type")


def _finite(value: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"number {value} is out of range")
    return number


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes, scrub_strings: bool = True):
    """Parse a JSON body, refusing what strict JSON refuses, and scrub its strings.

    A view that checks its ids against a schema parses without scrubbing, checks, then calls
    :func:`scrub`: an id with NUL or an unpaired surrogate is refused, not rewritten.
    """
    try:
        data = json.loads(raw, parse_float=_finite, parse_constant=_no_constants, object_pairs_hook=unique_keys)
    except RecursionError:
        raise BadRequest("the JSON body is nested too deeply") from None
    except ValueError as exc:  # includes JSONDecodeError and UnicodeDecodeError
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    return scrub(data) if scrub_strings else data


def check_id(name: str, value: str) -> str:
    """Raise :class:`InvalidInput` naming ``name`` unless ``value`` is 1 to 200 characters a database can store."""
    if scrub_text(value) != value:
        raise InvalidInput(f"{name}: {_BAD_ID}", field=name)
    if not 0 < len(value) <= 200:
        raise InvalidInput(f"{name}: must be 1 to 200 characters", field=name)
    return value


def scrub_text(text: str) -> str:
    """Replace NUL and unpaired surrogates, which no database column and no UTF-8 encoder accept."""
    return _BAD_CHARS.sub("\ufffd", text) if not text.isascii() or "\x00" in text else text


def scrub(data):
    """``data`` with :func:`scrub_text` applied to every string and key in it, in place."""
    # Iterative, so a deeply nested body cannot exhaust the stack.
    if isinstance(data, str):
        return scrub_text(data)
    stack = [data] if isinstance(data, (dict, list)) else []
    while stack:
        node = stack.pop()
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        if isinstance(node, dict) and any(isinstance(k, str) and scrub_text(k) != k for k, _ in items):
            node.clear()
            node.update({scrub_text(k): v for k, v in items})
            items = list(node.items())
        for key, value in items:
            if isinstance(value, str):
                node[key] = scrub_text(value)
            elif isinstance(value, (dict, list)):
                stack.append(value)
    return data


def validator(schema: dict) -> Draft202012Validator:
    """A compiled validator for one request schema."""
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _field(error) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    if error.validator == "required":
        missing = next((p for p in error.validator_value if p not in error.instance), "")
        path = f"{path}.{missing}" if path else missing
    elif error.validator == "anyOf" and all(set(alt) == {"required"} for alt in error.validator_value):
        first = error.validator_value[0]["required"][0]  # one of several fields is required: name the first
        path = f"{path}.{first}" if path else first
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        extra = next((k for k in error.instance if k not in allowed), "")
        path = f"{path}.{extra}" if path else extra
    return path or "(body)"


_MESSAGES = {
    "required": lambda e: "is required",
    "anyOf": lambda e: (f"is required unless {' or '.join(a['required'][0] for a in e.validator_value[1:])} is sent"
                        if all(set(a) == {"required"} for a in e.validator_value) else scrub_text(e.message[:200])),
    "additionalProperties": lambda e: "is not a field this endpoint knows",
    "maxLength": lambda e: f"must be at most {e.validator_value} characters",
    "minLength": lambda e: f"must be at least {e.validator_value} characters",
    "maxItems": lambda e: f"must have at most {e.validator_value} items",
    "minItems": lambda e: f"must have at least {e.validator_value} items",
    "type": lambda e: f"must be of type {e.validator_value}",
    "enum": lambda e: f"must be one of {e.validator_value}",
    "pattern": lambda e: _BAD_ID if e.validator_value == ID_PATTERN else f"must match {e.validator_value}",
}


def check(compiled: Draft202012Validator, data) -> None:
    """Raise :class:`InvalidInput` naming the first field that breaks the schema."""
    errors = list(compiled.iter_errors(data))
    if not errors:
        return
    error = min(errors, key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path]))
    field = scrub_text(_field(error))  # the body is checked before it is scrubbed
    explain = _MESSAGES.get(error.validator)
    message = explain(error) if explain else scrub_text(error.message[:200])
    raise InvalidInput(f"{field}: {message}", field=field)
