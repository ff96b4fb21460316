"""Fixtures for the review queue's tests: an app with users, signed-in clients, seeded comments.

Test modules load this file (and the webhook fixtures it builds on) with ``pytest_plugins``.
"""

from __future__ import annotations

import http.server
import re
import threading

import pytest
import sqlalchemy as sa

from review.auth import create_user
from webhook import db

PASSWORDS = {"mod": "moderator-password-1", "admin": "admin-password-123", "editor": "editor-password-1"}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def review_config(**overrides) -> dict:
    """Settings for a review test app: plain-HTTP cookies, no callback thread unless asked."""
    return {"REVIEW_COOKIE_SECURE": False, "CALLBACK_THREAD": False, "REVIEW_SECRET_KEY": "test-review-key",
            **overrides}


def engine_of(app) -> sa.Engine:
    return app.extensions["moderation"].engine


def add_users(app) -> None:
    create_user(engine_of(app), "mod", PASSWORDS["mod"], "moderator")
    create_user(engine_of(app), "admin", PASSWORDS["admin"], "admin")


def csrf_token(client, path: str = "/review/login") -> str:
    """The CSRF token of a page's forms, as a browser would read it."""
    match = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client, username: str) -> str:
    """Sign ``username`` in; return the session's CSRF token."""
    response = client.post("/review/login", data={"username": username, "password": PASSWORDS[username],
                                                  "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return csrf_token(client, "/review/queue/pending")


def seed_comment(app, comment_id: str, text: str, action: str = "hold", *, site_id: str = "default",
                 author_id: str | None = "u1", article_id: str | None = None, parent_id: str | None = None,
                 scores: dict | None = None, evidence: list[dict] | None = None) -> None:
    """Store a comment with a verdict as the service would, without scoring it (fast, deterministic)."""
    scores = scores or {"profanity": 0.05, "personal_attack": 0.62, "incitement": 0.04}
    reasons = []
    if action != "approve":
        reasons.append({"clause_id": "no-personal-attacks", "clause_text": "Criticise ideas, not people.",
                        "action": action, "label": "personal_attack", "score": scores["personal_attack"],
                        "threshold": 0.4, "code": "ABUSIVE", "evidence": evidence or []})
    with db.transaction(engine_of(app)) as conn:
        pk = db.save_comment(conn, site_id, comment_id, text, article_id, parent_id, author_id, "test")
        db.insert_verdict(conn, pk, 1, text, {
            "action": action, "reasons": reasons, "scores": scores, "stance": None, "stance_scores": None,
            "language": "en", "fallback": None, "model_version": "test-model", "policy_version": "example-news@test"})


@pytest.fixture
def seed(review_app):
    """``seed(comment_id, text, action="hold", **fields)`` stores a comment with a verdict."""
    return lambda *args, **kwargs: seed_comment(review_app, *args, **kwargs)


@pytest.fixture
def seed_into():
    """``seed_into(app, comment_id, text, ...)``: :func:`seed_comment` for an app a test built itself."""
    return seed_comment


@pytest.fixture
def signer():
    """``signer(client, username)`` signs a user in and returns the session's CSRF token."""
    return sign_in


@pytest.fixture
def make_review_app(make_app):
    """``make_review_app(url=None, **settings)``: a review test app with its users, on this test's database
    or the one named."""
    def build(url: str | None = None, **overrides):
        app = make_app(url, **review_config(**overrides))
        add_users(app)
        return app
    return build


@pytest.fixture
def review_app(make_review_app):
    return make_review_app()


@pytest.fixture
def mod_client(review_app):
    client = review_app.test_client()
    client.csrf = sign_in(client, "mod")
    return client


@pytest.fixture
def admin_client(review_app):
    client = review_app.test_client()
    client.csrf = sign_in(client, "admin")
    return client


@pytest.fixture
def editor_client(review_app):
    """A signed-in editor, who may only read the editors' pages."""
    create_user(engine_of(review_app), "editor", PASSWORDS["editor"], "editor")
    client = review_app.test_client()
    response = client.post("/review/login", data={"username": "editor", "password": PASSWORDS["editor"],
                                                  "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    client.csrf = csrf_token(client, "/review/editors/")
    return client


class Receiver:
    """A tiny CMS: records signed callbacks; answers with whatever status it is told to."""

    def __init__(self):
        self.received: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/moderation-callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cms():
    receiver = Receiver()
    yield receiver
    receiver.close()
