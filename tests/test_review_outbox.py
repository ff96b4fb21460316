"""Callbacks to the CMS: signed like the native API, retried with back-off, kept across a restart."""

import json
import threading
from datetime import timedelta

import sqlalchemy as sa

from review.auth import create_user
from review.outbox import DELIVERY_HEADER, EVENT_HEADER
from webhook import db
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


def _users_exist(app):
    with db.connect(_engine(app)) as conn:
        return db.user_by_name(conn, "mod") is not None


def _deliverer(app):
    return app.extensions["review"].extensions["outbox"]


def test_a_decision_is_sent_signed_with_the_native_scheme(make_app, cms, signer, seed_into):
    app, client = _app_with_callbacks(make_app, cms.url, signer)
    seed_into(app, "c1", "You idiot.")
    _approve(app, client, "c1")
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
    app, client = _app_with_callbacks(make_app, cms.url, signer)
    seed_into(app, "c1", "You idiot.")
    _approve(app, client, "c1")
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
    app, client = _app_with_callbacks(make_app, cms.url, signer)
    seed_into(app, "c1", "You idiot.")
    _approve(app, client, "c1")
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
