"""Signing in and out, roles, and the command that creates users.

Roles: a moderator works the queues, an admin also manages users and sees deliveries and policies,
and an editor only reads the editors' pages. Pages are for moderators and admins unless a view
says otherwise (``signed_in_required``), so a new page is never open to editors by mistake.

Passwords are stored as werkzeug hashes. The session holds the user's id and the hash's tail, and
when the user signed in: a session ends ``MODERATION_REVIEW_SESSION_HOURS`` after that, however busy
(the cookie, renewed on each request, would otherwise keep an active session, or a copied cookie,
alive for ever). Signing out, a new password and deactivation record the moment in the database
(``users.signed_out_at``), ending every session begun before it on every browser: a deactivated user
reactivated later does not get their old sessions back.
"""

from __future__ import annotations

import functools
import math
import time
from datetime import UTC, datetime, timedelta

import click
from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask.cli import with_appcontext
from werkzeug.security import check_password_hash, generate_password_hash

from webhook import db

from . import throttle

__all__ = ["ROLES", "admin_required", "bp", "create_user", "create_user_command", "login_required", "safe_next",
           "signed_in_required"]

ROLES = ("moderator", "admin", "editor")
_MIN_PASSWORD = 10

bp = Blueprint("auth", __name__)


def _engine():
    return current_app.extensions["moderation"].engine


def _stamp(user: dict) -> str:
    return user["password_hash"][-16:]


@bp.before_app_request
def load_user() -> None:
    g.user, g.session_expired = None, False
    user_id = session.get("uid")
    if user_id is None:
        return
    if _expired(session.get("since")):
        session.clear()
        g.session_expired = True
        return
    with db.connect(_engine()) as conn:
        user = db.user_by_id(conn, user_id)
    if user and user["active"] and session.get("stamp") == _stamp(user) and not _signed_out_since(user, session["since"]):
        g.user = user
    else:
        session.clear()


def _signed_out_since(user: dict, since: float) -> bool:
    """Whether the user signed out (on any browser) after this session began: a copied cookie ends too."""
    out = user.get("signed_out_at")
    return out is not None and out.replace(tzinfo=UTC).timestamp() >= since


def _expired(since) -> bool:
    """Whether a session that began at ``since`` (seconds since the epoch; None in a session that does not say)
    has ended."""
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    return not isinstance(since, (int, float)) or time.time() - since > lifetime


def signed_in_required(view):
    """Any signed-in user, editors included, gets this page; others are sent to sign in."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return _sign_in_first()
        return view(*args, **kwargs)
    return wrapped


def _sign_in_first():
    """The answer to a request without a session: the script gets a JSON 401 it can explain (its page was
    signed in when drawn), a browser is sent to sign in and then back to the page it was on."""
    back = request.full_path if request.method == "GET" else safe_next(request.form.get("next"))
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"ok": False, "signed_out": True, "message": "Your session has expired: sign in again.",
                        "login": url_for("auth.login", next=back, expired=1)}), 401
    return redirect(url_for("auth.login", next=back, expired=1 if g.get("session_expired") else None))


def login_required(view):
    """Only a signed-in moderator or admin gets this page; others are sent to sign in, editors refused."""
    @functools.wraps(view)
    @signed_in_required
    def wrapped(*args, **kwargs):
        if g.user["role"] == "editor":
            abort(403, "Editors can read the editors' pages only; ask an admin for a moderator's account to "
                       "work the queues.")
        return view(*args, **kwargs)
    return wrapped


def admin_required(view):
    """Only an admin gets this page."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return _sign_in_first()
        if g.user["role"] != "admin":
            abort(403, "Only admins can do this.")
        return view(*args, **kwargs)
    return wrapped


def safe_next(target: str | None) -> str:
    """``target`` if it is a path inside the review pages, else "/": never an absolute URL an attacker slipped in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("review/login.html", expired=bool(request.args.get("expired")))
    username = request.form.get("username", "").strip()[:200]
    address = request.remote_addr or "unknown"
    until = throttle.refused_until(_engine(), username, address)
    if until is not None:  # refused before the password is checked: a guess then tells nothing
        return _refused(username, until)
    with db.connect(_engine()) as conn:
        user = db.user_by_name(conn, username)
    # Check a hash even for unknown names, so timing does not reveal which names exist.
    known = check_password_hash(user["password_hash"] if user else _dummy_hash(), request.form.get("password", ""))
    if user and known and user["active"]:
        session.clear()  # a fresh session on sign-in: no fixation
        session.permanent = True
        session.update(uid=user["id"], stamp=_stamp(user), since=time.time())
        return redirect(request.script_root + safe_next(request.args.get("next")))
    throttle.record_failure(_engine(), username, address)
    flash("Wrong user name or password.", "error")
    return render_template("review/login.html", username=username), 401


def _refused(username: str, until: datetime):
    wait = max(1, math.ceil((until - db.now()).total_seconds()))
    minutes = math.ceil(wait / 60)
    flash(f"Too many failed sign-ins with this user name or from this address: try again after "
          f"{until + timedelta(seconds=59):%H:%M} UTC (in {minutes} minute{'' if minutes == 1 else 's'}).", "error")
    return render_template("review/login.html", username=username), 429, {"Retry-After": str(wait)}


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("not a real password")


@bp.post("/logout")
def logout():
    if g.user is not None:  # the signed cookie would stay valid until it expires: the database says it has ended
        with db.transaction(_engine()) as conn:
            db.sign_out_user(conn, g.user["id"])
    session.clear()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))


def create_user(engine, username: str, password: str, role: str) -> dict:
    """Add a user with a hashed password; ValueError says what is wrong with the input."""
    username = username.strip()
    if not username or len(username) > 200:
        raise ValueError("a user name is required (at most 200 characters)")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < _MIN_PASSWORD:
        raise ValueError(f"the password must be at least {_MIN_PASSWORD} characters")
    with db.transaction(engine) as conn:
        if db.user_by_name(conn, username):
            raise ValueError(f"user {username!r} already exists")
        return db.create_user(conn, username, generate_password_hash(password), role)


def set_password(engine, user_id: int, password: str) -> None:
    """Give a user a new password, ending every session they have (``db.update_user`` signs them out)."""
    if len(password) < _MIN_PASSWORD:
        raise ValueError(f"the password must be at least {_MIN_PASSWORD} characters")
    with db.transaction(engine) as conn:
        db.update_user(conn, user_id, password_hash=generate_password_hash(password))


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="moderator", show_default=True)
@click.password_option(help="The password (asked for when not given; at least 10 characters).")
@with_appcontext
def create_user_command(username: str, role: str, password: str) -> None:
    """Create a user of the review pages (a moderator, an admin, or an editor who only reads the editors' pages)."""
    try:
        user = create_user(current_app.extensions["moderation"].engine, username, password, role)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {user['role']} {user['username']}")
