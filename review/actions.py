"""Moderators' decisions: each one in one transaction with its labels, strikes, audit line and callback.

A decision names the verdict it was made on. If the comment was edited meanwhile (a newer verdict),
the decision is refused rather than applied to text the moderator never saw.
"""

from __future__ import annotations

from moderation.labels import POLICY_LABELS
from webhook import db

from . import outbox
from .cards import LABEL_FOR_CODE, REJECTION_CODES_ALL

__all__ = ["AUTHOR_STATUSES", "DecisionError", "decide", "set_author_status"]

AUTHOR_STATUSES = ("active", "premod", "blocked")
_MAX_EXPLANATION = 2000


class DecisionError(ValueError):
    """A decision that cannot be applied, with its HTTP status."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def _struck(item: dict) -> bool:
    """Whether the comment counts as a strike against its author now."""
    if item["decision"] is not None:
        return item["decision"] == "reject"
    # The service counts a strike when the model rejects on a label (not on the author's record).
    return item["model_action"] == "reject" and any(
        r.get("action") == "reject" and r.get("label") for r in item["reasons"] or [])


def decide(engine, item: dict, decision: str, user: str, code: str | None = None,
           explanation: str | None = None) -> None:
    """Approve or reject one review item as ``user``; raise :class:`DecisionError` when it cannot be."""
    if decision not in ("approve", "reject"):
        raise DecisionError("decision must be approve or reject")
    code = (code or "").strip() or None
    explanation = (explanation or "").strip()[:_MAX_EXPLANATION] or None
    if decision == "reject" and code not in REJECTION_CODES_ALL:
        raise DecisionError("choose a reason code to reject")
    if decision == "approve":
        code = explanation = None
    with db.transaction(engine) as conn:
        if not db.decide_review_item(conn, item["id"], item["verdict_id"], decision, user, code, explanation):
            raise DecisionError("the comment changed since this page was loaded: reload to see its new version", 409)
        _adjust_strikes(conn, item, decision)
        _store_labels(conn, item, decision, user, code)
        db.insert_audit(conn, f"review.{decision}", item["site_id"], item["comment_id"], {
            "version": item["version"], "verdict_id": item["verdict_id"], "model_action": item["model_action"],
            "previous": item["decision"] or item["model_action"], "code": code, "explanation": explanation},
            actor=user)
        outbox.enqueue(conn, item["site_id"], "comment.decision", {
            "comment_id": item["comment_id"], "version": item["version"], "article_id": item["article_id"],
            "author_id": item["author_id"], "decision": decision, "status": "APPROVED" if decision == "approve" else "REJECTED",
            "rejection_reason": {"code": code, "detailed_explanation": explanation} if decision == "reject" else None,
            "moderator": user, "decided_at": db.now().isoformat(timespec="seconds") + "Z"})


def _adjust_strikes(conn, item: dict, decision: str) -> None:
    if not item["author_id"]:
        return
    before, after = _struck(item), decision == "reject"
    if after and not before:
        db.add_strike(conn, item["site_id"], item["author_id"])
    elif before and not after:
        db.remove_strike(conn, item["site_id"], item["author_id"])


def _store_labels(conn, item: dict, decision: str, user: str, code: str | None) -> None:
    """The decision as training labels, with the model's scores at the time."""
    values = {"moderator_decision": 1.0 if decision == "reject" else 0.0}
    if decision == "approve":
        values.update(dict.fromkeys(POLICY_LABELS, 0.0))  # approved: none of the policy's violations
    elif code in LABEL_FOR_CODE:
        values[LABEL_FOR_CODE[code]] = 1.0
    provenance = {"review_item": item["id"], "comment_id": item["comment_id"], "version": item["version"],
                  "verdict_id": item["verdict_id"], "model_action": item["model_action"], "code": code,
                  "moderator": user, "policy_version": item["policy_version"], "article_id": item["article_id"]}
    for label, value in values.items():
        db.insert_label(conn, item["site_id"], item["comment_id"], item["text"], label, value, source="review",
                        provenance=provenance, scores=item["scores"], model_version=item["model_version"])


def set_author_status(engine, site_id: str, author_id: str, status: str, user: str) -> None:
    """Block, pre-moderate or restore an author; audited and sent to the CMS."""
    if status not in AUTHOR_STATUSES:
        raise DecisionError(f"status must be one of {', '.join(AUTHOR_STATUSES)}")
    if not site_id or not author_id:
        raise DecisionError("site and author are required")
    with db.transaction(engine) as conn:
        before = db.authors_by_id(conn, site_id, [author_id]).get(author_id)
        db.set_author_status(conn, site_id, author_id, status)
        db.insert_audit(conn, "review.author_status", site_id, author_id,
                        {"status": status, "previous": before["status"] if before else "active"}, actor=user)
        outbox.enqueue(conn, site_id, "author.status", {"author_id": author_id, "status": status, "moderator": user})
