"""The review queue through the test client: sign-in, roles, CSRF, queues, decisions and their traces."""

import html
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from review.auth import create_user
from review.cards import decision_state
from webhook import db

from .webhook_helpers import signed_post

pytest_plugins = ["tests.webhook_fixtures", "tests.review_fixtures"]

EVIDENCE = [{"label": "personal_attack", "begin": 4, "end": 9, "text": "idiot"}]


def _engine(app):
    return app.extensions["moderation"].engine


def _rows(app, table, **where):
    query = sa.select(db.metadata.tables[table])
    for column, value in where.items():
        query = query.where(db.metadata.tables[table].c[column] == value)
    with db.connect(_engine(app)) as conn:
        return [r._asdict() for r in conn.execute(query)]


def _item_id(app, comment_id):
    return _rows(app, "review_items", comment_id=comment_id)[0]


def _decide(client, item, decision, **form):
    """Decide as the card drawn from ``item`` would: on its verdict, over the decision it shows."""
    return client.post(f"/review/items/{item['id']}/decide", data={
        "csrf_token": client.csrf, "verdict_id": item["verdict_id"], "seen": decision_state(item),
        "decision": decision, **form}, headers={"Accept": "application/json"})


# Signing in -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/review/", "/review/queue/pending", "/review/queue/approved", "/review/audit",
                                  "/review/comment?site_id=default&comment_id=c1", "/review/admin/users",
                                  "/review/admin/deliveries", "/review/admin/policies",
                                  "/review/author?site_id=default&author_id=u1", "/review/mine"])
def test_no_page_is_reachable_signed_out(review_app, path):
    response = review_app.test_client().get(path)
    assert response.status_code == 302 and "/review/login" in response.headers["Location"]


def test_actions_are_refused_signed_out(review_app, seed):
    seed("c1", "You idiot.")
    client = review_app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/review/login").get_data(as_text=True))[1]
    response = client.post("/review/items/1/decide", data={"csrf_token": token, "decision": "approve"})
    assert response.status_code == 302 and "/review/login" in response.headers["Location"]
    assert _rows(review_app, "audit_log", event="review.approve") == []


def test_sign_in_with_a_wrong_password_fails_and_a_right_one_works(review_app, signer):
    client = review_app.test_client()
    page = client.get("/review/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    wrong = client.post("/review/login", data={"username": "mod", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.get_data(as_text=True)
    unknown = client.post("/review/login", data={"username": "ghost", "password": "nope", "csrf_token": token})
    assert unknown.status_code == 401
    signer(client, "mod")
    assert client.get("/review/queue/pending").status_code == 200


def test_passwords_are_stored_hashed(review_app):
    stored = _rows(review_app, "users", username="mod")[0]["password_hash"]
    assert "moderator-password-1" not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


def test_the_session_cookie_is_httponly_lax_and_secure_by_default(make_app):
    app = make_app(REVIEW_SECRET_KEY="k", CALLBACK_THREAD=False)
    create_user(_engine(app), "mod", "moderator-password-1", "moderator")
    client = app.test_client()
    page = client.get("/review/login", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    response = client.post("/review/login", base_url="https://localhost",
                           data={"username": "mod", "password": "moderator-password-1", "csrf_token": token},
                           headers={"Referer": "https://localhost/review/login"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie and "Path=/review" in cookie


def test_sign_out_ends_the_session(mod_client):
    assert mod_client.post("/review/logout", data={"csrf_token": mod_client.csrf}).status_code == 302
    assert mod_client.get("/review/queue/pending").status_code == 302


def test_a_deactivated_user_is_signed_out_at_once(review_app, mod_client):
    with db.transaction(_engine(review_app)) as conn:
        db.update_user(conn, _rows(review_app, "users", username="mod")[0]["id"], active=False)
    assert mod_client.get("/review/queue/pending").status_code == 302


def test_forms_without_a_csrf_token_are_refused(review_app, mod_client, seed):
    seed("c1", "You idiot.")
    item = _item_id_after_sync(review_app, mod_client, "c1")
    response = mod_client.post(f"/review/items/{item['id']}/decide", data={"decision": "approve"})
    assert response.status_code == 400 and "refused" in response.get_data(as_text=True)
    assert _rows(review_app, "review_items", comment_id="c1")[0]["queue"] == "pending"


def _item_id_after_sync(app, client, comment_id):
    client.get("/review/queue/pending")
    return _item_id(app, comment_id)


def test_moderators_cannot_reach_admin_pages(mod_client):
    for path in ("/review/admin/users", "/review/admin/deliveries", "/review/admin/policies"):
        assert mod_client.get(path).status_code == 403
    response = mod_client.post("/review/admin/users", data={"csrf_token": mod_client.csrf, "username": "x",
                                                            "password": "long-enough-pw", "role": "admin"})
    assert response.status_code == 403


def test_admins_manage_users(review_app, admin_client):
    response = admin_client.post("/review/admin/users", data={
        "csrf_token": admin_client.csrf, "username": "newmod", "password": "a-new-password", "role": "moderator"})
    assert response.status_code == 302
    user = _rows(review_app, "users", username="newmod")[0]
    assert user["role"] == "moderator" and user["active"]
    admin_client.post(f"/review/admin/users/{user['id']}", data={"csrf_token": admin_client.csrf, "role": "admin",
                                                                 "active": "0"})
    user = _rows(review_app, "users", username="newmod")[0]
    assert user["role"] == "admin" and not user["active"]
    assert {a["event"] for a in _rows(review_app, "audit_log", actor="admin")} == {"user.create", "user.update"}
    assert "newmod" in admin_client.get("/review/admin/users").get_data(as_text=True)


def test_the_create_user_command(review_app):
    runner = review_app.test_cli_runner()
    result = runner.invoke(args=["create-user", "cli-admin", "--role", "admin", "--password", "cli-password-1"])
    assert result.exit_code == 0 and "created admin cli-admin" in result.output
    again = runner.invoke(args=["create-user", "cli-admin", "--password", "cli-password-1"])
    assert again.exit_code != 0 and "already exists" in again.output
    editor = runner.invoke(args=["create-user", "ed", "--role", "editor", "--password", "cli-password-1"])
    assert editor.exit_code == 0 and "created editor ed" in editor.output
    short = runner.invoke(args=["create-user", "x", "--password", "short"])
    assert short.exit_code != 0 and "at least 10" in short.output


# Queues -----------------------------------------------------------------------------------------------------
def test_verdicts_land_in_their_queues_with_counts(review_app, mod_client, seed):
    seed("held", "You idiot.", "hold")
    seed("gone", "You idiot!", "reject", scores={"profanity": 0.1, "personal_attack": 0.9, "incitement": 0.0})
    seed("fine", "Nice article.", "approve", scores={"profanity": 0.0, "personal_attack": 0.01, "incitement": 0.0})
    seed("close", "Rather rude.", "approve", scores={"profanity": 0.0, "personal_attack": 0.35, "incitement": 0.0})
    page = mod_client.get("/review/queue/pending").get_data(as_text=True)
    counts = dict(re.findall(r'data-queue="(\w+)">(\d+)<', page))
    assert counts == {"pending": "1", "reported": "1", "rejected": "1", "approved": "1"}
    assert "held" in page and "fine" not in page
    assert "close" in mod_client.get("/review/queue/reported").get_data(as_text=True)


def test_orders_filters_and_search(review_app, mod_client, seed):
    seed("low", "mild words here", scores={"profanity": 0.0, "personal_attack": 0.41, "incitement": 0.0},
         author_id="a", article_id="art1")
    seed("high", "strong words there", scores={"profanity": 0.0, "personal_attack": 0.79, "incitement": 0.0},
         author_id="b", article_id="art2")
    seed("other-site", "words elsewhere", site_id="s2", author_id="a")

    def order_of(query):
        page = mod_client.get("/review/queue/pending" + query).get_data(as_text=True)
        return re.findall(r'class="cid" href="[^"]+">([^<]+)<', page)

    assert order_of("") == ["other-site", "high", "low"]  # newest first
    assert order_of("?order=risk")[0] == "high"
    assert order_of("?author_id=a") == ["other-site", "low"]
    assert order_of("?article_id=art2") == ["high"]
    assert order_of("?site_id=s2") == ["other-site"]
    assert order_of("?q=STRONG") == ["high"]
    assert order_of("?q=100%25") == []
    assert order_of("?label=personal_attack") == ["other-site", "high", "low"]
    assert order_of("?label=incitement") == []


def test_a_card_shows_evidence_scores_clause_context_and_author(review_app, mod_client, seed, signer):
    with db.transaction(_engine(review_app)) as conn:
        db.upsert_article(conn, "default", "art1", "Council approves cycle lanes", "Body", None, "test")
        db.add_strike(conn, "default", "u1")
    seed("parent", "The lanes are a good idea.", "approve", article_id="art1",
         scores={"profanity": 0.0, "personal_attack": 0.0, "incitement": 0.0})
    seed("c1", "You idiot, read it.", evidence=EVIDENCE, article_id="art1", parent_id="parent")
    page = mod_client.get("/review/comment?site_id=default&comment_id=c1").get_data(as_text=True)
    assert 'You <mark title="personal_attack"><span class="vh">personal attack: </span>idiot</mark>, read it.' in page
    assert "Council approves cycle lanes" in page and "The lanes are a good idea." in page
    assert "no-personal-attacks" in page and "(ABUSIVE)" in page and "hold 0.4 · reject 0.8" in page
    assert "1 strike<" in page and "language: en" in page
    assert '<option value="ABUSIVE" selected>' in page


def test_approving_stores_the_decision_label_audit_and_no_callback_without_a_url(review_app, mod_client, seed):
    seed("c1", "You idiot.", evidence=EVIDENCE)
    item = _item_id_after_sync(review_app, mod_client, "c1")
    response = _decide(mod_client, item, "approve")
    assert response.status_code == 200 and response.get_json()["counts"]["pending"] == 0
    stored = _rows(review_app, "review_items", comment_id="c1")[0]
    assert (stored["queue"], stored["decision"], stored["decided_by"]) == ("approved", "approve", "mod")
    labels = {r["label"]: r for r in _rows(review_app, "labels", comment_ref="c1")}
    assert labels["moderator_decision"]["value"] == 0.0 and labels["personal_attack"]["value"] == 0.0
    assert labels["moderator_decision"]["scores"]["personal_attack"] == 0.62
    assert labels["moderator_decision"]["model_version"] == "test-model"
    assert labels["moderator_decision"]["provenance"]["moderator"] == "mod"
    # every row of the decision carries its time, so `make data` reads them as one decision (training/decisions.py)
    assert labels["moderator_decision"]["provenance"]["decided_at"] == stored["decided_at"].isoformat()
    assert labels["personal_attack"]["provenance"] == labels["moderator_decision"]["provenance"]
    audit = _rows(review_app, "audit_log", event="review.approve")
    assert len(audit) == 1 and audit[0]["actor"] == "mod" and audit[0]["subject"] == "c1"
    assert _rows(review_app, "outbox") == []


def test_rejecting_needs_a_reason_code_and_counts_a_strike(review_app, mod_client, seed):
    seed("c1", "You idiot.")
    item = _item_id_after_sync(review_app, mod_client, "c1")
    assert _decide(mod_client, item, "reject").status_code == 422
    assert _decide(mod_client, item, "reject", code="NOT_A_CODE").status_code == 422
    response = _decide(mod_client, item, "reject", code="HARASSMENT_BULLYING", explanation="Please be civil.")
    assert response.status_code == 200
    assert re.match(r"rejected by mod at \d{4}-\d\d-\d\d \d\d:\d\d UTC \(", response.get_json()["decided"])
    assert response.get_json()["decided"].endswith(" (HARASSMENT_BULLYING): Please be civil.")
    page = mod_client.get("/review/comment?site_id=default&comment_id=c1").get_data(as_text=True)
    assert '<p class="decided">rejected by mod at ' in page, "the page and the script say it alike"
    stored = _rows(review_app, "review_items", comment_id="c1")[0]
    assert (stored["queue"], stored["reason_code"], stored["explanation"]) == ("rejected", "HARASSMENT_BULLYING",
                                                                              "Please be civil.")
    assert _rows(review_app, "authors", author_id="u1")[0]["strikes"] == 1
    labels = {r["label"]: r["value"] for r in _rows(review_app, "labels", comment_ref="c1")}
    assert labels == {"moderator_decision": 1.0, "personal_attack": 1.0}
    # Overturning the rejection takes the strike back.
    item = _rows(review_app, "review_items", comment_id="c1")[0]
    assert _decide(mod_client, item, "approve").status_code == 200
    assert _rows(review_app, "authors", author_id="u1")[0]["strikes"] == 0


def test_a_decision_on_an_edited_comment_is_refused(review_app, mod_client, seed):
    seed("c1", "You idiot.")
    item = _item_id_after_sync(review_app, mod_client, "c1")
    with db.transaction(_engine(review_app)) as conn:
        pk = db.save_comment(conn, "default", "c1", "You genius.", None, None, "u1", "test")
        db.insert_verdict(conn, pk, 2, "You genius.", {"action": "hold", "reasons": [], "model_version": "m",
                                                       "policy_version": "p"})
    mod_client.get("/review/queue/pending")
    assert _decide(mod_client, item, "approve").status_code == 409
    assert _rows(review_app, "review_items", comment_id="c1")[0]["decision"] is None


@pytest.mark.parametrize("verdict_id", [None, "abc"])
def test_a_decision_that_does_not_say_which_version_it_saw_is_refused(review_app, mod_client, seed, verdict_id):
    seed("c1", "You idiot.")
    item = dict(_item_id_after_sync(review_app, mod_client, "c1"), verdict_id=verdict_id)
    response = _decide(mod_client, item, "approve")
    assert response.status_code == 422 and "verdict_id" in response.get_data(as_text=True)
    assert _rows(review_app, "review_items", comment_id="c1")[0]["decision"] is None


def test_plain_form_posts_redirect_back_with_a_message(review_app, mod_client, seed):
    seed("c1", "You idiot.")
    item = _item_id_after_sync(review_app, mod_client, "c1")
    response = mod_client.post(f"/review/items/{item['id']}/decide", data={
        "csrf_token": mod_client.csrf, "verdict_id": item["verdict_id"], "decision": "approve",
        "next": "/queue/pending?order=risk"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/review/queue/pending?order=risk")
    evil = mod_client.post(f"/review/items/{item['id']}/decide", data={
        "csrf_token": mod_client.csrf, "verdict_id": item["verdict_id"], "decision": "approve",
        "next": "//evil.example/x"})
    assert "evil.example" not in evil.headers["Location"]


def test_bulk_approve_and_reject(review_app, mod_client, seed):
    for n in range(4):
        seed(f"c{n}", f"comment {n}")
    mod_client.get("/review/queue/pending")
    items = {r["comment_id"]: r for r in _rows(review_app, "review_items")}

    def bulk(decision, ids, **form):
        return mod_client.post("/review/bulk", headers={"Accept": "application/json"}, data={
            "csrf_token": mod_client.csrf, "decision": decision,
            "item": [f"{items[c]['id']}:{items[c]['verdict_id']}" for c in ids], **form})

    assert bulk("approve", ["c0", "c1"]).get_json()["counts"]["approved"] == 2
    answer = bulk("reject", ["c2", "c3"], code="SPAM").get_json()
    assert answer["message"].startswith("2 of 2 comments rejected.")
    assert answer["counts"] == {"pending": 0, "reported": 0, "rejected": 2, "approved": 2}
    assert len(_rows(review_app, "audit_log", actor="mod")) == 4


def test_blocking_and_pre_moderating_an_author(review_app, mod_client, seed):
    seed("c1", "You idiot.", author_id="troll")
    mod_client.get("/review/queue/pending")

    def set_status(status):
        return mod_client.post("/review/author/status", headers={"Accept": "application/json"}, data={
            "csrf_token": mod_client.csrf, "site_id": "default", "author_id": "troll", "status": status,
            "confirmed": "1"})

    assert set_status("premod").status_code == 200
    assert set_status("blocked").status_code == 200
    assert set_status("banished").status_code == 422
    assert _rows(review_app, "authors", author_id="troll")[0]["status"] == "blocked"
    page = mod_client.get("/review/author?site_id=default&author_id=troll").get_data(as_text=True)
    assert 'class="set-status">blocked' in page and "after 3 strikes" in page and "after 6" in page
    audit = _rows(review_app, "audit_log", event="review.author_status")
    assert [a["detail"]["status"] for a in audit] == ["premod", "blocked"]


def test_policy_author_rules_show_on_the_author_page(review_app, mod_client, seed):
    seed("c1", "You idiot.", author_id="repeat")
    with db.transaction(_engine(review_app)) as conn:
        for _ in range(3):
            db.add_strike(conn, "default", "repeat")
    page = mod_client.get("/review/author?site_id=default&author_id=repeat").get_data(as_text=True)
    assert 'class="strikes">3<' in page and 'class="status premod">premod<' in page


def test_a_blocked_author_s_next_comment_is_rejected_by_the_service(review_app, mod_client, seed):
    seed("first", "You idiot.", author_id="blocked-one")
    mod_client.post("/review/author/status", data={"csrf_token": mod_client.csrf, "site_id": "default",
                                                   "author_id": "blocked-one", "status": "blocked", "confirmed": "1"})
    answer = signed_post(review_app.test_client(), "/v1/comments",
                         {"id": "b1", "text": "A perfectly polite remark.", "author_id": "blocked-one"}).get_json()
    assert answer["action"] == "reject" and answer["reasons"][-1]["clause_id"] == "repeat-offenders"


def test_the_audit_log_lists_decisions_and_who_made_them(review_app, mod_client, seed):
    seed("c1", "You idiot.")
    item = _item_id_after_sync(review_app, mod_client, "c1")
    _decide(mod_client, item, "reject", code="ABUSIVE")
    page = mod_client.get("/review/audit").get_data(as_text=True)
    assert "review.reject" in page and ">mod<" in page and "ABUSIVE" in page


def test_pages_carry_a_content_security_policy(mod_client):
    headers = mod_client.get("/review/queue/pending").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"] and headers["X-Frame-Options"] == "DENY"


def test_unknown_queue_and_comment_are_html_404s(mod_client):
    assert mod_client.get("/review/queue/nope").status_code == 404
    response = mod_client.get("/review/comment?site_id=default&comment_id=none")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_the_api_keeps_its_json_errors(review_app):
    response = review_app.test_client().get("/nowhere")
    assert response.status_code == 404 and set(response.get_json()["error"]) == {"code", "message", "field"}


def test_header_badges_count_whole_queues_and_the_heading_counts_the_filtered_list(review_app, mod_client, seed):
    for n in range(3):
        seed(f"idiot-{n}", f"You idiot number {n}.")
    seed("other", "Something else entirely.")
    page = mod_client.get("/review/queue/pending?q=idiot").get_data(as_text=True)
    assert 'title="comments in the whole queue, before any filter" data-queue="pending">4<' in page
    assert re.search(r'data-shown="pending">3</span> <span class="count-note">matching the filters', page)
    assert "<title>Pending (3) · moderation</title>" in page
    unfiltered = mod_client.get("/review/queue/pending").get_data(as_text=True)
    assert 'data-shown="pending">4<' in unfiltered and "<title>Pending (4)" in unfiltered
    # A decision answers with both, the list's under the filters of the page it was made on.
    item = _item_id(review_app, "idiot-0")
    answer = mod_client.post(f"/review/items/{item['id']}/decide", headers={"Accept": "application/json"}, data={
        "csrf_token": mod_client.csrf, "verdict_id": item["verdict_id"], "decision": "approve",
        "next": "/queue/pending?q=idiot&order=risk"}).get_json()
    assert answer["counts"]["pending"] == 3 and answer["shown"]["pending"] == 2


def test_cards_name_their_controls_for_screen_readers(review_app, mod_client, seed):
    seed("c-7", "You idiot.", evidence=EVIDENCE)
    page = mod_client.get("/review/queue/pending").get_data(as_text=True)
    assert 'aria-label="select comment c-7 for a bulk action"' in page
    assert page.count('<meter aria-label="') == 3 and '<meter aria-label="personal attack score"' in page
    assert 'aria-label="comment c-7"' in page
    assert '<span class="vh">personal attack: </span>idiot</mark>' in page


def test_a_csrf_cookie_dropped_over_plain_http_is_explained(make_app):
    app = make_app(REVIEW_SECRET_KEY="k", CALLBACK_THREAD=False)  # the cookie is HTTPS-only by default
    create_user(_engine(app), "mod", "moderator-password-1", "moderator")
    page = app.test_client().get("/review/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    # Over plain HTTP the browser keeps the Secure session cookie to itself: the token's session is missing.
    response = app.test_client().post("/review/login", data={"username": "mod", "password": "moderator-password-1",
                                                             "csrf_token": token})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "HTTPS-only" in text and "MODERATION_REVIEW_COOKIE_SECURE=false" in text
    assert "Reload the page" not in text
    # Over HTTPS, or with the setting off, the usual advice stands.
    https = app.test_client().post("/review/login", base_url="https://localhost", data={"csrf_token": token})
    assert https.status_code == 400 and "Reload the page" in https.get_data(as_text=True)


@pytest.mark.parametrize(("hops", "headers", "hint"), [
    (0, {}, "plain HTTP"),  # nothing says otherwise, and no proxy is trusted: the request's own scheme
    (0, {"Origin": "http://mod.example"}, "plain HTTP"),
    (0, {"Origin": "https://mod.example"}, "if"),  # a TLS proxy the service does not trust: the session just ended
    (1, {}, "if"),  # a proxy sent no X-Forwarded-Proto: http, or a proxy that left it out
    (1, {"Referer": "http://mod.example/review/login"}, "plain HTTP"),
    (1, {"X-Forwarded-Proto": "https"}, None),  # HTTPS as the trusted proxy saw it: the usual advice
])
def test_the_https_only_cookie_hint_is_given_only_where_the_page_came_over_plain_http(make_app, hops, headers, hint):
    app = make_app(REVIEW_SECRET_KEY="k", CALLBACK_THREAD=False, PROXY_HOPS=hops)
    response = app.test_client().post("/review/login", headers=headers, data={"csrf_token": "from-a-dead-session"})
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    definite = "and this page came over plain HTTP" in text and "MODERATION_REVIEW_COOKIE_SECURE=false" in text
    conditional = "If this page came over plain HTTP" in text and "MODERATION_PROXY_HOPS" in text
    assert (definite, conditional, "Reload the page" in text) == (hint == "plain HTTP", hint == "if", hint != "plain HTTP")


def _contrast(colour: str, background: str) -> float:
    def luminance(hex_colour):
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    light, dark = sorted((luminance(colour), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("name", ["ink", "muted", "hold", "reject", "ok", "sel"])
@pytest.mark.parametrize("background", ["#ffffff", "#f5f6f8"])  # cards, and the page around them
def test_text_colours_reach_aa_contrast(name, background):
    css = (Path(__file__).resolve().parent.parent / "review" / "static" / "review.css").read_text()
    colour = re.search(rf"--{name}: (#[0-9a-fA-F]{{6}})", css)[1]
    assert _contrast(colour, background) >= 4.5, f"--{name} {colour} on {background}"


# Finding decisions again, authors' records, asking first ----------------------------------------------------
def test_filter_fields_have_visible_labels(mod_client):
    page = mod_client.get("/review/queue/pending?q=x").get_data(as_text=True)
    form = re.search(r'<form class="filters".*?</form>', page, re.S)[0]
    for name, text in [("q", "Search text"), ("label", "Label"), ("article_id", "Article id"),
                       ("author_id", "Author id"), ("site_id", "Site id"), ("order", "Order")]:
        assert re.search(rf'<label>{text} <(input|select)[^>]* name="{name}"', form), name
    assert "placeholder" not in form, "a placeholder is no label: it goes once the field is typed into"


def test_a_decision_s_message_links_to_the_comment(review_app, mod_client, seed):
    seed("c1", "You idiot.")
    seed("c2", "You fool.")
    item = _item_id_after_sync(review_app, mod_client, "c1")
    answer = _decide(mod_client, item, "approve").get_json()
    assert answer["message"] == "Approved comment c1."
    assert answer["link"] == {"href": "/review/comment?site_id=default&comment_id=c1", "text": "c1"}
    item = _item_id(review_app, "c2")
    mod_client.post(f"/review/items/{item['id']}/decide", data={  # a plain form, without the script
        "csrf_token": mod_client.csrf, "verdict_id": item["verdict_id"], "decision": "reject", "code": "ABUSIVE",
        "next": "/queue/pending"})
    page = mod_client.get("/review/queue/pending").get_data(as_text=True)
    assert 'Rejected comment <a href="/review/comment?site_id=default&amp;comment_id=c2">c2</a>.' in page


def test_audit_subjects_link_to_their_comment_or_author(review_app, mod_client, seed):
    seed("c1", "You idiot.", author_id="troll")
    item = _item_id_after_sync(review_app, mod_client, "c1")
    _decide(mod_client, item, "reject", code="ABUSIVE")
    mod_client.post("/review/author/status", data={"csrf_token": mod_client.csrf, "site_id": "default",
                                                   "author_id": "troll", "status": "active"})
    page = mod_client.get("/review/audit").get_data(as_text=True)
    assert '<a href="/review/comment?site_id=default&amp;comment_id=c1">c1</a>' in page
    assert '<a href="/review/author?site_id=default&amp;author_id=troll">troll</a>' in page


def test_a_card_s_author_line_counts_every_queue(review_app, mod_client, seed):
    seed("held", "You idiot.", author_id="u-hate")
    seed("near", "Rather rude.", "approve", author_id="u-hate",
         scores={"profanity": 0.0, "personal_attack": 0.35, "incitement": 0.0})
    page = mod_client.get("/review/queue/reported").get_data(as_text=True)
    assert "pending 1, reported 1, rejected 0, approved 0" in page


def test_decisions_and_status_changes_answer_with_the_author_s_record(review_app, mod_client, seed):
    seed("c1", "You idiot.", author_id="troll")
    item = _item_id_after_sync(review_app, mod_client, "c1")
    record = _decide(mod_client, item, "reject", code="ABUSIVE").get_json()["author"]
    assert record == {"site_id": "default", "author_id": "troll", "strikes": 1, "status": "active",
                      "history": {"pending": 0, "reported": 0, "rejected": 1, "approved": 0}}
    answer = mod_client.post("/review/author/status", headers={"Accept": "application/json"}, data={
        "csrf_token": mod_client.csrf, "site_id": "default", "author_id": "troll", "status": "premod",
        "confirmed": "1"}).get_json()
    assert answer["author"]["status"] == "premod" and answer["author"]["strikes"] == 1


@pytest.mark.parametrize("status", ["blocked", "premod"])
def test_without_the_script_blocking_and_pre_moderating_ask_first_on_a_page(review_app, mod_client, seed, status):
    seed("c1", "You idiot.", author_id="troll")
    form = {"csrf_token": mod_client.csrf, "site_id": "default", "author_id": "troll", "status": status,
            "next": "/queue/pending?q=idiot"}
    asked = mod_client.post("/review/author/status", data=form)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and _rows(review_app, "authors") == [] and _rows(review_app, "outbox") == []
    verb = {"blocked": "Block", "premod": "Pre-moderate"}[status]
    assert f'{verb} author <span class="cid">troll</span> on site default?' in page
    assert '<input type="hidden" name="confirmed" value="1">' in page
    assert '<a href="/review/queue/pending?q=idiot">Cancel</a>' in page
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.split('class="confirm"')[1]))
    done = mod_client.post("/review/author/status", data={**fields, "next": "/queue/pending?q=idiot"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/review/queue/pending?q=idiot")
    assert _rows(review_app, "authors", author_id="troll")[0]["status"] == status


def test_a_status_change_the_script_did_not_confirm_changes_nothing(review_app, mod_client):
    answer = mod_client.post("/review/author/status", headers={"Accept": "application/json"}, data={
        "csrf_token": mod_client.csrf, "site_id": "default", "author_id": "troll", "status": "blocked"})
    assert answer.status_code == 422 and "confirm first" in answer.get_json()["message"]
    assert _rows(review_app, "authors") == []


def test_help_is_a_page_without_the_script(mod_client):
    page = mod_client.get("/review/queue/pending").get_data(as_text=True)
    assert '<a href="/review/help" class="help-button" data-help aria-label="Keyboard shortcuts">?</a>' in page
    help_page = mod_client.get("/review/help")
    assert help_page.status_code == 200 and "block the author (asks first)" in help_page.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/review/queue/pending", "/review/mine", "/review/audit"])
def test_a_page_number_past_any_offset_the_database_holds_lists_nothing(mod_client, seed, path):
    seed("c1", "You idiot.")
    response = mod_client.get(f"{path}?page=999999999999999999999")
    assert response.status_code == 200 and ">c1</a>" not in response.get_data(as_text=True)


def test_older_is_offered_only_when_there_is_an_older_page(review_app, mod_client, seed, monkeypatch):
    monkeypatch.setattr("review.queue.PAGE_SIZE", 2)
    for i in range(4):
        seed(f"c{i}", f"You idiot {i}.")
    first = mod_client.get("/review/queue/pending").get_data(as_text=True)
    last = mod_client.get("/review/queue/pending?page=2").get_data(as_text=True)
    assert ">older</a>" in first and ">older</a>" not in last  # four comments: exactly two pages
    with db.transaction(_engine(review_app)) as conn:
        for item in _rows(review_app, "review_items"):
            db.decide_review_item(conn, item["id"], item["verdict_id"], "approve", "mod", None, None)
    assert ">older</a>" in mod_client.get("/review/mine").get_data(as_text=True)
    assert ">older</a>" not in mod_client.get("/review/mine?page=2").get_data(as_text=True)


def _listed(client, url: str) -> tuple[list[str], dict[str, str]]:
    """The comment ids a queue page lists, and its newer/older links."""
    page = client.get(url).get_data(as_text=True)
    links = {name: html.unescape(href) for href, name in re.findall(r'<a href="([^"]+)">(newer|older)</a>', page)}
    return re.findall(r'class="cid" href="[^"]+">([^<]+)<', page), links


@pytest.mark.parametrize("order,query", [("newest", ""), ("risk", "order=risk&"), ("newest", "q=idiot&")])
def test_a_queue_page_follows_the_last_one_shown_whatever_was_decided_or_added_since(
        make_review_app, database_url, seed_into, signer, monkeypatch, order, query):
    """The "older" link goes on from the last comment shown: deciding a page's comments used to make the next page
    skip as many, and comments arriving used to make it repeat the end of the page before."""
    review_app = make_review_app(database_url)
    mod_client = review_app.test_client()
    mod_client.csrf = signer(mod_client, "mod")

    def seed(*args, **kwargs):
        seed_into(review_app, *args, **kwargs)

    monkeypatch.setattr("review.queue.PAGE_SIZE", 2)
    for i in range(6):  # newest last; risk falls as i grows, so both orders list c0..c5 the same way round
        seed(f"c{i}", f"You idiot {i}.", scores={"profanity": 0.0, "personal_attack": 0.9 - i / 10, "incitement": 0.0})
    expected = [f"c{i}" for i in range(6)] if order == "risk" else [f"c{i}" for i in reversed(range(6))]
    first, links = _listed(mod_client, f"/review/queue/pending?{query}")
    assert first == expected[:2] and "newer" not in links
    with db.transaction(_engine(review_app)) as conn:  # both decided from the page, as a moderator does
        for item in _rows(review_app, "review_items"):
            if item["comment_id"] in first:
                db.decide_review_item(conn, item["id"], item["verdict_id"], "approve", "mod", None, None)
    seed("c9", "You idiot 9.", scores={"profanity": 0.0, "personal_attack": 0.95, "incitement": 0.0})  # on top
    second, links = _listed(mod_client, links["older"])
    assert second == expected[2:4]
    third, third_links = _listed(mod_client, links["older"])
    assert third == expected[4:6] and "older" not in third_links
    back, back_links = _listed(mod_client, third_links["newer"])
    assert back == second
    top, top_links = _listed(mod_client, back_links["newer"])
    assert top == ["c9", *expected[2:3]] and "newer" not in top_links, "back at the top: a whole first page"


@pytest.mark.parametrize("cursor", ["after=nonsense", "after=2026-01-01T00:00:00~x", "before=0.5~2026-01-01~1",
                                    "after=1e999~2026-01-01T00:00:00~1&order=risk",
                                    "after=2026-01-01T00:00:00~99999999999999999999",
                                    "q=idiot&after=2026-01-01T00:00:00%2B05:00~1"])
def test_a_queue_place_that_is_not_one_is_a_400(mod_client, seed, cursor):
    seed("c1", "You idiot.")
    response = mod_client.get(f"/review/queue/pending?{cursor}")
    assert response.status_code == 400 and "not a place in this queue" in response.get_data(as_text=True)


@pytest.mark.parametrize("path,form", [
    ("/review/items/99999999999999999999999/decide", {"verdict_id": "1", "decision": "approve"}),
    ("/review/items/1/decide", {"verdict_id": "99999999999999999999999", "decision": "approve"}),
    ("/review/items/1/decide", {"verdict_id": "\u00b2", "decision": "approve"}),
    ("/review/bulk", {"decision": "approve", "item": "99999999999999999999999:1:"}),
    ("/review/bulk", {"decision": "approve", "item": "\u00b2:1:"}),
    ("/review/bulk", {"decision": "approve", "item": "1:\u00b2:"}),
    ("/review/admin/users/99999999999999999999999", {"role": "admin"}),
    ("/review/admin/deliveries/99999999999999999999999/retry", {}),
])
def test_forged_ids_get_a_clear_refusal_never_a_500(review_app, admin_client, seed, path, form):
    seed("c1", "You idiot.")
    response = admin_client.post(path, data={"csrf_token": admin_client.csrf, **form},
                                 headers={"Accept": "application/json"})
    assert response.status_code in (404, 422), response.get_data(as_text=True)[:300]
    assert all(row["decision"] is None for row in _rows(review_app, "review_items"))


def test_the_author_page_pages_through_all_of_an_author_s_comments(review_app, mod_client, seed):
    for i in range(52):
        seed(f"c{i:02d}", f"Comment number {i}.", author_id="u-big")
    mod_client.get("/review/queue/pending")  # the queue takes them in
    first, links = _listed(mod_client, "/review/author?site_id=default&author_id=u-big")
    second, second_links = _listed(mod_client, links["older"])
    assert len(first) == 50 and len(second) == 2 and sorted(first + second) == [f"c{i:02d}" for i in range(52)]
    assert "older" not in second_links and _listed(mod_client, second_links["newer"])[0] == first
    assert "author_id=u-big" in links["older"] and "site_id=default" in links["older"]
    numbered, _ = _listed(mod_client, "/review/author?site_id=default&author_id=u-big&page=2")  # a link made before
    assert numbered == second
    beyond = mod_client.get("/review/author?site_id=default&author_id=u-big&page=9")
    assert beyond.status_code == 200 and "No comments stored this far back." in beyond.get_data(as_text=True)


@pytest.mark.parametrize("site_id,author_id", [("default", "nobody-here"), ("nosuchsite", "u1")])
def test_an_author_the_service_never_saw_cannot_be_blocked(review_app, mod_client, seed, site_id, author_id):
    seed("c1", "You idiot.", author_id="u1")
    answer = mod_client.post("/review/author/status", data={
        "csrf_token": mod_client.csrf, "site_id": site_id, "author_id": author_id, "status": "blocked",
        "confirmed": "1"}, headers={"Accept": "application/json"})
    assert answer.status_code == 404
    assert answer.get_json()["message"] == f"no comment by author {author_id} on site {site_id} is stored: nothing was changed"
    assert _rows(review_app, "authors") == [] and _rows(review_app, "outbox") == []
    assert [r for r in _rows(review_app, "audit_log") if r["event"] == "review.author_status"] == []


def test_a_card_shows_the_spam_score_where_the_model_gave_one(review_app, mod_client, seed):
    """The policy's spam clause (hold 0.6, reject 0.85) has a score row on a card whose scores hold spam, and
    none on a card from a model trained before the spam head (no spam score to show, rather than a 0)."""
    seed("ad", "Earn £500 a day from home, link in bio", scores={"profanity": 0.0, "personal_attack": 0.0,
                                                                  "incitement": 0.0, "spam": 0.93})
    seed("old", "You idiot, read it.")
    spam_page = mod_client.get("/review/comment?site_id=default&comment_id=ad").get_data(as_text=True)
    old_page = mod_client.get("/review/comment?site_id=default&comment_id=old").get_data(as_text=True)
    assert "hold 0.6 · reject 0.85" in spam_page and "0.93" in spam_page
    assert "hold 0.6 · reject 0.85" not in old_page and "hold 0.4 · reject 0.8" in old_page
    queue = mod_client.get("/review/queue/pending").get_data(as_text=True)
    assert '<option value="spam"' in queue  # the label filter offers spam too


@pytest.mark.parametrize("path", ["/review/queue/pending?site_id=%00", "/review/queue/pending?label=x%00",
                                  "/review/queue/pending?q=a%00b", "/review/comment?site_id=%00&comment_id=x",
                                  "/review/author?site_id=default&author_id=%00", "/review/editors/sites/%00/",
                                  "/review/editors/sites/default/articles/x%00/"])
def test_a_nul_character_anywhere_is_a_400_on_either_database(make_review_app, database_url, signer, path):
    app = make_review_app(database_url)
    client = app.test_client()
    client.csrf = signer(client, "admin")
    response = client.get(path)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert "NUL character" in response.get_data(as_text=True)


def test_my_decisions_and_the_audit_log_follow_the_last_row_shown_whatever_was_added_since(
        review_app, admin_client, seed, monkeypatch):
    """Both list the newest first: with page numbers, each decision made while someone read an older page
    pushed a row of the page before onto it again."""
    monkeypatch.setattr("review.queue.PAGE_SIZE", 2)
    monkeypatch.setattr("review.admin._AUDIT_PAGE", 2)
    for i in range(6):
        seed(f"c{i}", f"You idiot {i}.")
    admin_client.get("/review/queue/pending")  # the queue takes them in
    items = sorted(_rows(review_app, "review_items"), key=lambda item: item["comment_id"])

    def decide(item):
        with db.transaction(_engine(review_app)) as conn:
            db.decide_review_item(conn, item["id"], item["verdict_id"], "approve", "admin", None, None)
            db.insert_audit(conn, "review.approve", "default", item["comment_id"], {}, actor="admin")

    for item in items[:4]:
        decide(item)
    first, links = _listed(admin_client, "/review/mine")
    audit = admin_client.get("/review/audit").get_data(as_text=True)
    audit_older = html.unescape(re.search(r'<a href="([^"]+)">older</a>', audit).group(1))
    decide(items[4])  # decided while the first pages were read
    second, second_links = _listed(admin_client, links["older"])
    assert first == ["c3", "c2"] and second == ["c1", "c0"] and "older" not in second_links
    back, back_links = _listed(admin_client, second_links["newer"])
    assert back == ["c3", "c2"] and _listed(admin_client, back_links["newer"])[0] == ["c4", "c3"], "the top, whole"
    subjects = re.findall(r'review/comment\?[^"]*comment_id=(c\d)', admin_client.get(audit_older).get_data(as_text=True))
    assert subjects == ["c1", "c0"]


@pytest.mark.parametrize("path", ["/review/mine?after=2026-01-01T00:00:00", "/review/mine?before=x~1",
                                  "/review/audit?after=1~2", "/review/audit?before=-1",
                                  "/review/author?site_id=default&author_id=u1&after=2026-01-01T00:00:00~99999999999999999999"])
def test_a_place_in_a_list_that_is_not_one_is_a_400(admin_client, seed, path):
    seed("c1", "You idiot.", author_id="u1")
    response = admin_client.get(path)
    assert response.status_code == 400 and "not a place in" in response.get_data(as_text=True)
