"""The OpenAPI 3.1 document of every endpoint, and the request schemas the views validate against.

The views check request bodies against these same schemas, so the document cannot drift from
what the service accepts; the schemathesis test checks the answers against it.
"""

from __future__ import annotations

from moderation.labels import ACTIONS, HEADS, PERSPECTIVE_ATTRIBUTES, STANCES

__all__ = ["CORAL_REJECTION_CODES", "ID_PATTERN", "document", "request_schemas"]

CORAL_REJECTION_CODES = ("OFFENSIVE", "ABUSIVE", "SPAM", "BANNED_WORD", "AD", "ILLEGAL_CONTENT",
                         "HARASSMENT_BULLYING", "MISINFORMATION", "HATE_SPEECH", "IRRELEVANT_CONTENT", "OTHER")
"""The only rejection codes Coral accepts: one other value voids the whole answer."""

ID_PATTERN = r"^[^\x00\ud800-\udfff]*$"
"""Ids may not hold NUL or unpaired surrogates: no database or UTF-8 encoder takes them, and
replacing them would store (and answer for) an id the client never sent."""

_STR = {"type": "string"}
_ID = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": ID_PATTERN}
_OPT_ID = {"type": ["string", "null"], "minLength": 1, "maxLength": 200, "pattern": ID_PATTERN}
_TEXT = {"type": "string", "maxLength": 20000, "description": "Comment text, plain or HTML (at most 20,000 characters)"}
_NUM = {"type": "number"}
_OPT_STR = {"type": ["string", "null"]}


def _object(properties: dict, required=(), extra: bool = False, **more) -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": extra, **more}
    if required:
        schema["required"] = list(required)
    return schema


# Native API requests -----------------------------------------------------------------------------------
# revision: the CMS's own count (or clock) of a comment's edits; a request older than the stored one is answered
# with the stored verdict, so a late retry of the first text cannot undo an edit.
_REVISION = {"type": ["integer", "null"], "minimum": 0, "maximum": 2**63 - 1}
_COMMENT_FIELDS = {"id": _ID, "text": _TEXT, "article_id": _OPT_ID, "parent_id": _OPT_ID, "author_id": _OPT_ID,
                   "revision": _REVISION}
_ARTICLE_FIELDS = {"id": _ID, "title": {"type": "string", "maxLength": 1000},
                   "body": {"type": "string", "maxLength": 500_000}, "url": {"type": ["string", "null"], "maxLength": 2000}}


def request_schemas(max_batch: int) -> dict[str, dict]:
    """JSON schemas of the native and Coral request bodies."""
    batch_item = _object(_COMMENT_FIELDS, ["id", "text"])
    thread_item = _object({k: v for k, v in _COMMENT_FIELDS.items() if k != "article_id"}, ["id", "text"])
    return {
        "Comment": _object({"site_id": _ID, **_COMMENT_FIELDS}, ["id", "text"],
                           description="One comment to moderate"),
        "Batch": _object({"site_id": _ID, "comments": {"type": "array", "minItems": 1, "maxItems": max_batch,
                                                        "items": batch_item}}, ["comments"]),
        "Thread": _object({"site_id": _ID, "article": _object(_ARTICLE_FIELDS, ["id"]),
                           "comments": {"type": "array", "minItems": 1, "maxItems": max_batch,
                                        "items": thread_item}}, ["article", "comments"]),
        # "body" or "title": a headline alone updates the stored one and keeps the body (as in a thread).
        "Article": {**_object({"site_id": _ID, **_ARTICLE_FIELDS}, ["id"]),
                    "anyOf": [{"required": ["body"]}, {"required": ["title"]}]},
        "CoralRequest": _object({
            "action": {"enum": ["NEW", "EDIT"]},
            "comment": _object({"body": _STR, "parentID": _OPT_ID}, ["body"], extra=True),
            "author": _object({"id": _ID, "role": _OPT_STR}, ["id"], extra=True),
            "story": _object({"id": _ID, "url": _OPT_STR}, ["id"], extra=True),
            "site": _object({"id": _ID}, ["id"], extra=True),
            "tenantID": _ID, "tenantDomain": _OPT_STR,
        }, ["action", "comment", "author", "story", "site", "tenantID"], extra=True),
        "CoralEvent": _object({"id": _ID, "type": {"type": "string", "minLength": 1, "maxLength": 80},
                               "data": {"type": "object"}, "createdAt": _OPT_STR, "tenantID": _OPT_STR,
                               "tenantDomain": _OPT_STR}, ["id", "type"], extra=True),
    }


# Answers -------------------------------------------------------------------------------------------
_EVIDENCE = _object({"label": _STR, "begin": {"type": "integer"}, "end": {"type": "integer"}, "text": _STR,
                     "weight": _NUM}, ["label", "begin", "end", "text"])
_REASON = _object({
    "clause_id": _STR, "clause_text": _STR, "action": {"enum": list(ACTIONS)},
    "label": _OPT_STR, "score": {"type": ["number", "null"]}, "threshold": {"type": ["number", "null"]},
    "code": _OPT_STR, "evidence": {"type": "array", "items": _EVIDENCE},
}, ["clause_id", "clause_text", "action", "label", "score", "threshold", "code", "evidence"])
_SCORES = {"type": ["object", "null"], "properties": {h: _NUM for h in (*HEADS, "severe_toxicity")},
           "additionalProperties": _NUM}
_VERDICT = _object({
    "site_id": _STR, "comment_id": _STR, "version": {"type": "integer", "minimum": 1},
    "article_id": _OPT_STR, "parent_id": _OPT_STR, "author_id": _OPT_STR,
    "action": {"enum": list(ACTIONS)}, "reasons": {"type": "array", "items": _REASON},
    "scores": _SCORES, "stance": {"enum": [*STANCES, None]},
    "stance_scores": {"type": ["object", "null"], "additionalProperties": _NUM},
    "language": _OPT_STR, "fallback": {"enum": ["error", "empty", "no_words", "non_english", None]},
    "model_version": _STR, "policy_version": _STR, "created_at": _STR, "revision": _REVISION,
}, ["site_id", "comment_id", "version", "action", "reasons", "scores", "stance", "language", "fallback",
    "model_version", "policy_version", "created_at"])
_ERROR = _object({"error": _object({"code": _STR, "message": _STR, "field": _OPT_STR},
                                   ["code", "message", "field"])}, ["error"])
_STORED_ARTICLE = _object({"site_id": _STR, "id": _STR, "title": _STR, "url": _OPT_STR, "updated_at": _STR},
                          ["site_id", "id", "title", "url", "updated_at"])
_FLAG = _object({"actionType": {"const": "FLAG"},
                 "reason": {"enum": ["COMMENT_DETECTED_TOXIC", "COMMENT_DETECTED_SPAM"]}},
                ["actionType", "reason"])
_CORAL_ANSWER = _object({
    "status": {"enum": ["NONE", "APPROVED", "REJECTED", "PREMOD", "SYSTEM_WITHHELD"]},
    "actions": {"type": "array", "items": _FLAG},
    "tags": {"type": "array", "items": {"enum": ["FEATURED", "STAFF"]}},
    "moderationAction": _object({
        "status": {"enum": ["REJECTED"]},
        "rejectionReason": _object({"code": {"enum": list(CORAL_REJECTION_CODES)}, "detailedExplanation": _STR},
                                   ["code"])}, ["status", "rejectionReason"]),
})
_PROBABILITY = _object({"value": _NUM, "type": {"const": "PROBABILITY"}}, ["value", "type"])
_PERSPECTIVE_ANSWER = _object({
    "attributeScores": {"type": "object", "additionalProperties": _object({
        "summaryScore": _PROBABILITY,
        "spanScores": {"type": "array", "items": _object({"begin": {"type": "integer"}, "end": {"type": "integer"},
                                                          "score": _PROBABILITY}, ["begin", "end", "score"])},
    }, ["summaryScore"])},
    "languages": {"type": "array", "items": _STR},
    "clientToken": _STR,
}, ["attributeScores", "languages"])
_PERSPECTIVE_ERROR = _object({"error": _object({"code": {"type": "integer"}, "message": _STR, "status": _STR,
                                                "details": {"type": "array", "items": {"type": "object"}}},
                                               ["code", "message", "status"])}, ["error"])
_PERSPECTIVE_REQUEST = _object({
    "comment": _object({"text": _STR, "type": {"enum": ["PLAIN_TEXT", "HTML"]}}, ["text"], extra=True),
    "requestedAttributes": {"type": "object", "propertyNames": {"enum": list(PERSPECTIVE_ATTRIBUTES)},
                            "additionalProperties": {"type": "object"}},
    "languages": {"type": "array", "items": _STR}, "doNotStore": {"type": "boolean"},
    "spanAnnotations": {"type": "boolean"}, "clientToken": _STR, "communityId": _STR,
}, ["comment", "requestedAttributes"], extra=True)
_PERSPECTIVE_SUGGEST = _object({
    "comment": _object({"text": _STR}, ["text"], extra=True),
    "attributeScores": {"type": "object", "propertyNames": {"enum": list(PERSPECTIVE_ATTRIBUTES)},
                        "additionalProperties": _object({"summaryScore": _object({"value": _NUM}, ["value"], extra=True)},
                                                        ["summaryScore"], extra=True)},
    "languages": {"type": "array", "items": _STR}, "communityId": _STR,
    "clientToken": {"type": "string", "maxLength": 200}, "context": {"type": "object"},
}, ["comment", "attributeScores"], extra=True)


def _json(schema_name: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}


def _answer(description: str, schema_name: str | None = None) -> dict:
    return {"description": description, **(_json(schema_name) if schema_name else {})}


_NATIVE_ERRORS = {
    "400": _answer("The body is not valid JSON", "Error"),
    "401": _answer("Missing, stale or wrong signature", "Error"),
    "413": _answer("The body is over MODERATION_MAX_BODY_BYTES", "Error"),
    "415": _answer("The body is not declared as application/json", "Error"),
    "422": _answer("The body breaks the schema; error.field names the field", "Error"),
    "503": _answer("The database cannot store the verdict", "Error"),
}
_PERSPECTIVE_ERRORS = {
    "400": _answer("Bad key, bad JSON, unsupported attribute or language, empty or too long comment",
                   "PerspectiveError"),
    "401": _answer("The server has no API key configured (MODERATION_PERSPECTIVE_KEYS)", "PerspectiveError"),
    "403": _answer("No API key", "PerspectiveError"),
    "503": _answer("The database cannot store the request", "PerspectiveError"),
}


def _post(summary: str, body: str, answers: dict, security: str | None, errors=_NATIVE_ERRORS) -> dict:
    operation = {"summary": summary, "requestBody": {"required": True, **_json(body)},
                 "responses": {**answers, **errors}}
    if security:
        operation["security"] = [{security: []}] if security != "native" else \
            [{"nativeTimestamp": [], "nativeSignature": []}]
    return {"post": operation}


def _paths() -> dict:
    verdict = _answer("The stored verdict", "Verdict")
    verdicts = _answer("The stored verdicts, in request order", "VerdictList")
    return {
        "/v1/comments": _post("Moderate one comment", "Comment", {"200": verdict}, "native"),
        "/v1/comments/batch": _post("Moderate a batch of comments", "Batch", {"200": verdicts}, "native"),
        "/v1/threads": _post("Moderate a whole thread: an article and its comments, replies judged in context",
                             "Thread", {"200": verdicts}, "native"),
        "/v1/articles": _post("Register or update an article's text (stance is read against it)", "Article",
                              {"200": _answer("The stored article", "StoredArticle")}, "native"),
        "/v1/verdicts/{comment_id}": {"get": {
            "summary": "Read a comment's stored verdict (the latest version unless one is named)",
            "parameters": [
                {"name": "comment_id", "in": "path", "required": True, "schema": _ID},
                {"name": "site_id", "in": "query", "required": False, "schema": _ID},
                {"name": "version", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
            ],
            "security": [{"nativeTimestamp": [], "nativeSignature": []}],
            "responses": {"200": verdict, "404": _answer("No verdict stored for this comment", "Error"),
                          **{k: v for k, v in _NATIVE_ERRORS.items() if k in ("401", "422", "503")}},
        }},
        "/coral/moderate": _post(
            "Coral Talk external moderation phase", "CoralRequest",
            {"200": _answer("Hold (SYSTEM_WITHHELD + FLAG) or reject (REJECTED + moderationAction)", "CoralAnswer"),
             "204": {"description": "No opinion: the comment is clean and Coral carries on"}}, "coral"),
        "/coral/events": _post("Receiver for Coral's outgoing webhooks", "CoralEvent",
                               {"204": {"description": "Recorded (or already recorded)"}}, "coral"),
        "/v1alpha1/comments:analyze": _post(
            "Perspective-compatible comment analysis", "PerspectiveRequest",
            {"200": _answer("Attribute scores", "PerspectiveAnswer")}, "perspectiveKey", _PERSPECTIVE_ERRORS),
        "/v1alpha1/comments:suggestscore": _post(
            "Perspective-compatible feedback, stored as labels", "PerspectiveSuggestion",
            {"200": _answer("Acknowledged", "PerspectiveSuggestAnswer")}, "perspectiveKey", _PERSPECTIVE_ERRORS),
        "/healthz": {"get": {"summary": "The process is up", "responses": {"200": _answer("Up", "Health")}}},
        "/readyz": {"get": {"summary": "The model is loaded and the database answers",
                            "responses": {"200": _answer("Ready", "Ready"), "503": _answer("Not ready", "Ready")}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {
            "description": "Prometheus text format", "content": {"text/plain": {"schema": _STR}}}}}},
        "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {
            "description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    }


def document(max_batch: int) -> dict:
    """The OpenAPI document served at /openapi.json."""
    schemas = request_schemas(max_batch)
    schemas.update({
        "Verdict": _VERDICT,
        "VerdictList": _object({"verdicts": {"type": "array", "items": {"$ref": "#/components/schemas/Verdict"}}},
                               ["verdicts"]),
        "StoredArticle": _STORED_ARTICLE, "Error": _ERROR, "CoralAnswer": _CORAL_ANSWER,
        "PerspectiveRequest": _PERSPECTIVE_REQUEST, "PerspectiveAnswer": _PERSPECTIVE_ANSWER,
        "PerspectiveSuggestion": _PERSPECTIVE_SUGGEST,
        "PerspectiveSuggestAnswer": _object({"clientToken": _STR}),
        "PerspectiveError": _PERSPECTIVE_ERROR,
        "Health": _object({"status": {"const": "ok"}}, ["status"]),
        "Ready": _object({"status": {"enum": ["ready", "not ready"]}, "model_version": _OPT_STR,
                          "database": _STR, "schema_version": {"type": ["integer", "null"]}},
                         ["status", "model_version", "database"]),
    })
    return {
        "openapi": "3.1.0",
        "info": {"title": "moderation", "version": "1",
                 "description": "Policy-grounded moderation verdicts for news-site reader comments."},
        "paths": _paths(),
        "components": {"schemas": schemas, "securitySchemes": {
            "nativeTimestamp": {"type": "apiKey", "in": "header", "name": "X-Moderation-Timestamp",
                                "description": "Unix time in seconds; must be within the signature window"},
            "nativeSignature": {"type": "apiKey", "in": "header", "name": "X-Moderation-Signature",
                                "description": 'sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">'},
            "coral": {"type": "apiKey", "in": "header", "name": "X-Coral-Signature",
                      "description": "sha256=<hex HMAC-SHA256 of the raw body>[,sha256=...]"},
            "perspectiveKey": {"type": "apiKey", "in": "query", "name": "key"},
        }},
    }
