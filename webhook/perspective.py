"""Perspective-compatible API: POST /v1alpha1/comments:analyze and comments:suggestscore.

Coral's "custom Perspective endpoint" setting and other Perspective clients work unchanged when
pointed at ``https://<host>/v1alpha1``. Errors come in Perspective's (Google's) shape, not ours.
"""

from __future__ import annotations

import bisect
import hmac
import logging
import re

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from moderation.errors import ModerationError
from moderation.labels import PERSPECTIVE_ATTRIBUTES
from moderation.language import NO_WORDS
from moderation.scorer import MAX_TEXT_CHARS, worst_of

from . import db
from .errors import APIError, BadRequest
from .inputs import parse_json, raw_body, scrub, scrub_text
from .service import DEFAULT_SITE, CommentIn, database_unavailable, moderate, service

log = logging.getLogger(__name__)

bp = Blueprint("perspective", __name__, url_prefix="/v1alpha1")

MAX_COMMENT_BYTES = 20480
MAX_TOKEN_CHARS = 200  # a stored clientToken (suggestscore) is a comment ref: bounded like every other id
_SUPPORTED_LANGUAGES = ("en",)
_ERROR_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 405: "UNIMPLEMENTED",
           500: "INTERNAL", 503: "UNAVAILABLE"}


class PerspectiveError(Exception):
    """An error answered in Perspective's shape."""

    def __init__(self, message: str, code: int = 400, error_type: str | None = None):
        super().__init__(message)
        self.message, self.code, self.error_type = message, code, error_type

    def body(self) -> dict:
        error = {"code": self.code, "message": self.message, "status": _STATUS.get(self.code, "UNKNOWN")}
        if self.error_type:
            error["details"] = [{"@type": _ERROR_TYPE, "errorType": self.error_type}]
        return {"error": error}


@bp.errorhandler(PerspectiveError)
def _perspective_error(exc: PerspectiveError):
    return jsonify(exc.body()), exc.code


@bp.errorhandler(APIError)
def _api_error(exc: APIError):
    code = 503 if exc.status == 503 else 400
    message = f"Invalid JSON payload received. {exc.message}" if isinstance(exc, BadRequest) else exc.message
    return _perspective_error(PerspectiveError(message, code))


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """An HTTP error in Perspective's shape; errors.register routes 404 and 405 under /v1alpha1 here too."""
    if exc.code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return _perspective_error(PerspectiveError(f"Request payload size exceeds the limit: {limit} bytes."))
    if exc.code == 404:
        return _perspective_error(PerspectiveError(
            f"{request.path} is not a method of this API: use comments:analyze or comments:suggestscore.", 404))
    if exc.code == 405:
        allowed = [m for m in exc.valid_methods or () if m != "OPTIONS"]
        body, code = _perspective_error(PerspectiveError(
            f"{request.path} does not take {request.method}: send {' or '.join(allowed) or 'another method'}.", 405))
        body.headers["Allow"] = ", ".join(exc.valid_methods or ())
        return body, code
    return _perspective_error(PerspectiveError(exc.description or exc.name, 400))


def unexpected_error(exc: Exception):
    """An error no handler expected, logged and answered in Perspective's shape."""
    if isinstance(exc, HTTPException):
        return http_error(exc)
    if isinstance(exc, ModerationError):
        return _perspective_error(PerspectiveError(str(exc), exc.status if exc.status >= 500 else 400))
    log.exception("unhandled error")
    return _perspective_error(PerspectiveError("The service failed to answer; it has been logged.", 500))


@bp.before_request
def _check_key():
    key = request.args.get("key") or request.headers.get("X-Goog-Api-Key")
    keys = service().perspective_keys
    if not keys:
        raise PerspectiveError("This server has no Perspective API key configured, so it accepts none: set "
                               "MODERATION_PERSPECTIVE_KEYS (or PERSPECTIVE_KEYS in instance/config.py).", 401)
    if not key:
        raise PerspectiveError("The request is missing a valid API key.", 403)
    if not any(hmac.compare_digest(key.encode(), k.encode()) for k in keys):
        raise PerspectiveError("API key not valid. Please pass a valid API key.", 400)


def _request() -> dict:
    body = parse_json(raw_body(), scrub_strings=False)
    if not isinstance(body, dict):
        raise PerspectiveError("Invalid JSON payload received. Expected an object.")
    # Perspective reads requests as protobuf JSON, where null means "not set": clients that write their unset
    # optional fields as null ("clientToken": null) work with Google's API, so they work here.
    body = {name: value for name, value in body.items() if value is not None}
    for name in ("clientToken", "communityId"):  # ids: refused, not rewritten, when no database can store them
        if name in body and not isinstance(body[name], str):
            raise PerspectiveError(f"Invalid value at '{name}': expected a string.")
        if name in body and scrub_text(body[name]) != body[name]:
            raise PerspectiveError(f"Invalid value at '{name}': must not contain NUL or unpaired surrogate characters.")
    if len(body.get("communityId", "")) > MAX_TOKEN_CHARS:  # cut, two communities would share one site's rows
        raise PerspectiveError(f"Invalid value at 'communityId': at most {MAX_TOKEN_CHARS} characters are accepted.")
    body = scrub(body)
    comment = body.get("comment")
    if not isinstance(comment, dict) or not isinstance(comment.get("text"), str):
        raise PerspectiveError("Comment must be specified: comment.text is required.")
    text = comment["text"]
    if not text.strip():
        raise PerspectiveError("Comment must be non-empty.", error_type="COMMENT_EMPTY")
    size = len(text.encode("utf-8"))
    if size > MAX_COMMENT_BYTES:  # Perspective's 20 KB, in bytes: up to 20,480 ASCII characters pass
        raise PerspectiveError(f"Comment text was too long ({len(text):,} characters, {size:,} bytes): at most "
                               f"{MAX_COMMENT_BYTES:,} bytes are accepted.", error_type="COMMENT_TOO_LONG")
    return body


def _attributes(body: dict) -> dict[str, float | None]:
    """The requested attributes, each with its ``scoreThreshold`` (None: every score is returned)."""
    requested = body.get("requestedAttributes")
    if not isinstance(requested, dict) or not requested:
        raise PerspectiveError("requestedAttributes must name at least one attribute.")
    unknown = [name for name in requested if name not in PERSPECTIVE_ATTRIBUTES]
    if unknown:
        raise PerspectiveError(f"Unknown attribute: {unknown[0]}. Supported attributes: "
                               f"{', '.join(PERSPECTIVE_ATTRIBUTES)}.")
    thresholds = {}
    for name, params in requested.items():
        params = {} if params is None else params
        where = f"requestedAttributes[{name}]"
        if not isinstance(params, dict):
            raise PerspectiveError(f"Invalid value at '{where}': expected an object such as {{}}.")
        if params.get("scoreType") not in (None, "PROBABILITY"):
            raise PerspectiveError(f"Invalid value at '{where}.scoreType': only PROBABILITY scores are given.")
        threshold = params.get("scoreThreshold")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                      or not 0 <= threshold <= 1):
            raise PerspectiveError(f"Invalid value at '{where}.scoreThreshold': expected a number from 0 to 1.")
        thresholds[name] = threshold
    return thresholds


def _languages(body: dict, attributes: list[str], detected: str) -> list[str]:
    languages = body.get("languages") or [detected]
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        raise PerspectiveError("Invalid value at 'languages': expected a list of language codes.")
    unsupported = [x for x in languages if x.split("-")[0].lower() not in _SUPPORTED_LANGUAGES]
    if unsupported:
        detected = "" if body.get("languages") else (
            " (detected: the request named none" + (", and the comment's language could not be told"
                                                     if detected == NO_WORDS else "") + ")")
        raise PerspectiveError(f"Attribute {attributes[0]} does not support request languages: "
                               f"{', '.join(unsupported)}{detected}", error_type="LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE")
    return languages


def _flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise PerspectiveError(f"Invalid value at '{name}': expected true or false.")
    return value


@bp.post("/comments:analyze")
def analyze():
    body = _request()
    thresholds = _attributes(body)
    attributes = list(thresholds)
    spans, do_not_store = _flag(body, "spanAnnotations"), _flag(body, "doNotStore")
    text = body["comment"]["text"]
    languages = _languages(body, attributes, "en")  # check what the client named before scoring
    scorer = service().scorer
    score = _scores(scorer, [text])[0]
    if score.empty:  # only markup, invisible characters or spaces: what the native API calls empty
        raise PerspectiveError("Comment must be non-empty: it holds no text once markup and invisible characters "
                               "are removed.", error_type="COMMENT_EMPTY")
    if not body.get("languages"):
        languages = _languages(body, attributes, score.language)
    scores = {}
    by_sentence = _score_sentences(scorer, text, score) if spans else {}
    for name, threshold in thresholds.items():
        key = PERSPECTIVE_ATTRIBUTES[name]
        value = score.scores.get(key, 0.0)
        if threshold is not None and value < threshold:
            continue  # Perspective returns no score below the attribute's scoreThreshold
        scores[name] = {"summaryScore": _probability(value)}
        if spans:
            scores[name]["spanScores"] = [s for s in _span_scores(key, by_sentence)
                                          if threshold is None or s["score"]["value"] >= threshold]
    if not do_not_store:
        site_id = body.get("communityId", DEFAULT_SITE) or DEFAULT_SITE
        moderate(site_id, [CommentIn(_text_key(text), text)], source="perspective")
    answer = {"attributeScores": scores, "languages": languages}
    if "clientToken" in body:
        answer["clientToken"] = body["clientToken"]
    return jsonify(answer)


def _text_key(text: str) -> str:
    return "perspective-" + db.text_sha256(text)[:40]


def _probability(value: float) -> dict:
    return {"value": round(float(value), 4), "type": "PROBABILITY"}


_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")


def sentences(text: str) -> list[tuple[int, int]]:
    """Offsets of the text's sentences, trimmed of surrounding whitespace."""
    spans = []
    for match in _SENTENCE.finditer(text):
        chunk = match.group(0)
        begin = match.start() + len(chunk) - len(chunk.lstrip())
        end = match.end() - (len(chunk) - len(chunk.rstrip()))
        if end > begin:
            spans.append((begin, end))
    return spans or [(0, len(text))]


def _span_scores(key: str, by_sentence: dict) -> list[dict]:
    """Perspective's span scores: each sentence of the text scored on its own, as Perspective gives them (one
    span a sentence, the whole text covered)."""
    return [{"begin": b, "end": e, "score": _probability(found.scores.get(key, 0.0))}
            for (b, e), found in by_sentence.items()]


def _utf16_offsets(text: str):
    """A function from a code-point offset of ``text`` to its UTF-16 offset: each character beyond U+FFFF
    before it (most emoji) counts two."""
    if len(text.encode("utf-16-le")) == 2 * len(text):  # no such character: the offsets are the same
        return lambda offset: offset
    astral = [i for i, c in enumerate(text) if c > "\uffff"]
    return lambda offset: offset + bisect.bisect_left(astral, offset)


def _score_sentences(scorer, text: str, score) -> dict:
    """Each sentence's score, by its ``(begin, end)`` in UTF-16 code units, as Perspective counts offsets (its
    clients index strings so: JavaScript's ``substring``, Java's, C#'s), not code points."""
    spans = sentences(text)
    scores = [score] if len(spans) == 1 else _scores(scorer, [text[b:e] for b, e in spans])
    utf16 = _utf16_offsets(text)
    return {(utf16(b), utf16(e)): found for (b, e), found in zip(spans, scores)}


def _scores(scorer, texts: list[str]) -> list:
    """Each text's score, read whole however long (one over the scorer's ``MAX_TEXT_CHARS`` in pieces, each
    label its worst piece's: 20 KB of ASCII is more characters than the scorer reads at once)."""
    if all(len(t) <= MAX_TEXT_CHARS for t in texts):
        return scorer.score_batch(texts)
    return [worst_of([score for _, _, score in pieces]) for pieces in scorer.score_pieces(texts)]


@bp.post("/comments:suggestscore")
def suggest_score():
    body = _request()
    suggested = body.get("attributeScores")
    if not isinstance(suggested, dict) or not suggested:
        raise PerspectiveError("attributeScores must not be empty.")
    if len(body.get("clientToken", "")) > MAX_TOKEN_CHARS:
        raise PerspectiveError(f"Invalid value at 'clientToken': at most {MAX_TOKEN_CHARS} characters are stored.")
    values = {}
    for name, entry in suggested.items():
        if name not in PERSPECTIVE_ATTRIBUTES:
            raise PerspectiveError(f"Unknown attribute: {name}.")
        summary = entry.get("summaryScore") if isinstance(entry, dict) else None
        value = summary.get("value") if isinstance(summary, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise PerspectiveError(f"attributeScores.{name}.summaryScore.value must be a number from 0 to 1.")
        values[PERSPECTIVE_ATTRIBUTES[name]] = float(value)
    _store_suggestion(body, values)
    return jsonify({"clientToken": body["clientToken"]} if "clientToken" in body else {})


def _store_suggestion(body: dict, values: dict[str, float]) -> None:
    """Store each suggested score as a feedback label, with where it came from, once."""
    site_id = body.get("communityId", DEFAULT_SITE) or DEFAULT_SITE
    token = body.get("clientToken")
    provenance = {"communityId": body.get("communityId"), "clientToken": token,
                  "languages": body.get("languages"), "context": body.get("context")}
    try:
        with db.transaction(service().engine) as conn:
            stored = db.insert_labels_once(conn, site_id, token, body["comment"]["text"], values,
                                           source="perspective:suggestscore", provenance=provenance)
            if stored:  # a resent suggestion is already recorded, with its audit line
                db.insert_audit(conn, "feedback", site_id, token, {"labels": stored})
    except sa.exc.SQLAlchemyError as exc:
        raise database_unavailable(exc) from exc
