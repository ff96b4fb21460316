"""What a comment card shows: the text with its evidence marked, scores against thresholds, context.

Comment text is hostile input. :func:`highlight` shows it as readable text (:mod:`review.text`),
escapes every piece of it and adds only its own ``<mark>`` tags, each starting with its labels as
text for screen readers; templates never mark a comment's text safe any other way.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from moderation.labels import POLICY_LABELS, REJECTION_CODES
from moderation.policy import AuthorState, Policy
from webhook import db

from .text import Readable, readable

__all__ = ["REJECTION_CODES_ALL", "allowable", "allowed_note", "build_cards", "classify", "decision_state", "evidence_spans",
           "highlight", "suggested_code"]

# The DSA-style codes a moderator can give (Coral's rejectionReason.code), with what each means.
REJECTION_CODES_ALL = {
    "OFFENSIVE": "Offensive: profanity or vulgarity",
    "ABUSIVE": "Abusive: a personal attack or insult",
    "HARASSMENT_BULLYING": "Harassment or bullying",
    "HATE_SPEECH": "Hate speech, threats or incitement",
    "SPAM": "Spam",
    "AD": "Advertising",
    "BANNED_WORD": "A banned word",
    "ILLEGAL_CONTENT": "Illegal content",
    "MISINFORMATION": "Misinformation",
    "IRRELEVANT_CONTENT": "Off topic",
    "OTHER": "Other",
}
LABEL_FOR_CODE = {code: label for label, code in REJECTION_CODES.items()} | {"HARASSMENT_BULLYING": "personal_attack"}


def evidence_spans(reasons: list[dict], length: int) -> list[tuple[int, int, str]]:
    """Valid evidence spans of a verdict's reasons, as (begin, end, label), in order."""
    spans = []
    for reason in reasons or []:
        for item in reason.get("evidence") or []:
            begin, end = item.get("begin"), item.get("end")
            if isinstance(begin, int) and isinstance(end, int) and 0 <= begin < end <= length:
                spans.append((begin, end, str(item.get("label") or reason.get("label") or "")))
    return sorted(spans)


def highlight(text: str, reasons: list[dict], shown: Readable | None = None) -> Markup:
    """The comment as readable text (``shown``, when already made), escaped, with each evidence span (offsets
    into ``text`` as the CMS sent it) wrapped in ``<mark>``."""
    shown = shown or readable(text)
    merged: list[list] = []
    for begin, end, label in evidence_spans(reasons, len(text)):
        begin, end = shown.span(begin, end)
        if begin == end:  # evidence inside markup only
            continue
        if merged and begin < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2].add(label)
        else:
            merged.append([begin, end, {label}])
    out, position, text = [], 0, shown.text
    for begin, end, labels in merged:
        out.append(escape(text[position:begin]))
        names = sorted(labels)
        out.append(Markup('<mark title="{}"><span class="vh">{}: </span>{}</mark>').format(
            ", ".join(names), ", ".join(n.replace("_", " ") for n in names), text[begin:end]))
        position = end
    out.append(escape(text[position:]))
    return Markup("").join(out)


def classify(policy: Policy, row: dict, margin: float) -> dict:
    """The review item for a stored verdict: its queue, its risk and the labels near or over a threshold."""
    scores = row.get("scores") or {}
    risk, labels = 0.0, []
    for clause in policy.clauses:
        for label in clause.labels:
            value = float(scores.get(label) or 0.0)
            risk = max(risk, value)
            if value >= clause.hold_at - margin:
                labels.append(label)
    action = row["action"]
    queue = {"hold": "pending", "reject": "rejected"}.get(action) or ("reported" if labels else "approved")
    return {"comment_pk": row["comment_pk"], "verdict_id": row["verdict_id"], "site_id": row["site_id"],
            "comment_id": row["comment_id"], "article_id": row["article_id"], "author_id": row["author_id"],
            "model_action": action, "queue": queue, "risk": round(risk, 4),
            "labels": "," + ",".join(sorted(set(labels))) + ",", "verdict_at": row["created_at"],
            "text_sha256": row.get("text_sha256")}


def suggested_code(item: dict) -> str:
    """The rejection code the verdict's strongest reason suggests."""
    reasons = [r for r in item.get("reasons") or [] if r.get("code")]
    if not reasons:
        return "OTHER"
    return max(reasons, key=lambda r: r.get("score") or 0.0)["code"]


def decision_state(item: dict) -> str:
    """A moderator's decision on a comment as a card shows it ("" for none, else "<decision>@<decided_at>"); a
    decision sends it back, so one made on a card that someone has decided since is told from an overturn."""
    return f"{item['decision']}@{item['decided_at'].isoformat()}" if item.get("decision") else ""


def allowed_note(allowed: str | None) -> str:
    """What a card's decided line adds for an approval's allowed labels ("" for none)."""
    if not allowed:
        return ""
    return f"; still {', '.join(label.replace('_', ' ') for label in allowed.split(','))}, allowed here"


def allowable(item: dict) -> list[dict]:
    """The policy labels an approval can say the comment still has: those the queue flagged it for (near or over
    a hold threshold), and any an earlier approval named; each with whether the current decision names it."""
    flagged = set((item.get("labels") or "").strip(",").split(","))
    allowed = set((item.get("allowed") or "").split(","))
    return [{"label": label, "checked": label in allowed}
            for label in POLICY_LABELS if label in flagged or label in allowed]


def _score_rows(policy: Policy, scores: dict | None) -> list[dict]:
    rows = []
    # The policy's three labels always; another label a clause acts on (spam) where the model scored it.
    extra = [label for label in policy.labels if label not in POLICY_LABELS and label in (scores or {})]
    for label in (*POLICY_LABELS, *extra):
        clause = policy.clause_for(label)
        value = float((scores or {}).get(label) or 0.0)
        hold, reject = (clause.hold_at, clause.reject_at) if clause else (None, None)
        level = "reject" if reject is not None and value >= reject else "hold" if hold is not None and value >= hold else "ok"
        rows.append({"label": label, "score": value, "hold_at": hold, "reject_at": reject, "level": level})
    return rows


def build_cards(conn, svc, items: list[dict]) -> list[dict]:
    """Everything each card shows, read in a few queries per site for a whole page."""
    by_site: dict[str, list[dict]] = {}
    for item in items:
        by_site.setdefault(item["site_id"], []).append(item)
    context = {}
    for site_id, group in by_site.items():
        authors = [i["author_id"] for i in group]
        context[site_id] = {
            "articles": db.articles_by_id(conn, site_id, [i["article_id"] for i in group]),
            "parents": db.comment_texts(conn, site_id, [i["parent_id"] for i in group]),
            "authors": db.authors_by_id(conn, site_id, authors),
            "history": db.author_history(conn, site_id, authors),
        }
    return [_card(svc.policy_for(item["site_id"]), item, context[item["site_id"]]) for item in items]


def _card(policy: Policy, item: dict, ctx: dict) -> dict:
    article = ctx["articles"].get(item["article_id"]) or {}
    author = ctx["authors"].get(item["author_id"]) or {"strikes": 0, "status": "active"}
    deciding = [r for r in item["reasons"] or [] if r.get("action") == item["model_action"]]
    shown = readable(item["text"])
    return {
        **item,
        "html": highlight(item["text"], item["reasons"], shown),
        "was_html": shown.changed,
        "score_rows": _score_rows(policy, item["scores"]),
        "deciding": deciding,
        "suggested_code": suggested_code(item),
        "seen": decision_state(item),
        "allowable": allowable(item),
        "allowed_note": allowed_note(item.get("allowed")),
        "article_title": article.get("title") or None,
        "parent_text": readable(ctx["parents"].get(item["parent_id"]) or "").text if item["parent_id"] else None,
        "author": {**author, "history": ctx["history"].get(item["author_id"], {}),
                   "effective": effective_status(policy, author)},
    }


# The author rules' verdict for an author's comments, as the status it amounts to.
_STATUS_FOR_ACTION = {"approve": "active", "hold": "premod", "reject": "blocked"}


def effective_status(policy: Policy, author: dict) -> str:
    """What the policy's author rules make of an author's strikes and status."""
    state = AuthorState(author.get("strikes", 0), author.get("status", "active"))
    return _STATUS_FOR_ACTION[policy.author_action(state)]
