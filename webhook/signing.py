"""HMAC-SHA256 request signatures: the native scheme and Coral's.

Native: ``X-Moderation-Timestamp: <unix seconds>`` and
``X-Moderation-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">``, refused outside a
time window so a captured request cannot be replayed later.

Coral: ``X-Coral-Signature: sha256=<hex>[,sha256=<hex>...]``, the HMAC of the raw body alone.

Both accept any listed signature made with any configured secret, so a secret can be rotated
without downtime, and compare in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from .errors import Unauthorized

__all__ = [
    "CORAL_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "hmac_hex",
    "native_headers",
    "parse_signatures",
    "sign_native",
    "verify_coral",
    "verify_native",
]

TIMESTAMP_HEADER = "X-Moderation-Timestamp"
SIGNATURE_HEADER = "X-Moderation-Signature"
CORAL_HEADER = "X-Coral-Signature"
_MAX_SIGNATURES = 8


def hmac_hex(secret: str, message: bytes) -> str:
    """Hex HMAC-SHA256 of ``message`` under ``secret``."""
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign_native(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Moderation-Signature`` value for ``body`` sent at ``timestamp``."""
    return "sha256=" + hmac_hex(secret, str(timestamp).encode() + b"." + body)


def native_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Both native signature headers, for clients and tests."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign_native(secret, body, timestamp)}


def parse_signatures(header: str | None) -> list[str]:
    """The hex digests listed in a ``sha256=<hex>[,sha256=<hex>...]`` header."""
    digests = []
    for part in (header or "").split(",")[:_MAX_SIGNATURES]:
        scheme, sep, digest = part.strip().partition("=")
        if sep and scheme.lower() == "sha256" and digest:
            digests.append(digest.strip().lower())
    return digests


def _digests(headers, name: str, hint: str, form: str) -> list[str]:
    """The digests a signature header lists; a missing or malformed header is refused, naming it."""
    value = headers.get(name, "").strip()
    if not value:
        raise Unauthorized(f"missing {name} header: {hint}", field=name)
    digests = parse_signatures(value)
    if not digests:
        raise Unauthorized(f"{name} is malformed: expected {form}, comma-separated when there are several",
                           field=name)
    return digests


def _matches(digests: list[str], secrets: list[str], message: bytes) -> bool:
    # Every pair is compared, so the time taken does not reveal which secret or digest matched.
    found = False
    for secret in secrets:
        expected = hmac_hex(secret, message).encode()
        for digest in digests:
            found |= hmac.compare_digest(expected, digest.encode("ascii", "replace"))
    return found


def verify_native(headers, body: bytes, secrets: list[str], window: int, now: float | None = None) -> None:
    """Raise :class:`Unauthorized` unless the request carries a fresh, valid native signature."""
    if not secrets:
        raise Unauthorized("no signing secrets are configured on the server: set MODERATION_SECRETS")
    digests = _digests(headers, SIGNATURE_HEADER, f"sign the request: send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}",
                       'sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">')
    stamp = headers.get(TIMESTAMP_HEADER, "")
    if not stamp:
        raise Unauthorized(f"missing {TIMESTAMP_HEADER} header: send the unix time the request was signed at",
                           field=TIMESTAMP_HEADER)
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise Unauthorized(f"{TIMESTAMP_HEADER} must be unix time in whole seconds", field=TIMESTAMP_HEADER)
    now = time.time() if now is None else now
    if abs(now - int(stamp)) > window:
        raise Unauthorized(f"{TIMESTAMP_HEADER} is more than {window} s from the server's clock: "
                           "check the client's clock, and never resend an old request", field=TIMESTAMP_HEADER)
    if not _matches(digests, secrets, stamp.encode() + b"." + body):
        raise Unauthorized("the signature does not match the body under any configured secret",
                           field=SIGNATURE_HEADER)


def verify_coral(headers, body: bytes, secrets: list[str]) -> None:
    """Raise :class:`Unauthorized` unless ``X-Coral-Signature`` matches the raw body."""
    if not secrets:
        raise Unauthorized("no Coral signing secrets are configured on the server: set MODERATION_CORAL_SECRETS")
    digests = _digests(headers, CORAL_HEADER, "is this URL set as Coral's external moderation phase?",
                       "sha256=<hex HMAC-SHA256 of the raw body>")
    if not _matches(digests, secrets, body):
        raise Unauthorized("the Coral signature does not match the body under any configured secret",
                           field=CORAL_HEADER)
