"""Callbacks to the CMS: signed like the native API, retried with back-off, kept across a restart."""

import html
import http.server
import json
import re
import socket
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from review import outbox
from review.auth import create_user
from review.outbox import DELIVERY_HEADER, EVENT_HEADER
from webhook import db
from webhook.config import SETTINGS
from webhook.signing import verify_native

from .webhook_helpers import SECRETS

pytest_plugins = ["tests.webhook_fixtures", "tests.review_fixtures"]


def _engine(app):
    return app.extensions["moderation"].engine


def _outbox(app):
    with db.connect(_engine(app)) as conn:
        return [r._asdict() for r in conn.execute(sa.select(db.outbox).order_by(db.outbox.c.id))]


def _approve(app, client, comment_id):
    _decide(app, client, comment_id, "approve")


def _decide(app, client, comment_id, decision, **fields):
    """Decide as a card does; return the decision as the card shows it now (its ``seen``)."""
    client.get("/review/queue/pending")
    with db.connect(_engine(app)) as conn:
        item = conn.execute(sa.select(db.review_items).where(db.review_items.c.comment_id == comment_id)).first()
    response = client.post(f"/review/items/{item.id}/decide", headers={"Accept": "application/json"}, data={
        "csrf_token": client.csrf, "verdict_id": item.verdict_id, "decision": decision, **fields})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["seen"]


def _app_with_callbacks(make_app, url, signer, database=None, **overrides):
    settings = {"REVIEW_COOKIE_SECURE": False, "REVIEW_SECRET_KEY": "k", "CALLBACK_THREAD": False,
                "CALLBACK_URL": url, "CALLBACK_BACKOFF": 30, **overrides}
    app = make_app(database, **settings)
    if not _users_exist(app):
        create_user(_engine(app), "mod", "moderator-password-1", "moderator")
    client = app.test_client()
    client.csrf = signer(client, "mod")
    return app, client


def _approved_c1(make_app, url, signer, seed_into, **overrides):
    """An app whose callbacks go to ``url``, with comment c1 ("You idiot.") approved: one callback queued."""
    app, client = _app_with_callbacks(make_app, url, signer, **overrides)
    seed_into(app, "c1", "You idiot.")
    _approve(app, client, "c1")
    return app


def _users_exist(app):
    with db.connect(_engine(app)) as conn:
        return db.user_by_name(conn, "mod") is not None


def _deliverer(app):
    return app.extensions["review"].extensions["outbox"]


def test_a_decision_is_sent_signed_with_the_native_scheme(make_app, cms, signer, seed_into):
    app = _approved_c1(make_app, cms.url, signer, seed_into)
    assert _outbox(app)[0]["status"] == "pending"
    assert _deliverer(app).deliver_due() == {"delivered": 1, "failed": 0}
    (call,) = cms.received
    verify_native(call["headers"], call["body"], [SECRETS[0]], window=300)  # raises when the signature is wrong
    body = json.loads(call["body"])
    assert body["event"] == "comment.decision" == call["headers"][EVENT_HEADER]
    assert body["delivery_id"] == call["headers"][DELIVERY_HEADER]
    assert (body["comment_id"], body["decision"], body["status"], body["moderator"]) == ("c1", "approve", "APPROVED", "mod")
    row = _outbox(app)[0]
    assert (row["status"], row["attempts"], row["last_status"]) == ("delivered", 1, 200)


def test_a_failed_delivery_is_retried_with_back_off_and_survives_a_restart(make_app, cms, signer, seed_into):
    app = _approved_c1(make_app, cms.url, signer, seed_into)
    cms.status = 503
    assert _deliverer(app).deliver_due() == {"delivered": 0, "failed": 1}
    row = _outbox(app)[0]
    assert (row["status"], row["attempts"], row["last_status"]) == ("pending", 1, 503)
    wait = row["next_attempt_at"] - db.now()
    assert timedelta(seconds=25) < wait <= timedelta(seconds=30), "first retry after CALLBACK_BACKOFF seconds"
    assert _deliverer(app).deliver_due() == {"delivered": 0, "failed": 0}, "not due yet"

    # The service restarts: a new app on the same database, the CMS is back, and the retry is due.
    app.extensions["moderation"].engine.dispose()
    cms.status = 200
    restarted, _ = _app_with_callbacks(make_app, cms.url, signer)
    with db.transaction(_engine(restarted)) as conn:
        conn.execute(sa.update(db.outbox).values(next_attempt_at=db.now()))
    assert _deliverer(restarted).deliver_due() == {"delivered": 1, "failed": 0}
    assert [r["status"] for r in _outbox(restarted)] == ["delivered"]
    assert len(cms.received) == 2 and cms.received[0]["body"] == cms.received[1]["body"]


def test_back_off_doubles_and_gives_up_after_the_last_attempt(make_app, signer, seed_into):
    app, client = _app_with_callbacks(make_app, "http://127.0.0.1:9/unreachable", signer, CALLBACK_MAX_ATTEMPTS=3,
                                      CALLBACK_TIMEOUT=1)
    deliverer = _deliverer(app)
    assert [deliverer.backoff(n) for n in (1, 2, 3, 20)] == [30, 60, 120, 3600]
    seed_into(app, "c1", "You idiot.")
    _approve(app, client, "c1")
    for _ in range(3):
        with db.transaction(_engine(app)) as conn:
            conn.execute(sa.update(db.outbox).values(next_attempt_at=db.now()))
        deliverer.deliver_due()
    row = _outbox(app)[0]
    assert (row["status"], row["attempts"]) == ("failed", 3) and "could not reach the CMS" in row["last_error"]


def test_admins_see_delivery_status_and_can_resend(make_app, cms, signer, seed_into):
    app, client = _app_with_callbacks(make_app, cms.url, signer, CALLBACK_MAX_ATTEMPTS=1)
    seed_into(app, "c1", "You idiot.")
    _approve(app, client, "c1")
    cms.status = 500
    _deliverer(app).deliver_due()
    create_user(_engine(app), "admin", "admin-password-123", "admin")
    admin = app.test_client()
    admin.csrf = signer(admin, "admin")
    page = admin.get("/review/admin/deliveries").get_data(as_text=True)
    assert 'data-status="failed">1<' in page and "the CMS answered 500" in page
    outbox_id = _outbox(app)[0]["id"]
    admin.post(f"/review/admin/deliveries/{outbox_id}/retry", data={"csrf_token": admin.csrf})
    cms.status = 200
    assert _deliverer(app).deliver_due()["delivered"] == 1
    assert 'data-status="delivered">1<' in admin.get("/review/admin/deliveries").get_data(as_text=True)
    assert client.get("/review/admin/deliveries").status_code == 403
    # A delivered callback is not sent again, nor is one that does not exist; each is said so.
    sent = len(cms.received)
    for missing in (outbox_id, 9999, 10**30):
        answer = admin.post(f"/review/admin/deliveries/{missing}/retry", data={"csrf_token": admin.csrf},
                            follow_redirects=True)
        if missing == 10**30:
            assert answer.status_code == 404  # no route for an id no database column holds: not a 500
            continue
        assert f"No failed delivery {missing}: nothing was queued" in answer.get_data(as_text=True)
    assert _deliverer(app).deliver_due()["delivered"] == 0 and len(cms.received) == sent
    assert _outbox(app)[0]["status"] == "delivered"


def _set_author_status(client, author_id, status):
    response = client.post("/review/author/status", headers={"Accept": "application/json"}, data={
        "csrf_token": client.csrf, "site_id": "default", "author_id": author_id, "status": status, "confirmed": "1"})
    assert response.status_code == 200, response.get_data(as_text=True)


def _make_due(app):
    """As if the back-off had passed: every pending callback is due now."""
    with db.transaction(_engine(app)) as conn:
        conn.execute(sa.update(db.outbox).where(db.outbox.c.status == "pending").values(next_attempt_at=db.now()))


def test_a_decision_overturned_while_the_cms_was_down_reaches_it_in_order(make_app, database_url, cms, signer,
                                                                            seed_into):
    app, client = _app_with_callbacks(make_app, cms.url, signer, database_url)
    seed_into(app, "c1", "You idiot.")
    seen = _decide(app, client, "c1", "reject", code="ABUSIVE")
    cms.status = 503
    assert _deliverer(app).deliver_due() == {"delivered": 0, "failed": 1}, "the rejection is backed off"
    cms.status = 200
    _decide(app, client, "c1", "approve", seen=seen)  # the slip corrected, before the rejection's retry
    _deliverer(app).deliver_due()
    _make_due(app)
    _deliverer(app).deliver_due()
    bodies = [json.loads(c["body"]) for c in cms.received[1:]]  # the first attempt was answered 503
    assert [b["decision"] for b in bodies] == ["reject", "approve"], "the decision in force arrives last"
    assert bodies[0]["sequence"] < bodies[1]["sequence"]
    assert [r["status"] for r in _outbox(app)] == ["delivered", "delivered"]


def test_a_pending_callback_holds_back_later_ones_about_its_subject_only(make_app, database_url, cms, signer,
                                                                         seed_into):
    app, client = _app_with_callbacks(make_app, cms.url, signer, database_url, CALLBACK_MAX_ATTEMPTS=2)
    for comment_id in ("c1", "c2"):
        seed_into(app, comment_id, "You idiot.", author_id="u1")
    seen = _decide(app, client, "c1", "reject", code="ABUSIVE")
    _set_author_status(client, "u1", "blocked")
    cms.status = 503
    assert _deliverer(app).deliver_due() == {"delivered": 0, "failed": 2}
    cms.status = 200
    _decide(app, client, "c1", "approve", seen=seen)
    _decide(app, client, "c2", "approve")
    _set_author_status(client, "u1", "active")
    sent = len(cms.received)
    assert _deliverer(app).deliver_due() == {"delivered": 1, "failed": 0}, "only c2's callback is free to go"
    assert json.loads(cms.received[sent]["body"])["comment_id"] == "c2"

    # The two earlier callbacks fail once more and are given up: they no longer hold back the later ones.
    cms.status = 503
    _make_due(app)
    assert _deliverer(app).deliver_due() == {"delivered": 0, "failed": 2}
    cms.status = 200
    assert _deliverer(app).deliver_due() == {"delivered": 2, "failed": 0}
    later = [json.loads(c["body"]) for c in cms.received[-2:]]
    assert {(b["event"], b["status"]) for b in later} == {("comment.decision", "APPROVED"), ("author.status", "active")}
    assert [r["status"] for r in _outbox(app)] == ["failed", "failed", "delivered", "delivered", "delivered"]


def test_two_senders_never_send_one_callback_twice(make_app, database_url, cms, signer, seed_into):
    app, client = _app_with_callbacks(make_app, cms.url, signer, database_url)
    for n in range(6):
        seed_into(app, f"c{n}", "You idiot.")
        _decide(app, client, f"c{n}", "approve", seen=_decide(app, client, f"c{n}", "reject", code="ABUSIVE"))
    deliverer = _deliverer(app)
    threads = [threading.Thread(target=deliverer.deliver_due) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bodies = [json.loads(c["body"]) for c in cms.received]
    assert len(bodies) == 12 == len({b["delivery_id"] for b in bodies})
    for n in range(6):  # nor one about a comment before an earlier one about it
        assert [b["decision"] for b in bodies if b["comment_id"] == f"c{n}"] == ["reject", "approve"]


def test_the_deliver_outbox_command(make_app, cms, signer, seed_into):
    app = _approved_c1(make_app, cms.url, signer, seed_into)
    result = app.test_cli_runner().invoke(args=["deliver-outbox"])
    assert result.exit_code == 0 and "delivered 1, failed 0" in result.output


def test_the_background_thread_delivers_promptly(make_app, cms, signer, seed_into):
    app, client = _app_with_callbacks(make_app, cms.url, signer, CALLBACK_THREAD=True)
    try:
        seed_into(app, "c1", "You idiot.")
        _approve(app, client, "c1")
        for _ in range(100):
            if cms.received:
                break
            threading.Event().wait(0.05)
        assert len(cms.received) == 1
    finally:
        _deliverer(app).stop()


# What counts as delivered, and what is retried ----------------------------------------------------------------
def _serve(answer):
    """A CMS of one's own: ``answer(handler)`` answers each request; return its URL and a list of the requests
    (method, path)."""
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append(("POST", self.path))
            answer(self)

        def do_GET(self):
            seen.append(("GET", self.path))
            answer(self)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/cb", seen


def _raw_server(handle):
    """A CMS that speaks raw bytes: ``handle(connection)`` answers each request after it is read."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(65536)
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/cb", listener


@pytest.mark.parametrize("code", [301, 302, 303, 307])
def test_a_redirect_is_a_failed_attempt_naming_where_it_pointed_and_is_not_followed(make_app, signer, seed_into, code):
    def answer(handler):
        if handler.command == "POST":
            handler.send_response(code)
            handler.send_header("Location", "/landing")
        else:
            handler.send_response(200)  # where a followed redirect would land: a GET without the decision
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    url, seen = _serve(answer)
    app = _approved_c1(make_app, url, signer, seed_into)
    assert _deliverer(app).deliver_due() == {"delivered": 0, "failed": 1}
    assert seen == [("POST", "/cb")], "the redirect was not followed"
    row = _outbox(app)[0]
    assert (row["status"], row["attempts"], row["last_status"]) == ("pending", 1, code)
    assert f"the CMS answered {code}, a redirect to /landing, which is not followed" in row["last_error"]


@pytest.mark.parametrize("code,status", [(400, "failed"), (404, "failed"), (410, "failed"), (408, "pending"),
                                         (429, "pending"), (500, "pending")])
def test_a_client_error_gives_up_at_once_but_a_timeout_or_too_many_requests_is_retried(make_app, cms, signer,
                                                                                       seed_into, code, status):
    app, client = _app_with_callbacks(make_app, cms.url, signer)
    cms.status = code
    seed_into(app, "c1", "You idiot.")
    _approve(app, client, "c1")
    _deliverer(app).deliver_due()
    row = _outbox(app)[0]
    assert (row["status"], row["attempts"], row["last_status"]) == (status, 1, code)
    assert row["last_error"].startswith(f"the CMS answered {code}")


def test_a_malformed_answer_is_a_failed_attempt_not_the_end_of_the_sender(make_app, signer, seed_into):
    def garbage(conn):
        conn.sendall(b"garbage\r\n\r\n")
        conn.close()

    url, listener = _raw_server(garbage)
    app = _approved_c1(make_app, url, signer, seed_into)
    assert _deliverer(app).deliver_due() == {"delivered": 0, "failed": 1}
    row = _outbox(app)[0]
    assert (row["status"], row["attempts"], row["last_status"]) == ("pending", 1, None)
    assert "BadStatusLine" in row["last_error"]
    listener.close()


def test_a_url_urllib_refuses_is_a_failed_attempt(make_app, signer, seed_into):
    app = _approved_c1(make_app, "http://127.0.0.1:9/cb", signer, seed_into)
    sender = outbox.Deliverer(_engine(app), "cms.example.com/cb", "secret")  # load_config refuses it; say it got by
    assert sender.deliver_due() == {"delivered": 0, "failed": 1}
    assert "ValueError" in _outbox(app)[0]["last_error"]


def test_the_delivery_loop_survives_any_exception(make_app, signer, monkeypatch, caplog):
    app, _ = _app_with_callbacks(make_app, "http://127.0.0.1:9/cb", signer)
    deliverer = _deliverer(app)
    calls = []

    def deliver_due():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("an answer nobody foresaw")
        deliverer.stop()
        return {"delivered": 0, "failed": 0}

    monkeypatch.setattr(deliverer, "deliver_due", deliver_due)
    deliverer.run(interval_s=0.01)
    assert len(calls) == 2, "the loop went on after the exception"
    assert "an answer nobody foresaw" in caplog.text


# How long callbacks are retried, and resending the given-up ones ----------------------------------------------
def test_with_the_defaults_a_callback_is_retried_for_about_two_days():
    defaults = {s.name: s.default for s in SETTINGS}
    span = outbox.retry_span(defaults["CALLBACK_MAX_ATTEMPTS"], defaults["CALLBACK_BACKOFF"])
    assert span == 174_315, "48 h 25 min 15 s, as docs/review.md says"
    assert outbox.Deliverer(None, "x", "s").max_attempts == defaults["CALLBACK_MAX_ATTEMPTS"]
    deliverer = outbox.Deliverer(None, "x", "s", max_attempts=4, backoff_s=5)
    assert outbox.retry_span(4, 5) == sum(deliverer.backoff(n) for n in range(1, 4)) == 35


def _failed_callbacks(app, n):
    with db.transaction(_engine(app)) as conn:
        for i in range(n):
            db.enqueue_callback(conn, f"d{i}", "default", "comment.decision", {"comment_id": f"c{i}"})
        conn.execute(sa.update(db.outbox).values(status="failed", attempts=58))


def test_the_deliveries_page_pages_through_every_callback(make_app, signer):
    app, _ = _app_with_callbacks(make_app, "http://127.0.0.1:9/cb", signer)
    create_user(_engine(app), "admin", "admin-password-123", "admin")
    admin = app.test_client()
    admin.csrf = signer(admin, "admin")
    _failed_callbacks(app, 130)
    first = admin.get("/review/admin/deliveries?status=failed").get_data(as_text=True)
    older = html.unescape(re.search(r'<a href="([^"]+)">older</a>', first).group(1))
    assert first.count(">Send again<") == 100 and "status=failed" in older and "after=" in older
    second = admin.get(older).get_data(as_text=True)
    assert second.count(">Send again<") == 30 and ">older</a>" not in second and ">newer</a>" in second
    assert "<td>1</td>" in second, "the oldest callback is on the last page"
    numbered = admin.get("/review/admin/deliveries?status=failed&page=2").get_data(as_text=True)  # a link made before
    assert numbered.count(">Send again<") == 30


def test_an_admin_resends_every_failed_callback_in_the_order_they_were_made(make_app, cms, signer):
    app, moderator = _app_with_callbacks(make_app, cms.url, signer)
    create_user(_engine(app), "admin", "admin-password-123", "admin")
    admin = app.test_client()
    admin.csrf = signer(admin, "admin")
    _failed_callbacks(app, 5)
    assert admin.post("/review/admin/deliveries/retry-failed").status_code == 400, "CSRF-protected"
    assert moderator.post("/review/admin/deliveries/retry-failed",
                          data={"csrf_token": moderator.csrf}).status_code == 403
    assert {r["status"] for r in _outbox(app)} == {"failed"}
    answer = admin.post("/review/admin/deliveries/retry-failed", data={"csrf_token": admin.csrf},
                        follow_redirects=True)
    assert "Queued 5 failed deliveries to be sent again, oldest first." in answer.get_data(as_text=True)
    assert _deliverer(app).deliver_due() == {"delivered": 5, "failed": 0}
    assert [json.loads(c["body"])["sequence"] for c in cms.received] == [r["id"] for r in _outbox(app)]
    with db.connect(_engine(app)) as conn:
        (line,) = db.list_audit(conn, actor="admin")
    assert (line["event"], line["detail"]) == ("callback.retry_failed", {"count": 5})
    again = admin.post("/review/admin/deliveries/retry-failed", data={"csrf_token": admin.csrf},
                       follow_redirects=True)
    assert "No failed deliveries: nothing was queued." in again.get_data(as_text=True)


# A send that outlives its lease ------------------------------------------------------------------------------
def test_an_answer_that_comes_after_another_sender_took_the_callback_is_not_recorded(make_app, signer, seed_into):
    taken_over = {}

    def answer(handler):  # while this sender waits, its lease runs out and another sender takes the callback
        with db.transaction(_engine(app)) as conn:
            taken_over["lease"] = db.now() + timedelta(seconds=60)
            conn.execute(sa.update(db.outbox).values(next_attempt_at=taken_over["lease"]))
        handler.send_response(200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    url, _ = _serve(answer)
    app = _approved_c1(make_app, url, signer, seed_into)
    assert _deliverer(app).deliver_due() == {"delivered": 0, "failed": 1}
    row = _outbox(app)[0]
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("pending", 0, taken_over["lease"]), \
        "left to the sender that holds the lease"


def test_a_cms_that_trickles_its_answer_is_cut_off_before_the_lease_runs_out(make_app, signer, seed_into,
                                                                             monkeypatch):
    def trickle(conn):  # a header line every 0.3 s: each read is well within CALLBACK_TIMEOUT
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for i in range(10):
                time.sleep(0.3)
                conn.sendall(f"X-Slow-{i}: y\r\n".encode())
            conn.sendall(b"Content-Length: 0\r\n\r\n")
        except OSError:
            pass  # cut off
        finally:
            conn.close()

    url, listener = _raw_server(trickle)
    monkeypatch.setattr(outbox, "_LEASE_S", 1)  # so a send is cut off after 0.75 s
    app = _approved_c1(make_app, url, signer, seed_into, CALLBACK_TIMEOUT=0.5)
    started = time.monotonic()
    assert _deliverer(app).deliver_due() == {"delivered": 0, "failed": 1}
    assert time.monotonic() - started < 2
    row = _outbox(app)[0]
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"] == "the CMS did not answer within 0.75 s"
    listener.close()
