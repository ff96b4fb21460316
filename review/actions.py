"""Moderators' decisions: each one in one transaction with its labels, strikes, audit line and callback.

A decision names the verdict it was made on and the decision the moderator's page showed. If the comment
was edited meanwhile (a newer verdict), or someone else decided it since, the decision is refused rather
than applied to text, or over a decision, the moderator never saw. The item is read again, locked, in the
decision's own transaction, so two moderators acting at once are served one after the other.
"""

from __future__ import annotations

from moderation.labels import POLICY_LABELS
from webhook import db

from . import outbox
from .cards import LABEL_FOR_CODE, REJECTION_CODES_ALL, allowable, decision_state, effective_status

__all__ = ["AUTHOR_STATUSES", "DecisionError", "decide", "set_author_status", "strikes_outrank"]

AUTHOR_STATUSES = ("active", "premod", "blocked")
_MAX_EXPLANATION = 2000
_PAST = {"approve": "approved", "reject": "rejected"}


class DecisionError(ValueError):
    """A decision that cannot be applied, with its HTTP status."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def decide(engine, item: dict, decision: str, user: str, code: str | None = None,
           explanation: str | None = None, *, seen: str | None = None, allowed=None) -> dict:
    """Approve or reject one review item as ``user``; return the item as it was before, with ``seen_now``: the
    decision as a card now shows it (:func:`~review.cards.decision_state`); raise :class:`DecisionError` when it
    cannot be.

    ``item`` names the item and the verdict the moderator saw (``id``, ``verdict_id``); ``seen`` is the
    decision the page showed (:func:`~review.cards.decision_state`), by default ``item``'s own. ``allowed``:
    with an approval, the policy labels the moderator says the comment still has, which the site allows
    ("allowed here, but still profanity"): its training labels keep them, where a plain approval says the
    comment has none. Each must be one the card offered (a label the comment was flagged for, or one an
    earlier approval named). None (a bulk approval, which has no boxes) keeps what the comment's approval
    said.
    """
    code, explanation = _checked(decision, code, explanation)
    with db.transaction(engine) as conn:
        current = db.review_item_for_update(conn, item["id"])
        decided = _refuse_unless_current(current, item, decision_state(item) if seen is None else seen or "")
        allowed = _allowed(decision, current, allowed)
        if decided and (decision, code, explanation, allowed) == (current["decision"], current["reason_code"],
                                                                  current["explanation"], current["allowed"]):
            raise DecisionError(f"comment {current['comment_id']} is already {decided}: nothing changed", 409)
        if (db.newest_verdict_id(conn, current["comment_pk"]) or 0) > current["verdict_id"]:
            # Edited and judged again since the queue was brought up to date: the next refresh shows the edit.
            raise DecisionError(f"comment {current['comment_id']} changed since this page was loaded: "
                                "reload to see its new version", 409)
        at = db.now()
        db.decide_review_item(conn, current["id"], current["verdict_id"], decision, user, code, explanation, at,
                              allowed=allowed)
        _adjust_strikes(conn, current, decision)
        _store_labels(conn, current, decision, user, code, at, allowed)
        db.insert_audit(conn, f"review.{decision}", current["site_id"], current["comment_id"], {
            "version": current["version"], "verdict_id": current["verdict_id"],
            "model_action": current["model_action"], "previous": current["decision"] or current["model_action"],
            "code": code, "explanation": explanation, **({"allowed": allowed.split(",")} if allowed else {}),
            **({"previous_allowed": current["allowed"].split(",")} if current["allowed"] else {})}, actor=user)
        # When only what the site allows changed (an approval's boxes), the CMS has nothing to act on: no callback.
        if (current["decision"], current["reason_code"], current["explanation"]) != (decision, code, explanation):
            outbox.enqueue(conn, current["site_id"], "comment.decision", {
                "comment_id": current["comment_id"], "version": current["version"],
                "article_id": current["article_id"], "author_id": current["author_id"], "decision": decision,
                "status": _PAST[decision].upper(),
                "rejection_reason": {"code": code, "detailed_explanation": explanation} if decision == "reject" else None,
                "moderator": user, "decided_at": at.isoformat(timespec="seconds") + "Z"})
    return {**current, "seen_now": decision_state({"decision": decision, "decided_at": at}), "allowed_now": allowed}


def _checked(decision: str, code: str | None, explanation: str | None) -> tuple[str | None, str | None]:
    """The reason code and explanation a decision keeps."""
    if decision not in _PAST:
        raise DecisionError("decision must be approve or reject")
    if decision == "approve":
        return None, None
    code = (code or "").strip() or None
    if code not in REJECTION_CODES_ALL:
        raise DecisionError("choose a reason code to reject")
    return code, (explanation or "").strip()[:_MAX_EXPLANATION] or None


def _allowed(decision: str, current: dict, allowed) -> str | None:
    """An approval's allowed policy labels as stored (comma-separated, in the policy's order), or None; None
    given keeps the current approval's."""
    if allowed is None:
        return current["allowed"] if decision == "approve" else None
    chosen = {str(label).strip() for label in allowed if str(label).strip()}
    if not chosen:
        return None
    unknown = sorted(chosen - set(POLICY_LABELS))
    if unknown:
        raise DecisionError(f"allowed: {', '.join(repr(u) for u in unknown)} is not a policy label "
                            f"({', '.join(POLICY_LABELS)})")
    if decision != "approve":
        raise DecisionError("allowed labels go with an approval (what the site allows); a rejection names its "
                            "reason code")
    offered = {a["label"] for a in allowable(current)}
    if not chosen <= offered:
        raise DecisionError(f"allowed: comment {current['comment_id']} was not flagged for "
                            f"{', '.join(sorted(chosen - offered))}: only a label it was flagged for can be allowed")
    return ",".join(label for label in POLICY_LABELS if label in chosen)


def _refuse_unless_current(current: dict | None, item: dict, seen: str) -> str | None:
    """Refuse a decision on a comment that changed or was decided since the page was drawn; return how the
    comment's decision in force reads ("approved by bob at 11:34 UTC"), None when it has none."""
    if current is None:
        raise DecisionError(f"there is no review item {item['id']}: reload", 404)
    state = decision_state(current)
    if current["verdict_id"] > item["verdict_id"]:
        raise DecisionError(f"comment {current['comment_id']} changed since this page was loaded: "
                            "reload to see its new version", 409)
    if current["verdict_id"] != item["verdict_id"] or (seen and not state):  # no page drew such a card
        raise DecisionError(f"the form does not match comment {current['comment_id']} (a version or decision it "
                            "does not have): reload the page and decide again", 409)
    if not state:
        return None
    at = current["decided_at"]
    decided = (f"{_PAST[current['decision']]} by {current['decided_by']} at "
               f"{at.strftime('%H:%M' if at.date() == db.now().date() else '%Y-%m-%d %H:%M')} UTC")
    if seen != state:
        raise DecisionError(f"comment {current['comment_id']} was already {decided}: reload", 409)
    return decided


def _adjust_strikes(conn, item: dict, decision: str) -> None:
    """A rejection counts the comment as a strike against its author and an approval takes it back, each only
    when the comment's record (``comments.struck``, which the service sets too) says otherwise."""
    if item["author_id"]:
        db.set_struck(conn, item["site_id"], item["author_id"], item["comment_pk"], decision == "reject")


def _store_labels(conn, item: dict, decision: str, user: str, code: str | None, at=None,
                  allowed: str | None = None) -> None:
    """The decision as training labels, with the model's scores at the time; every row carries the decision's
    time (``decided_at``), so that ``make data`` reads the rows of one decision together and tells two
    decisions apart even when the same moderator decides the same way twice. An approval is 0 for each policy
    label but those the moderator said the comment still has (``allowed``), which are 1."""
    values = {"moderator_decision": 1.0 if decision == "reject" else 0.0}
    kept = allowed.split(",") if allowed else []
    if decision == "approve":  # approved: none of the policy's violations, or only those the site allows
        values.update({label: float(label in kept) for label in POLICY_LABELS})
    elif code in LABEL_FOR_CODE:
        values[LABEL_FOR_CODE[code]] = 1.0
    provenance = {"review_item": item["id"], "comment_id": item["comment_id"], "version": item["version"],
                  "verdict_id": item["verdict_id"], "model_action": item["model_action"], "code": code,
                  "moderator": user, "policy_version": item["policy_version"], "article_id": item["article_id"],
                  "decided_at": (at or db.now()).isoformat(), **({"allowed": kept} if kept else {})}
    for label, value in values.items():
        db.insert_label(conn, item["site_id"], item["comment_id"], item["text"], label, value, source="review",
                        provenance=provenance, scores=item["scores"], model_version=item["model_version"])


def strikes_outrank(policy, strikes: int, status: str) -> bool:
    """Whether an author's strikes alone put them under a harsher author rule of the policy than ``status``."""
    by_strikes = effective_status(policy, {"strikes": strikes})
    return AUTHOR_STATUSES.index(by_strikes) > AUTHOR_STATUSES.index(status)


def set_author_status(engine, site_id: str, author_id: str, status: str, user: str, policy) -> int:
    """Block, pre-moderate or restore an author, audited and sent to the CMS; return how many strikes were cleared.

    Under the ``policy``'s author rules strikes outrank a milder status, so restoring (or pre-moderating) an
    author whose strikes hold (or block) them clears the strikes: the author then is what the moderator chose.
    """
    if status not in AUTHOR_STATUSES:
        raise DecisionError(f"status must be one of {', '.join(AUTHOR_STATUSES)}")
    if not site_id or not author_id:
        raise DecisionError("site and author are required")
    with db.transaction(engine) as conn:
        if not db.author_known(conn, site_id, author_id):  # a typo would otherwise be sent to the CMS as a block
            raise DecisionError(f"no comment by author {author_id} on site {site_id} is stored: nothing was changed",
                                404)
        before = db.author_for_update(conn, site_id, author_id) or {"strikes": 0, "status": "active"}
        cleared = before["strikes"] if strikes_outrank(policy, before["strikes"], status) else 0
        db.set_author_status(conn, site_id, author_id, status)
        if cleared:
            db.clear_strikes(conn, site_id, author_id)
        db.insert_audit(conn, "review.author_status", site_id, author_id,
                        {"status": status, "previous": before["status"], "strikes_cleared": cleared}, actor=user)
        outbox.enqueue(conn, site_id, "author.status", {"author_id": author_id, "status": status, "moderator": user})
    return cleared
