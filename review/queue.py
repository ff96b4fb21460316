"""The queues, the comment and author pages, and the actions moderators take from them."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup

from moderation.labels import OTHER_LABELS, POLICY_LABELS
from webhook import db

from . import actions, search, throttle
from .auth import login_required, safe_next, signed_in_required
from .cards import REJECTION_CODES_ALL, allowed_note, build_cards, classify, effective_status

__all__ = ["MAX_PAGE", "QUEUE_TITLES", "Page", "bp", "page_arg", "paged", "queue_counts", "sync"]

QUEUE_TITLES = {"pending": "Pending", "reported": "Reported", "rejected": "Rejected", "approved": "Approved"}
PAGE_SIZE = 50
MAX_PAGE = 100_000  # a page number past it is read as this one: an offset the database can hold


def page_arg() -> int:
    """The page asked for, from 1 to MAX_PAGE (a page past the end lists nothing)."""
    return min(max(1, request.args.get("page", 1, type=int) or 1), MAX_PAGE)
_FILTERS = ("site_id", "article_id", "author_id", "label", "q")

bp = Blueprint("queue", __name__)


def _svc():
    return current_app.extensions["moderation"]


def sync(svc, margin: float) -> int:
    """Bring newly stored verdicts into their queues; return how many comments moved."""
    with db.connect(svc.engine) as conn:
        rows = db.verdicts_since(conn, db.review_cursor(conn))
    latest: dict[int, dict] = {}
    for row in rows:  # only a comment's newest verdict matters
        latest[row["comment_pk"]] = row
    if latest:
        items = [classify(svc.policy_for(r["site_id"]), r, margin) for r in latest.values()]
        with db.transaction(svc.engine) as conn:
            db.upsert_review_items(conn, items)
    if latest or not _INDEXED.get(id(svc.engine)):
        _index_for_search(svc.engine)
    return len(latest)


# Items whose text as the card shows it is filled in at a sync, at most this many a time (a database upgraded
# to schema 10 has none filled in: search reads the stored text for those meanwhile).
INDEX_BATCH = 1000
_INDEXED: dict[int, bool] = {}  # by engine: whether every item's search text was found filled in


def _index_for_search(engine) -> None:
    with db.connect(engine) as conn:
        todo = db.items_to_index(conn, INDEX_BATCH)
    if todo:
        with db.transaction(engine) as conn:
            db.set_search_texts(conn, [(row["id"], row["verdict_id"], search.searchable(row["text"])) for row in todo])
    _INDEXED[id(engine)] = len(todo) < INDEX_BATCH


# Decisions too: a comment edited since its page was drawn is then known to be, and a decision on it refused.
_SYNCED = ("queue.show", "queue.mine", "queue.comment", "queue.author", "queue.decide", "queue.bulk")


@bp.before_app_request
def _sync_before_pages() -> None:
    if request.endpoint in _SYNCED and g.get("user"):
        sync(_svc(), float(current_app.config["REVIEW_REPORT_MARGIN"]))


def _filters(args=None) -> dict:
    args = request.args if args is None else args
    return {name: args.get(name, "").strip()[:200] for name in _FILTERS if args.get(name, "").strip()}


def queue_counts() -> dict[str, int]:
    """How many comments each whole queue holds: the header's badges, on every page."""
    with db.connect(_svc().engine) as conn:
        return db.review_counts(conn, {})


@bp.get("/")
@signed_in_required
def index():
    if g.user["role"] == "editor":
        return redirect(url_for("editors.index"))
    return redirect(url_for("queue.show", name="pending"))


@bp.get("/queue/<name>")
@login_required
def show(name: str):
    if name not in QUEUE_TITLES:
        abort(404, f"There is no queue called {name!r}.")
    filters, order = _filters(), "risk" if request.args.get("order") == "risk" else "newest"
    found = None
    with db.connect(_svc().engine) as conn:
        counts = db.review_counts(conn, {})  # the header's badges: whole queues, whatever the filters
        if filters.get("q"):
            found = search.find(conn, filters)
            shown = found.counts()

            def fetch(limit, offset, **place):
                return found.page(conn, name, order, limit, offset, **place)
        else:
            shown = db.review_counts(conn, filters) if filters else counts  # the heading: this list

            def fetch(limit, offset, **place):
                return db.review_queue(conn, name, filters, order, limit, offset, **place)
        page = paged("queue.show", dict(name=name, order=order, **filters), db.queue_key_columns(order), fetch,
                     PAGE_SIZE, f"this queue's {order} order", "the queue")
        cards = build_cards(conn, _svc(), page.items)
    return render_template("review/queue.html", name=name, cards=cards, counts=counts, shown=shown, filters=filters,
                           order=order, page=page, labels=POLICY_LABELS + OTHER_LABELS,
                           codes=REJECTION_CODES_ALL, capped=search.CANDIDATES if found and found.capped else None)


# A list page's place, as its links carry it: the sort key of the row it follows (``after``) or precedes
# (``before``), its values joined by "~": for a queue, risk (sorted by risk), time and row id. A page is the rows
# after the last one shown, whatever was added above it or decided meanwhile (with page numbers, a page repeated
# or skipped rows). ``page=N`` is still read, for links made before pages had places.
def _place_value(column, text: str):
    if isinstance(column.type, sa.Float):  # a risk
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(text)
        return value
    if isinstance(column.type, sa.DateTime):
        value = datetime.fromisoformat(text)
        if value.tzinfo is not None:  # stored times are naive UTC
            raise ValueError(text)
        return value
    value = int(text)
    if not 0 <= value <= 2**63 - 1:  # a row id a database column holds
        raise ValueError(text)
    return value


def _place_of(values: tuple) -> str:
    return "~".join(v.isoformat() if isinstance(v, datetime) else str(v) for v in values)


def _place_arg(arg: str, columns: tuple, what: str, again: str) -> tuple | None:
    raw = request.args.get(arg)
    if not raw:
        return None
    parts = raw.split("~")
    try:
        if len(parts) != len(columns):
            raise ValueError(raw)
        return tuple(_place_value(column, part) for column, part in zip(columns, parts))
    except (ValueError, OverflowError):
        abort(400, f"{arg}: not a place in {what} ({raw[:60]!r}); open {again} again")


@dataclass(frozen=True)
class Page:
    """One page of a list and the links to the pages either side of it."""

    items: list
    newer_url: str | None
    older_url: str | None
    deep: bool  # not the list's first page


def paged(endpoint: str, links: dict, columns: tuple, fetch, size: int, what: str, again: str) -> Page:
    """The page of a list the request asks for (``after``, ``before`` or ``page``) with its links.

    ``fetch(limit, offset, after=..., before=...)`` gives the list's rows as ``db._page`` does, sorted by the
    table ``columns`` (``db.DECIDED_KEY``, ...); ``what`` and ``again`` name the list in the refusal of a place
    that is not one.
    """
    def key_of(row: dict) -> tuple:
        return db.row_key(row, columns)

    after, before = _place_arg("after", columns, what, again), _place_arg("before", columns, what, again)
    offset = (page_arg() - 1) * size if after is None and before is None else 0
    # One more than a page, to know whether there is another beyond it.
    items = fetch(size + 1, 0, before=before) if before is not None else fetch(size + 1, offset, after=after)
    if before is not None and len(items) <= size:
        before, items = None, fetch(size + 1, 0)  # back at the top: the first page, whole
    if before is not None:
        newer, older, items = True, True, items[-size:]
    else:
        newer, older, items = after is not None or offset > 0, len(items) > size, items[:size]
    newer_url = None
    if newer:
        newer_url = url_for(endpoint, **links, before=_place_of(key_of(items[0]))) if items else url_for(endpoint, **links)
    older_url = url_for(endpoint, **links, after=_place_of(key_of(items[-1]))) if older and items else None
    return Page(items, newer_url, older_url, newer)


@bp.get("/mine")
@login_required
def mine():
    """The comments the signed-in moderator decided (and nobody has since), newest decision first: where a
    mistaken decision is found again and corrected."""
    user = g.user["username"]
    with db.connect(_svc().engine) as conn:
        page = paged("queue.mine", {}, db.DECIDED_KEY,
                     lambda limit, offset, **place: db.decided_by(conn, user, limit, offset, **place),
                     PAGE_SIZE, "your decisions' order", "My decisions")
        total = db.decided_by_count(conn, user)
        cards = build_cards(conn, _svc(), page.items)
        counts = db.review_counts(conn, {})
    return render_template("review/mine.html", cards=cards, total=total, counts=counts, page=page,
                           codes=REJECTION_CODES_ALL, name="mine")


@bp.get("/comment")
@login_required
def comment():
    with db.connect(_svc().engine) as conn:
        item = db.review_item(conn, request.args.get("site_id", ""), request.args.get("comment_id", ""))
        if item is None:
            abort(404, "No such comment in the review queue.")
        cards = build_cards(conn, _svc(), [item])
        counts = db.review_counts(conn, {})
    return render_template("review/comment.html", cards=cards, counts=counts, codes=REJECTION_CODES_ALL,
                           name=item["queue"])


@bp.get("/author")
@login_required
def author():
    site_id, author_id = request.args.get("site_id", ""), request.args.get("author_id", "")
    policy = _svc().policy_for(site_id)
    with db.connect(_svc().engine) as conn:
        record = db.authors_by_id(conn, site_id, [author_id]).get(author_id) or {"strikes": 0, "status": "active"}
        history = db.author_history(conn, site_id, [author_id]).get(author_id, {})
        page = paged("queue.author", dict(site_id=site_id, author_id=author_id), db.AUTHOR_KEY,
                     lambda limit, offset, **place: db.author_items(conn, site_id, author_id, limit, offset, **place),
                     PAGE_SIZE, "this author's comments", "the author's page")
        cards = build_cards(conn, _svc(), page.items)
        # A failed sign-in's subject is the name typed, which may be an author id: it is no line about the author.
        audit = db.list_audit(conn, limit=50, subject=author_id, hidden=(throttle.EVENT,))
        counts = db.review_counts(conn, {})
    total = sum(history.values())
    if not total and author_id not in {a["subject"] for a in audit} and record.get("updated_at") is None:
        abort(404, "No comments by that author are stored.")
    return render_template("review/author.html", site_id=site_id, author_id=author_id, record=record,
                           history=history, cards=cards, page=page, total=total,
                           rules=policy.authors, audit=audit, counts=counts,
                           effective=effective_status(policy, record), codes=REJECTION_CODES_ALL,
                           statuses=actions.AUTHOR_STATUSES, clears={
                               s: actions.strikes_outrank(policy, record["strikes"], s)
                               for s in actions.AUTHOR_STATUSES})


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _done(message: str, status: int = 200, *, comment: dict | None = None, author: tuple[str, str] | None = None,
          seen: str | None = None, decided: str | None = None, allowed: list[str] | None = None):
    """Answer an action: JSON for the script, else a message and a redirect back to the page it came from.

    ``comment`` (a decided item) links the message to the comment's page, where a mistaken decision is
    overturned; ``author`` (site, author) adds that author's record, so the page's cards show it at once;
    ``seen`` is the decision as the comment's card now shows it, so a card left on the page (the comment's or
    the author's) can correct it without a reload, ``decided`` the line that card shows for it and ``allowed``
    the boxes it shows ticked.
    """
    link = {"href": url_for("queue.comment", site_id=comment["site_id"], comment_id=comment["comment_id"]),
            "text": comment["comment_id"]} if comment else None
    # The script reloads the page after a refusal, so a refusal is kept for the next page as well.
    if status >= 400 or not _wants_json():
        flash(_linked(message, link), "error" if status >= 400 else "info")
    if not _wants_json():
        return redirect(request.script_root + _back())
    page = urlsplit(_back())  # whole queues for the header, and the page's list under its filters for its heading
    filters = _filters(dict(parse_qsl(page.query))) if page.path.startswith("/queue/") else {}
    with db.connect(_svc().engine) as conn:
        counts = db.review_counts(conn, {})
        shown = (search.find(conn, filters).counts() if filters.get("q")
                 else db.review_counts(conn, filters) if filters else counts)
        record = _author_record(conn, *author) if author else None
    return jsonify({"ok": status < 400, "message": message, "link": link, "author": record, "counts": counts,
                    "shown": shown, "seen": seen, "decided": decided, "allowed": allowed}), status


def _linked(message: str, link: dict | None) -> str | Markup:
    """The message with the last mention of the linked comment made a link; everything else escaped."""
    if not link or link["text"] not in message:
        return message
    before, _, after = message.rpartition(link["text"])
    return Markup('{}<a href="{}">{}</a>{}').format(before, link["href"], link["text"], after)


def _author_record(conn, site_id: str, author_id: str) -> dict | None:
    """What a card's author line shows: strikes, the status in force, and the author's comments per queue."""
    if not author_id:
        return None
    record = db.authors_by_id(conn, site_id, [author_id]).get(author_id) or {"strikes": 0, "status": "active"}
    return {"site_id": site_id, "author_id": author_id, "strikes": record["strikes"],
            "status": effective_status(_svc().policy_for(site_id), record),
            "history": db.author_history(conn, site_id, [author_id])[author_id]}


def _back() -> str:
    return safe_next(request.form.get("next"))


@bp.post("/items/<id:item_id>/decide")
@login_required
def decide(item_id: int):
    verdict_id = request.form.get("verdict_id", "")
    verdict_id = int(verdict_id) if _ROW_ID.fullmatch(verdict_id) else None
    if verdict_id is None:  # without it an edit made since the page was drawn would go unnoticed
        return _done("The decision did not say which version of the comment it was made on (verdict_id): "
                     "reload the page and decide again.", 422)
    decision = request.form.get("decision", "")
    try:  # on the version, and over the decision (seen), that the moderator saw
        item = actions.decide(_svc().engine, {"id": item_id, "verdict_id": verdict_id}, decision, g.user["username"],
                              request.form.get("code"), request.form.get("explanation"),
                              seen=request.form.get("seen", ""), allowed=request.form.getlist("allowed"))
    except actions.DecisionError as exc:
        return _done(str(exc), exc.status)
    code = request.form.get("code") if decision == "reject" else None
    explanation = (request.form.get("explanation") or "").strip() if decision == "reject" else ""
    # The card's "decided" line, as the page draws it.
    decided = f"{'approved' if decision == 'approve' else 'rejected'} by {g.user['username']} at {db.now():%Y-%m-%d %H:%M} UTC"
    decided += (f" ({code})" if code else "") + (f": {explanation}" if explanation else "")
    decided += allowed_note(item["allowed_now"])
    return _done(f"{'Approved' if decision == 'approve' else 'Rejected'} comment {item['comment_id']}.",
                 comment=item, author=(item["site_id"], item["author_id"]), seen=item["seen_now"], decided=decided,
                 allowed=item["allowed_now"].split(",") if item["allowed_now"] else [])


# An id as forms send it: ASCII digits ("²".isdigit() is true), and no more than a database column holds.
_ROW_ID = re.compile(r"[0-9]{1,18}")


@bp.post("/bulk")
@login_required
def bulk():
    chosen = {}
    for value in request.form.getlist("item"):  # "<item id>:<verdict id>:<decision seen>"
        item_id, _, rest = value.partition(":")
        verdict_id, _, seen = rest.partition(":")
        if _ROW_ID.fullmatch(item_id) and _ROW_ID.fullmatch(verdict_id):
            chosen[int(item_id)] = ({"id": int(item_id), "verdict_id": int(verdict_id)}, seen)
    decision = request.form.get("decision", "")
    if not chosen:
        return _done("Select comments first (x selects the current one).", 422)
    if decision == "reject" and not request.form.get("code", "").strip():
        return _done("Choose a reason for rejecting the selected comments: nothing was rejected.", 422)
    done, problems = 0, []
    for item, seen in chosen.values():
        try:
            actions.decide(_svc().engine, item, decision, g.user["username"], request.form.get("code"),
                           request.form.get("explanation"), seen=seen)
            done += 1
        except actions.DecisionError as exc:
            problems.append(str(exc))
    done_word = {"approve": "approved", "reject": "rejected"}.get(decision, "decided")
    message = f"{done} of {len(chosen)} comments {done_word}." + (
        " " + "; ".join(problems[:5]) if problems else "")
    return _done(message, 200 if done else 422)


_STATUS_WORDS = {"blocked": "Block", "premod": "Pre-moderate", "active": "Restore"}
_ASKS_FIRST = ("blocked", "premod")  # acts on every future comment of the author


@bp.post("/author/status")
@login_required
def author_status():
    site_id, author_id = request.form.get("site_id", ""), request.form.get("author_id", "")
    status = request.form.get("status", "")
    if status in _ASKS_FIRST and not request.form.get("confirmed"):
        # The script asks before it sends; without it, this page asks.
        if _wants_json():
            return _done(f"{_STATUS_WORDS[status]} author {author_id}? Nothing was changed: confirm first.", 422)
        return _confirm_status(site_id, author_id, status)
    try:
        cleared = actions.set_author_status(_svc().engine, site_id, author_id, status, g.user["username"],
                                            _svc().policy_for(site_id))
    except actions.DecisionError as exc:
        return _done(str(exc), exc.status)
    words = {"blocked": "Blocked", "premod": "Pre-moderating", "active": "Restored"}
    return _done(f"{words[status]} author {author_id}" + (
        f" and cleared their {cleared} strike{'' if cleared == 1 else 's'}." if cleared else "."),
        author=(site_id, author_id))


def _confirm_status(site_id: str, author_id: str, status: str):
    with db.connect(_svc().engine) as conn:
        record = db.authors_by_id(conn, site_id, [author_id]).get(author_id) or {"strikes": 0, "status": "active"}
    policy = _svc().policy_for(site_id)
    return render_template("review/confirm.html", site_id=site_id, author_id=author_id, status=status,
                           verb=_STATUS_WORDS[status], back=_back(), record=record,
                           clears=actions.strikes_outrank(policy, record["strikes"], status))


@bp.get("/help")
@login_required
def help_page():
    """The keys, as a page: the "?" link's target without JavaScript (with it, the same table in a dialog)."""
    return render_template("review/help.html")
