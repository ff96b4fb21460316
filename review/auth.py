"""Signing in and out, roles, and the command that creates users.

Roles: a moderator works the queues, an admin also manages users and sees deliveries and policies,
and an editor only reads the editors' pages. Pages are for moderators and admins unless a view
says otherwise (``signed_in_required``), so a new page is never open to editors by mistake.

Passwords are stored as werkzeug hashes. The session holds the user's id and the hash's tail, so a
changed password or a deactivated account signs that user out everywhere on the next request.
"""

from __future__ import annotations

import functools

import click
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.cli import with_appcontext
from werkzeug.security import check_password_hash, generate_password_hash

from webhook import db

__all__ = ["ROLES", "admin_required", "bp", "create_user", "create_user_command", "login_required",
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
    g.user = None
    user_id = session.get("uid")
    if user_id is None:
        return
    with db.connect(_engine()) as conn:
        user = db.user_by_id(conn, user_id)
    if user and user["active"] and session.get("stamp") == _stamp(user):
        g.user = user
    else:
        session.clear()


def signed_in_required(view):
    """Any signed-in user, editors included, gets this page; others are sent to sign in."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        return view(*args, **kwargs)
    return wrapped


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
            return redirect(url_for("auth.login"))
        if g.user["role"] != "admin":
            abort(403, "Only admins can do this.")
        return view(*args, **kwargs)
    return wrapped


def _safe_next(target: str | None) -> str:
    # Only a path inside the review pages: never an absolute URL an attacker could slip in.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        with db.connect(_engine()) as conn:
            user = db.user_by_name(conn, username)
        # Check a hash even for unknown names, so timing does not reveal which names exist.
        known = check_password_hash(user["password_hash"] if user else _dummy_hash(), request.form.get("password", ""))
        if user and known and user["active"]:
            session.clear()  # a fresh session on sign-in: no fixation
            session.permanent = True
            session.update(uid=user["id"], stamp=_stamp(user))
            return redirect(request.script_root + _safe_next(request.args.get("next")))
        flash("Wrong user name or password.", "error")
        return render_template("review/login.html"), 401
    return render_template("review/login.html")


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("not a real password")


@bp.post("/logout")
def logout():
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
