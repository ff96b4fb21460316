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
    client.get("/review/queue/pending")
    with db.connect(_engine(app)) as conn:
        item = conn.execute(sa.select(db.review_items).where(db.review_items.c.comment_id == comment_id)).first()
    response = client.post(f"/review/items/{item.id}/decide", headers={"Accept": "application/json"}, data={
        "csrf_token": client.csrf, "verdict_id": item.verdict_id, "decision": "approve"})
    assert response.status_code == 200


def _app_with_callbacks(make_app, url, signer, **overrides):
    settings = {"REVIEW_COOKIE_SECURE": False, "REVIEW_SECRET_KEY": "k", "CALLBACK_THREAD": False,
                "CALLBACK_URL": url, "CALLBACK_BACKOFF": 30, **overrides}
    app = make_app(**settings)
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


def test_two_senders_never_send_one_callback_twice(make_app, cms, signer, seed_into):
    app, client = _app_with_callbacks(make_app, cms.url, signer)
    for n in range(6):
        seed_into(app, f"c{n}", "You idiot.")
        _approve(app, client, f"c{n}")
    deliverer = _deliverer(app)
    threads = [threading.Thread(target=deliverer.deliver_due) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [json.loads(c["body"])["delivery_id"] for c in cms.received]
    assert len(ids) == 6 == len(set(ids))


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
