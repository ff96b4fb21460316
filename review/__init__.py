"""The moderators' review queue: server-rendered pages mounted at ``/review`` of the service.

``init_app`` builds the review pages as a Flask app of their own, mounted under ``/review`` of the
service's app, and shares the service's model, policies and database with it. Kept apart, the pages
get what the JSON API must not have (sessions, CSRF checks on forms, HTML error pages) and the
API keeps its one JSON error shape and its OpenAPI document of machine-facing routes.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, jsonify, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.routing import BaseConverter, IntegerConverter

from webhook.config import flag

from . import admin, auth, outbox, queue

__all__ = ["PREFIX", "init_app"]

PREFIX = "/review"
MAX_ROW_ID = 2**63 - 1


class RowId(IntegerConverter):
    """``<id:name>``: a row id, so at most the largest integer a database column holds (a longer one
    matches no route, a 404, instead of overflowing the database driver)."""

    def __init__(self, url_map):
        super().__init__(url_map, max=MAX_ROW_ID)


class PathSegment(BaseConverter):
    """``<segment:name>``: any id (the API accepts ``/`` in site ids) as one path segment.

    A ``/`` in a URL's path, even written ``%2F``, reaches the router as a separator, so it is
    written ``~s`` (and a ``~`` as ``~~``); an id of dots alone ("." or "..", which browsers resolve
    away) has each written ``~d``. Other ids keep their plain URLs, and a ``~`` followed by anything
    else is read as written.
    """

    def to_python(self, value: str) -> str:
        return re.sub(r"~([~sd])", lambda m: {"~": "~", "s": "/", "d": "."}[m.group(1)], value)

    def to_url(self, value: str) -> str:
        if value.strip(".") == "":
            return super().to_url("~d" * len(value))
        return super().to_url(re.sub(r"[~/]", lambda m: "~~" if m.group(0) == "~" else "~s", value))


def init_app(app: Flask) -> Flask:
    """Mount the review pages on ``app`` (the service) and add their commands; return the pages' app."""
    pages = Flask(__name__, instance_path=app.instance_path)
    pages.config.update({name: value for name, value in app.config.items() if not name.startswith("SESSION_")})
    pages.config.update(_session_settings(app))
    pages.extensions["moderation"] = app.extensions["moderation"]
    pages.extensions["outbox"] = outbox.Deliverer.from_config(app.config, app.extensions["moderation"])
    CSRFProtect(pages)
    pages.url_map.converters["id"] = RowId
    pages.url_map.converters["segment"] = PathSegment
    for blueprint in (auth.bp, queue.bp, admin.bp):
        pages.register_blueprint(blueprint)
    pages.jinja_env.globals.update(QUEUES=queue.QUEUE_TITLES, queue_counts=queue.queue_counts)
    pages.before_request(_refuse_nul)
    pages.after_request(_security_headers)
    pages.register_error_handler(CSRFError, _csrf_error)
    for status in (400, 403, 404, 405, 409, 413):
        pages.register_error_handler(status, _http_error)
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {PREFIX: pages})
    app.extensions["review"] = pages
    for command in (auth.create_user_command, outbox.deliver_command):
        app.cli.add_command(command)
    if flag(app.config["CALLBACK_THREAD"]):
        pages.extensions["outbox"].start_thread()
    return pages


def _session_settings(app: Flask) -> dict:
    return {
        "SECRET_KEY": app.config["REVIEW_SECRET_KEY"] or _instance_key(Path(app.instance_path)),
        "SESSION_COOKIE_NAME": "moderation_review",
        "SESSION_COOKIE_PATH": PREFIX,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": flag(app.config["REVIEW_COOKIE_SECURE"]),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=float(app.config["REVIEW_SESSION_HOURS"])),
        # A token lives as long as the session: a moderator's page left open for an hour still works.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": flag(app.config["REVIEW_COOKIE_SECURE"]),
        "PROXY_HOPS": int(app.config["PROXY_HOPS"]),  # whether the scheme a request shows is the browser's
    }


def _instance_key(folder: Path) -> str:
    """A random key kept in the instance folder, made once; workers starting together read the same one."""
    path = folder / "review_secret_key"
    if not path.exists():
        draft = folder / f".review_secret_key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, path)  # atomic: the first worker's key wins, complete
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


# No inline script or style runs, whatever a comment smuggles into a page; no framing, no plug-ins.
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _csrf_error(exc: CSRFError):
    message = f"The form was refused ({exc.description}). Reload the page and try again."
    # No session, so no token to check the form's against: the session expired, or the user signed out.
    missing = "session token is missing" in exc.description
    signed_out = missing and request.endpoint != "auth.login"
    if signed_out:
        message = "Your session has expired: sign in again. Nothing was changed."
    if missing and current_app.config["SESSION_COOKIE_SECURE"] and not request.is_secure:
        message = _https_only_hint(message)
    if request.accept_mimetypes.best == "application/json":  # the script says which comment was not decided
        if not signed_out:
            flash(message, "error")  # the script reloads the page, which says why
        login = url_for("auth.login", expired=1, next=auth.safe_next(request.form.get("next")))
        return jsonify({"ok": False, "signed_out": signed_out, "message": message, "login": login}), 400
    return render_template("review/error.html", status=400, message=message), 400


def _https_only_hint(message: str) -> str:
    """Why a form came without its session, for a request that reached the service over plain HTTP.

    The browser keeps an HTTPS-only cookie to itself on plain HTTP, and then reloading never helps. But behind
    a TLS proxy whose headers the service does not trust (MODERATION_PROXY_HOPS) every request looks like plain
    HTTP while the browser uses HTTPS and sends the cookie: the session simply ended, and turning secure
    cookies off is the wrong advice. The page's own address (Origin, or Referer) says which, when it is sent.
    """
    scheme = urlsplit(request.headers.get("Origin") or request.headers.get("Referer") or "").scheme
    if scheme == "http" or (not scheme and not current_app.config["PROXY_HOPS"]):
        return ("The form was refused: the session cookie that carries its CSRF token is HTTPS-only "
                "(MODERATION_REVIEW_COOKIE_SECURE is true) and this page came over plain HTTP, so the browser "
                "did not send it back. Serve the pages over HTTPS, or set MODERATION_REVIEW_COOKIE_SECURE=false "
                "to try them over plain HTTP.")
    hops = current_app.config["PROXY_HOPS"]
    proxies = (f"check that MODERATION_PROXY_HOPS ({hops}) counts the proxies in front of the service and that they "
               "send X-Forwarded-Proto" if hops else "set MODERATION_PROXY_HOPS to the number of proxies in front of "
               "the service, so that it trusts their X-Forwarded-Proto")
    return (f"{message} If this page came over plain HTTP, the browser keeps its HTTPS-only session cookie "
            "(MODERATION_REVIEW_COOKIE_SECURE is true) to itself: serve the pages over HTTPS. If it came over HTTPS "
            f"through a reverse proxy, the service saw plain HTTP: {proxies}.")


def _refuse_nul() -> None:
    """A 400 for a NUL character in a page's path, query or form: no id, filter or search holds one, and
    PostgreSQL refuses it in a text parameter (a 500 where SQLite answered)."""
    values = [*request.args.values(), *(request.view_args or {}).values()]
    if request.method == "POST":
        values += request.form.values()
    if any(isinstance(v, str) and "\x00" in v for v in values):
        abort(400, description="The request holds a NUL character (%00), which no id, filter or search can hold.")


def _http_error(exc):
    return render_template("review/error.html", status=exc.code, message=exc.description), exc.code
