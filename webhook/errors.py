"""One small error hierarchy for the service; every error carries its HTTP status.

The native API and the Coral routes answer every error with one JSON shape::

    {"error": {"code": "invalid_input", "message": "text: ...", "field": "text"}}

The Perspective-compatible routes answer in Perspective's own shape instead (see perspective.py).
"""

from __future__ import annotations

import logging

from flask import current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from moderation.errors import ModerationError

__all__ = [
    "APIError",
    "BadRequest",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "ServiceUnavailable",
    "Unauthorized",
    "UnsupportedMediaType",
    "error_body",
    "register",
]

log = logging.getLogger(__name__)


class APIError(Exception):
    """Base class: an error the service answers with its status and the JSON error shape."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class BadRequest(APIError):
    status = 400
    code = "malformed_json"


class Unauthorized(APIError):
    status = 401
    code = "unauthorized"


class Forbidden(APIError):
    status = 403
    code = "forbidden"


class NotFound(APIError):
    status = 404
    code = "not_found"


class PayloadTooLarge(APIError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(APIError):
    status = 415
    code = "unsupported_media_type"


class InvalidInput(APIError):
    status = 422
    code = "invalid_input"


class ServiceUnavailable(APIError):
    status = 503
    code = "unavailable"


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
               413: "payload_too_large", 415: "unsupported_media_type"}


def error_body(code: str, message: str, field: str | None = None) -> dict:
    """The one JSON error shape of the native API."""
    return {"error": {"code": code, "message": message, "field": field}}


def _api_error(exc: APIError):
    return jsonify(error_body(exc.code, exc.message, exc.field)), exc.status


def _own_shape(exc: Exception):
    """The handler of the protocol whose URL prefix the request falls under (see :func:`register`), or None."""
    for prefix, handler in current_app.extensions.get("error_shapes", {}).items():
        if request.path == prefix or request.path.startswith(prefix + "/"):
            return handler(exc)
    return None


def _http_error(exc: HTTPException):
    own = _own_shape(exc)
    if own is not None:
        return own
    status = exc.code or 500
    if status == 413:
        message = "the request body is over the size limit (MODERATION_MAX_BODY_BYTES)"
    else:
        message = exc.description or exc.name
    response = jsonify(error_body(_HTTP_CODES.get(status, "http_error"), message))
    if status == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response, status


def _library_error(exc: ModerationError):
    own = _own_shape(exc)
    if own is not None:
        return own
    field = getattr(exc, "field", None)
    return jsonify(error_body(exc.code, str(exc), field)), exc.status


def _unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    own = _own_shape(exc)
    if own is not None:
        return own
    log.exception("unhandled error")
    return jsonify(error_body("internal_error", "the service failed to answer; it has been logged")), 500


def register(app, shapes: dict | None = None) -> None:
    """Answer every error raised in a view with the JSON error shape.

    ``shapes`` maps a URL prefix to the handler of a protocol with its own error shape (/v1alpha1:
    Perspective's). A blueprint's own handlers see only errors raised in its views, so this one
    answers, in that shape, the errors raised before any view: unknown routes (404), methods (405).
    """
    app.extensions["error_shapes"] = dict(shapes or {})
    app.register_error_handler(APIError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ModerationError, _library_error)
    app.register_error_handler(Exception, _unexpected)
