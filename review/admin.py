"""Admins' pages: users, callback deliveries, the policies in force; and the audit log."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from webhook import db

from . import auth, throttle
from .auth import admin_required, login_required
from .queue import paged

__all__ = ["bp"]

bp = Blueprint("admin", __name__)
_AUDIT_PAGE = 100
_DELIVERIES_PAGE = 100
_CALLBACK_STATUSES = ("pending", "delivered", "failed")


def _engine():
    return current_app.extensions["moderation"].engine


def _counts() -> dict:
    with db.connect(_engine()) as conn:
        return db.review_counts(conn, {})


@bp.get("/audit")
@login_required
def audit():
    actor = request.args.get("actor", "").strip() or None
    with db.connect(_engine()) as conn:
        page = paged("admin.audit", dict(actor=actor), db.AUDIT_KEY,
                     lambda limit, offset, **place: db.list_audit(conn, limit, offset, actor=actor,
                                                                  hidden=_hidden_events(), **place),
                     _AUDIT_PAGE, "the audit log", "the audit log")
    return render_template("review/audit.html", page=page, actor=actor, counts=_counts(), subject_url=_subject_url)


def _hidden_events() -> tuple[str, ...]:
    """Audit events the signed-in user may not read: failed sign-ins are for admins only, since people type
    passwords into the name field, and the lines carry the client's address."""
    return () if g.user["role"] == "admin" else (throttle.EVENT,)


_COMMENT_EVENTS = ("verdict", "review.approve", "review.reject")


def _subject_url(line: dict) -> str | None:
    """The page of an audit line's subject: a comment's (where a decision is overturned) or an author's."""
    if not (line["site_id"] and line["subject"]):
        return None
    if line["event"] in _COMMENT_EVENTS:
        return url_for("queue.comment", site_id=line["site_id"], comment_id=line["subject"])
    if line["event"] == "review.author_status":
        return url_for("queue.author", site_id=line["site_id"], author_id=line["subject"])
    return None


@bp.get("/admin/users")
@admin_required
def users():
    with db.connect(_engine()) as conn:
        rows = db.list_users(conn)
    return render_template("review/users.html", users=rows, roles=auth.ROLES, counts=_counts())


@bp.post("/admin/users")
@admin_required
def create_user():
    form = request.form
    try:
        user = auth.create_user(_engine(), form.get("username", ""), form.get("password", ""), form.get("role", ""))
    except ValueError as exc:
        flash(str(exc), "error")
    else:
        _audit("user.create", user["username"], {"role": user["role"]})
        flash(f"Created {user['role']} {user['username']}.", "info")
    return redirect(url_for("admin.users"))


@bp.post("/admin/users/<id:user_id>")
@admin_required
def update_user(user_id: int):
    with db.connect(_engine()) as conn:
        user = db.user_by_id(conn, user_id)
    if user is None:
        flash("No such user.", "error")
        return redirect(url_for("admin.users"))
    form = request.form
    if user_id == g.user["id"] and (form.get("role", "admin") != "admin" or form.get("active") == "0"):
        flash("You cannot demote or deactivate yourself; ask another admin.", "error")
        return redirect(url_for("admin.users"))
    try:
        if form.get("password"):
            auth.set_password(_engine(), user_id, form["password"])
        changes = {}
        if form.get("role") in auth.ROLES:
            changes["role"] = form["role"]
        if form.get("active") in ("0", "1"):
            changes["active"] = form["active"] == "1"
        with db.transaction(_engine()) as conn:
            db.update_user(conn, user_id, **changes)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.users"))
    _audit("user.update", user["username"], {**changes, "password_changed": bool(form.get("password"))})
    flash(f"Updated {user['username']}.", "info")
    return redirect(url_for("admin.users"))


def _audit(event_name: str, subject: str, detail: dict) -> None:
    with db.transaction(_engine()) as conn:
        db.insert_audit(conn, event_name, None, subject, detail, actor=g.user["username"])


@bp.get("/admin/deliveries")
@admin_required
def deliveries():
    status = request.args.get("status")
    status = status if status in _CALLBACK_STATUSES else None
    with db.connect(_engine()) as conn:
        page = paged("admin.deliveries", dict(status=status), db.CALLBACK_KEY,
                     lambda limit, offset, **place: db.list_callbacks(conn, status, limit, offset, **place),
                     _DELIVERIES_PAGE, "the deliveries", "the deliveries")
        tally = db.callback_counts(conn)
    return render_template("review/deliveries.html", page=page, tally=tally, status=status, counts=_counts(),
                           url=current_app.config.get("CALLBACK_URL"))


@bp.post("/admin/deliveries/<id:outbox_id>/retry")
@admin_required
def retry_delivery(outbox_id: int):
    with db.transaction(_engine()) as conn:
        queued = db.retry_callback(conn, outbox_id)
    if not queued:  # only a callback that was given up on is sent again: a delivered one stays delivered
        flash(f"No failed delivery {outbox_id}: nothing was queued (only a failed callback is sent again).", "error")
        return redirect(url_for("admin.deliveries"))
    current_app.extensions["outbox"].wake()
    _audit("callback.retry", str(outbox_id), {})
    flash("Queued to be sent again.", "info")
    return redirect(url_for("admin.deliveries"))


@bp.post("/admin/deliveries/retry-failed")
@admin_required
def retry_failed_deliveries():
    """Send every given-up callback again, oldest first: after the CMS was down for longer than the retries last."""
    with db.transaction(_engine()) as conn:
        queued = db.retry_failed_callbacks(conn)
        if queued:
            db.insert_audit(conn, "callback.retry_failed", None, None, {"count": queued}, actor=g.user["username"])
    if not queued:
        flash("No failed deliveries: nothing was queued.", "error")
        return redirect(url_for("admin.deliveries"))
    current_app.extensions["outbox"].wake()
    flash(f"Queued {queued} failed deliver{'y' if queued == 1 else 'ies'} to be sent again, oldest first.", "info")
    return redirect(url_for("admin.deliveries"))


@bp.get("/admin/policies")
@admin_required
def policies():
    svc = current_app.extensions["moderation"]
    listed = [("(every other site)", svc.policy)] + sorted(svc.site_policies.items())
    return render_template("review/policies.html", policies=listed, counts=_counts())
