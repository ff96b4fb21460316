"""Signing in and sessions: a session's absolute end, what the script and the pages say when it has
ended, throttled and audited failed sign-ins."""

import re
from datetime import datetime, timedelta

import sqlalchemy as sa

from webhook import db

pytest_plugins = ["tests.webhook_fixtures", "tests.review_fixtures"]

COOKIE = "moderation_review"
PASSWORD = "moderator-password-1"  # mod's, in tests/review_fixtures.py


def _token(client, path="/review/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))[1]


def _rows(app, table, **where):
    query = sa.select(db.metadata.tables[table])
    for column, value in where.items():
        query = query.where(db.metadata.tables[table].c[column] == value)
    with db.connect(app.extensions["moderation"].engine) as conn:
        return [r._asdict() for r in conn.execute(query)]


def _age_session(app, client, hours: float) -> None:
    """Move the client's session's sign-in ``hours`` into the past, signed as the service signs it."""
    pages = app.extensions["review"]
    serializer = pages.session_interface.get_signing_serializer(pages)
    session = serializer.loads(client.get_cookie(COOKIE, path="/review").value)
    session["since"] -= hours * 3600
    client.set_cookie(COOKIE, serializer.dumps(session), path="/review")


def _item(app, client, comment_id):
    client.get("/review/queue/pending")
    return _rows(app, "review_items", comment_id=comment_id)[0]


def _decide_json(client, item):
    return client.post(f"/review/items/{item['id']}/decide", headers={"Accept": "application/json"}, data={
        "csrf_token": client.csrf, "verdict_id": item["verdict_id"], "decision": "approve",
        "next": "/queue/pending?q=idiot"})


# How long a session lasts ---------------------------------------------------------------------------------
def test_a_session_ends_its_hours_after_signing_in_however_busy(review_app, mod_client):
    _age_session(review_app, mod_client, 11.9)  # the example lasts 12 hours; each request renews the cookie
    assert mod_client.get("/review/queue/pending").status_code == 200
    _age_session(review_app, mod_client, 0.2)
    response = mod_client.get("/review/queue/pending?q=idiot")
    assert response.status_code == 302
    assert response.headers["Location"] == "/review/login?next=/queue/pending?q%3Didiot&expired=1"
    assert mod_client.get("/review/queue/pending").status_code == 302, "the ended session is gone"


def test_the_sign_in_page_says_the_session_expired(review_app):
    client = review_app.test_client()
    page = client.get("/review/login?next=/queue/pending&expired=1").get_data(as_text=True)
    assert "Your session has expired: sign in again." in page
    assert "expired" not in client.get("/review/login").get_data(as_text=True)


# What an action sent after the session ended is told ------------------------------------------------------
def test_a_decision_after_the_session_ended_is_answered_signed_out(review_app, mod_client, seed):
    seed("c1", "You idiot.")
    item = _item(review_app, mod_client, "c1")
    _age_session(review_app, mod_client, 13)
    answer = _decide_json(mod_client, item)
    assert answer.status_code == 401
    assert answer.get_json() == {"ok": False, "signed_out": True, "message": "Your session has expired: sign in again.",
                                 "login": "/review/login?next=/queue/pending?q%3Didiot&expired=1"}
    assert _rows(review_app, "review_items", comment_id="c1")[0]["decision"] is None


def test_a_decision_after_the_cookie_expired_is_answered_signed_out(review_app, mod_client, seed):
    seed("c1", "You idiot.")
    item = _item(review_app, mod_client, "c1")
    mod_client.delete_cookie(COOKIE, path="/review")  # what the browser does when the cookie's time is up
    answer = _decide_json(mod_client, item)
    assert answer.status_code == 400
    assert answer.get_json()["signed_out"] is True and answer.get_json()["login"].startswith("/review/login?")
    assert _rows(review_app, "review_items", comment_id="c1")[0]["decision"] is None
    page = mod_client.post(f"/review/items/{item['id']}/decide", data={  # a plain form says so too
        "csrf_token": mod_client.csrf, "verdict_id": item["verdict_id"], "decision": "approve"})
    assert page.status_code == 400 and "Your session has expired: sign in again." in page.get_data(as_text=True)


def test_a_plain_form_after_the_session_ended_signs_in_and_returns_to_its_page(review_app, mod_client, seed):
    seed("c1", "You idiot.")
    item = _item(review_app, mod_client, "c1")
    _age_session(review_app, mod_client, 13)
    response = mod_client.post(f"/review/items/{item['id']}/decide", data={
        "csrf_token": mod_client.csrf, "verdict_id": item["verdict_id"], "decision": "approve",
        "next": "/queue/pending?q=idiot"})
    assert response.headers["Location"] == "/review/login?next=/queue/pending?q%3Didiot&expired=1"
    signed_in = mod_client.post(response.headers["Location"], data={
        "username": "mod", "password": PASSWORD, "csrf_token": _token(mod_client)})
    assert signed_in.headers["Location"] == "/review/queue/pending?q=idiot"


# Failed sign-ins ------------------------------------------------------------------------------------------
ADMIN_PASSWORD = "admin-password-123"  # admin's, in tests/review_fixtures.py


def _sign_in(client, username, password, address="127.0.0.1"):
    return client.post("/review/login", data={"username": username, "password": password, "csrf_token": _token(client)},
                       environ_base={"REMOTE_ADDR": address})


def _window_passes(app) -> None:
    """Move every audit line a window (15 minutes) into the past."""
    audit = db.audit_log
    with db.transaction(app.extensions["moderation"].engine) as conn:  # row by row: SQLite does no date arithmetic
        for line_id, at in conn.execute(sa.select(audit.c.id, audit.c.at)).all():
            conn.execute(sa.update(audit).where(audit.c.id == line_id).values(at=at - timedelta(minutes=15)))


def test_a_failed_sign_in_is_audited_without_the_password_and_keeps_the_name(review_app):
    response = _sign_in(review_app.test_client(), "mod", "not-the-password-1")
    assert response.status_code == 401
    assert re.search(r'<input name="username" value="mod"[^>]*>', response.get_data(as_text=True))
    (line,) = _rows(review_app, "audit_log", event="auth.failed")
    assert (line["subject"], line["detail"], line["actor"]) == ("mod", {"address": "127.0.0.1"}, None)
    assert "not-the-password-1" not in repr(line)


def test_five_failures_for_a_name_refuse_it_for_a_while(review_app):
    client = review_app.test_client()
    for _ in range(5):
        assert _sign_in(client, "mod", "not-the-password-1").status_code == 401
    refused = _sign_in(client, "mod", PASSWORD)
    assert refused.status_code == 429, "refused unchecked: even the right password"
    text = refused.get_data(as_text=True)
    assert "Too many failed sign-ins with this user name or from this address: try again after" in text
    assert "(in 15 minutes)" in text and 840 < int(refused.headers["Retry-After"]) <= 900
    assert len(_rows(review_app, "audit_log", event="auth.failed")) == 5, "refusals are not logged"
    assert _sign_in(review_app.test_client(), "admin", ADMIN_PASSWORD, "10.0.0.9").status_code == 302, "others may"
    assert _sign_in(review_app.test_client(), "mod", PASSWORD, "10.0.0.9").status_code == 302, \
        "counted per name and address: failures elsewhere do not lock the moderator out"
    _window_passes(review_app)
    assert _sign_in(client, "mod", PASSWORD).status_code == 302


def test_twenty_failures_from_an_address_refuse_it_for_a_while(review_app):
    client = review_app.test_client()
    for n in range(20):
        assert _sign_in(client, f"ghost-{n}", "not-the-password-1", "203.0.113.5").status_code == 401
    assert _sign_in(client, "mod", PASSWORD, "203.0.113.5").status_code == 429
    assert _sign_in(review_app.test_client(), "mod", PASSWORD, "198.51.100.7").status_code == 302
    _window_passes(review_app)
    assert _sign_in(client, "mod", PASSWORD, "203.0.113.5").status_code == 302


def test_the_failures_of_a_window_are_found_without_reading_the_whole_log(database_url):
    engine = db.make_engine(database_url)
    db.migrate(engine)
    start = datetime(2026, 12, 1, 9, 0)
    with db.transaction(engine) as conn:
        for n in range(40):  # a line a minute, every other one a failure
            conn.execute(sa.insert(db.audit_log).values(at=start + timedelta(minutes=n), detail={},
                                                        event="auth.failed" if n % 2 else "review.approve"))
        conn.execute(sa.delete(db.audit_log).where(db.audit_log.c.id % 3 == 0))  # ids with gaps
        lines = [r._asdict() for r in conn.execute(sa.select(db.audit_log).order_by(db.audit_log.c.id))]
    with db.connect(engine) as conn:
        for minutes in (-5, 0, 1, 16.5, 17, 38, 39, 40):
            since = start + timedelta(minutes=minutes)
            expected = [line["id"] for line in lines if line["event"] == "auth.failed" and line["at"] >= since]
            assert [line["id"] for line in db.audit_since(conn, "auth.failed", since)] == expected, minutes
    engine.dispose()


def test_a_stale_token_from_the_script_is_explained_on_the_page_it_reloads(review_app, mod_client, seed):
    seed("c1", "You idiot.")
    item = _item(review_app, mod_client, "c1")
    answer = mod_client.post(f"/review/items/{item['id']}/decide", headers={"Accept": "application/json"}, data={
        "csrf_token": "not-this-session-s", "verdict_id": item["verdict_id"], "decision": "approve"})
    assert answer.status_code == 400 and answer.get_json()["signed_out"] is False
    assert "The form was refused" in mod_client.get("/review/queue/pending").get_data(as_text=True)


def test_behind_trusted_proxies_the_forwarded_address_is_the_one_counted(make_review_app):
    app = make_review_app(PROXY_HOPS=1)
    client = app.test_client()
    response = client.post("/review/login", data={"username": "mod", "password": "not-the-password-1",
                                                  "csrf_token": _token(client)},
                           headers={"X-Forwarded-For": "198.51.100.23"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert response.status_code == 401
    (line,) = _rows(app, "audit_log", event="auth.failed")
    assert line["detail"] == {"address": "198.51.100.23"}


def test_signing_out_ends_the_session_a_copied_cookie_carries_too(review_app, mod_client, signer):
    stolen = review_app.test_client()
    stolen.set_cookie(COOKIE, mod_client.get_cookie(COOKIE, path="/review").value, path="/review")
    assert stolen.get("/review/queue/pending").status_code == 200
    assert mod_client.post("/review/logout", data={"csrf_token": mod_client.csrf}).status_code == 302
    answer = stolen.get("/review/queue/pending")
    assert answer.status_code == 302 and "/review/login" in answer.headers["Location"]
    # Signing in again at once (the same second) starts a session that works.
    signer(mod_client, "mod")
    assert mod_client.get("/review/queue/pending").status_code == 200
    assert _rows(review_app, "users", username="mod")[0]["signed_out_at"] is not None


# Ending a user's sessions from the users page -------------------------------------------------------------
def _user_id(app, username):
    return _rows(app, "users", username=username)[0]["id"]


def _copied(app, client):
    """A second browser holding ``client``'s session cookie (a stolen copy of it)."""
    copy = app.test_client()
    copy.set_cookie(COOKIE, client.get_cookie(COOKIE, path="/review").value, path="/review")
    return copy


def test_a_deactivated_user_reactivated_does_not_get_their_old_sessions_back(review_app, mod_client, admin_client,
                                                                            signer):
    stolen = _copied(review_app, mod_client)
    user_id = _user_id(review_app, "mod")
    for active in ("0", "1"):
        answer = admin_client.post(f"/review/admin/users/{user_id}", data={"csrf_token": admin_client.csrf,
                                                                          "active": active})
        assert answer.status_code == 302
    for client in (mod_client, stolen):
        answer = client.get("/review/queue/pending")
        assert answer.status_code == 302 and "/review/login" in answer.headers["Location"]
    fresh = review_app.test_client()
    signer(fresh, "mod")  # reactivated, the user signs in afresh
    assert fresh.get("/review/queue/pending").status_code == 200


def test_a_password_set_by_an_admin_signs_the_user_out_everywhere(review_app, mod_client, admin_client):
    stolen = _copied(review_app, mod_client)
    answer = admin_client.post(f"/review/admin/users/{_user_id(review_app, 'mod')}", data={
        "csrf_token": admin_client.csrf, "active": "1", "password": "a-new-password-1"})
    assert answer.status_code == 302
    assert _rows(review_app, "users", username="mod")[0]["signed_out_at"] is not None
    assert stolen.get("/review/queue/pending").status_code == 302
    assert admin_client.get("/review/queue/pending").status_code == 200, "the admin who set it stays signed in"


def test_failed_sign_ins_are_shown_to_admins_only(review_app, mod_client, admin_client):
    _sign_in(review_app.test_client(), "a-password-typed-as-the-name", "x", "198.51.100.7")
    with db.transaction(review_app.extensions["moderation"].engine) as conn:
        db.insert_audit(conn, "review.approve", "default", "c1", {}, actor="mod")
    page = mod_client.get("/review/audit").get_data(as_text=True)
    assert "review.approve" in page, "a moderator reads the rest of the log"
    for secret in ("auth.failed", "a-password-typed-as-the-name", "198.51.100.7"):
        assert secret not in page
    page = admin_client.get("/review/audit").get_data(as_text=True)
    assert "auth.failed" in page and "a-password-typed-as-the-name" in page and "198.51.100.7" in page


def test_an_author_page_lists_no_failed_sign_in_under_the_name_typed(review_app, mod_client, seed_into):
    """A failed sign-in's subject is the name typed: one equal to an author id is no line about that author."""
    seed_into(review_app, "c1", "You idiot.", author_id="reader-7")
    _sign_in(review_app.test_client(), "reader-7", "x", "198.51.100.7")
    page = mod_client.get("/review/author?site_id=default&author_id=reader-7").get_data(as_text=True)
    assert "reader-7" in page and "auth.failed" not in page and "198.51.100.7" not in page


def test_failures_for_one_name_from_many_addresses_refuse_it_everywhere_for_a_while(review_app):
    """Thirty failures for a name from thirty addresses refuse that name from any address (a guesser with many
    addresses gets thirty guesses a window); other names are not refused."""
    for n in range(30):
        assert _sign_in(review_app.test_client(), "mod", "not-the-password-1", f"203.0.113.{n}").status_code == 401
    assert _sign_in(review_app.test_client(), "mod", PASSWORD, "198.51.100.7").status_code == 429
    assert _sign_in(review_app.test_client(), "admin", ADMIN_PASSWORD, "198.51.100.7").status_code == 302
    _window_passes(review_app)
    assert _sign_in(review_app.test_client(), "mod", PASSWORD, "198.51.100.7").status_code == 302


def test_the_addresses_of_one_ipv6_network_count_as_one(review_app):
    """An IPv6 subscriber has a /64 of addresses: five failures for a name from five of them refuse the name
    from that network, not from elsewhere."""
    for n in range(1, 6):
        assert _sign_in(review_app.test_client(), "mod", "not-the-password-1", f"2001:db8:0:1::{n:x}").status_code == 401
    assert _sign_in(review_app.test_client(), "mod", PASSWORD, "2001:db8:0:1::99").status_code == 429
    assert _sign_in(review_app.test_client(), "mod", PASSWORD, "2001:db8:0:2::1").status_code == 302
