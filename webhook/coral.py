"""Coral Talk: the external moderation phase (POST /coral/moderate) and the webhook receiver.

A Coral admin pastes ``https://<host>/coral/moderate`` and the phase's signing secret into Coral's
"External moderation phase" settings, and the events URL into "Webhooks". Coral gives up after its
timeout (200 ms by default) and publishes, so this path does one batch of one and one short write.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request

from . import db
from .inputs import check, parse_json, raw_body, require_json, scrub, scrub_text
from .openapi import CORAL_REJECTION_CODES
from .service import CommentIn, database_unavailable, moderate, service
from .signing import verify_coral

bp = Blueprint("coral", __name__, url_prefix="/coral")

_FLAG_TOXIC = {"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}
_FLAG_SPAM = {"actionType": "FLAG", "reason": "COMMENT_DETECTED_SPAM"}
# Coral's moderators' final decisions, as label values (1 = a violation).
_DECISIONS = {"REJECTED": 1.0, "APPROVED": 0.0}


def _unscrubbed(schema_name: str) -> dict:
    """The signed body, checked against its schema, strings as sent (see :func:`scrub`)."""
    raw = raw_body()
    verify_coral(request.headers, raw, service().coral_secrets)
    require_json()
    data = parse_json(raw, scrub_strings=False)
    check(current_app.config["REQUEST_VALIDATORS"][schema_name], data)
    return data


def _body(schema_name: str) -> dict:
    return scrub(_unscrubbed(schema_name))


def comment_key(body: dict) -> str:
    """Coral sends no comment id: the same request always maps to the same key, an edit to a new one."""
    parts = [body["tenantID"], body["site"]["id"], body["story"]["id"], body["author"]["id"], body["action"],
             body["comment"].get("parentID"), body["comment"]["body"]]
    return "coral-" + hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()[:40]


def answer(verdict: dict):
    """Coral's answer for a verdict: 204 (no opinion) unless we hold or reject."""
    if verdict["action"] == "hold":
        return jsonify({"status": "SYSTEM_WITHHELD", "actions": _flags(verdict["reasons"], "hold")})
    if verdict["action"] == "reject":
        reason = _rejecting_reason(verdict["reasons"])
        code = reason.get("code") if reason.get("code") in CORAL_REJECTION_CODES else "OTHER"
        return jsonify({"status": "REJECTED", "actions": _flags(verdict["reasons"], "reject"), "moderationAction": {
            "status": "REJECTED",
            "rejectionReason": {"code": code, "detailedExplanation": reason.get("clause_text", "")}}})
    return _no_content()


def _flags(reasons: list[dict], action: str) -> list[dict]:
    """Coral's flags for the reasons that decided ``action``: spam for the spam clause's, toxic for any
    other (and for a verdict without such reasons)."""
    codes = {r.get("code") for r in reasons if r["action"] == action}
    flags = [_FLAG_TOXIC] if codes - {"SPAM"} or not codes else []
    return flags + ([_FLAG_SPAM] if "SPAM" in codes else [])


def _rejecting_reason(reasons: list[dict]) -> dict:
    rejecting = [r for r in reasons if r["action"] == "reject"]
    return max(rejecting, key=lambda r: r.get("score") or 0.0, default={})


def _no_content():
    response = current_app.response_class(status=204)
    del response.headers["Content-Type"]
    return response


@bp.post("/moderate")
def moderate_comment():
    body = _body("CoralRequest")
    # Coral has no answer for "too long", and its body limit is not ours: a body over the scorer's
    # 20,000 characters is scored whole in pieces; over 100,000 it gets the policy's "error" fallback.
    comment = CommentIn(comment_key(body), body["comment"]["body"], body["story"]["id"],
                        body["comment"].get("parentID"), body["author"]["id"])
    [verdict] = moderate(body["site"]["id"], [comment], source="coral", article_url=body["story"].get("url"))
    return answer(verdict)


@bp.post("/events")
def receive_event():
    event = _unscrubbed("CoralEvent")
    ids = _ids(event)
    scrub(event)
    try:
        with db.transaction(service().engine) as conn:
            if db.insert_coral_event(conn, event["id"], event["type"], event.get("tenantID"), event):
                _apply(conn, event, ids)
    except sa.exc.SQLAlchemyError as exc:
        raise database_unavailable(exc) from exc
    return _no_content()


def _ids(event: dict) -> dict[str, str | None]:
    """The event's site, story and comment ids, each None unless a string that can be stored as sent.

    Coral's events are stored whatever they hold (their payload with NUL and unpaired surrogates
    replaced), but an id the API would refuse (such a character, or over 200 characters) is not
    rewritten into one Coral never sent: it names no article or comment.
    """
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    return {key: value if isinstance(value, str) and 0 < len(value) <= 200 and scrub_text(value) == value else None
            for key, value in ((key, data.get(key)) for key in ("siteID", "storyID", "commentID"))}


def _apply(conn, event: dict, ids: dict[str, str | None]) -> None:
    """Turn what an event tells us into articles and labels; other events are only stored."""
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    site_id, story_id, comment_id = ids["siteID"], ids["storyID"], ids["commentID"]
    status = data.get("status") if isinstance(data.get("status"), str) else None
    if event["type"] == "STORY_CREATED" and site_id and story_id:
        db.note_article(conn, site_id, story_id, _text(data.get("storyURL"), 2000), source="coral")
    elif event["type"] == "COMMENT_LEFT_MODERATION_QUEUE" and status in _DECISIONS and site_id and comment_id:
        db.insert_label(conn, site_id, f"coral:{comment_id}", None, "moderator_decision", _DECISIONS[status],
                        source="coral:COMMENT_LEFT_MODERATION_QUEUE",
                        provenance={"event_id": event["id"], "tenantID": event.get("tenantID"),
                                    "storyID": story_id, "queue": _text(data.get("queue")),
                                    "status": status, "createdAt": event.get("createdAt")})
    db.insert_audit(conn, "coral_event", site_id, event["id"], {"type": event["type"]})


def _text(value, limit: int = 200) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None
