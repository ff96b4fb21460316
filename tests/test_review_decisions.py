"""Decisions that meet other decisions: a second moderator, two at once, an edit, a repeat; restoring
authors held by their strikes; bulk rejections that must name their reason."""

import contextlib
import html
import json
import re
import threading

import pytest
import sqlalchemy as sa

from webhook import db

from .webhook_helpers import ATTACK, signed_post

pytest_plugins = ["tests.webhook_fixtures", "tests.review_fixtures"]

CMS = "http://127.0.0.1:9/cms"  # callbacks are queued (and counted), never sent: no thread runs


@pytest.fixture
def review_app(make_review_app):
    return make_review_app(CALLBACK_URL=CMS)


def _rows(app, table, **where):
    query = sa.select(db.metadata.tables[table])
    for column, value in where.items():
        query = query.where(db.metadata.tables[table].c[column] == value)
    with db.connect(app.extensions["moderation"].engine) as conn:
        return [r._asdict() for r in conn.execute(query.order_by(db.metadata.tables[table].c[0]))]


def _card_form(client, path, comment_id, decision):
    """The hidden fields of a card's approve or reject form, as the page drew them (no box ticked)."""
    page = client.get(path).get_data(as_text=True)
    card = re.search(rf'<article class="card[^>]*>(?:(?!</article>).)*?>{comment_id}</a>.*?</article>', page, re.S)
    assert card, f"{comment_id} is not on {path}"
    form = re.search(rf'<form[^>]*decide[^>]*>(?:(?!</form>).)*?name="decision" value="{decision}".*?</form>',
                     card[0], re.S)[0]
    return {name: html.unescape(value) for name, value in re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form)}


def _decide(client, form, **changes):
    item_id = _rows(client.application, "review_items", verdict_id=int(form["verdict_id"]))[0]["id"]
    return client.post(f"/review/items/{item_id}/decide", data={**form, "csrf_token": client.csrf, **changes},
                       headers={"Accept": "application/json"})


def _traces(app, comment_id):
    """How many label rows, audit lines and callbacks the decisions on a comment left."""
    audit = [a for a in _rows(app, "audit_log", subject=comment_id) if a["event"].startswith("review.")]
    callbacks = [c for c in _rows(app, "outbox") if c["payload"].get("comment_id") == comment_id]
    return len(_rows(app, "labels", comment_ref=comment_id)), len(audit), len(callbacks)


# A second moderator ---------------------------------------------------------------------------------------
def test_a_decision_on_a_comment_decided_since_the_page_was_drawn_is_refused(review_app, mod_client, admin_client, seed):
    seed("c1", "You idiot.")
    bobs = _card_form(mod_client, "/review/queue/pending", "c1", "approve")
    carols = _card_form(admin_client, "/review/queue/pending", "c1", "reject")  # the same card, still undecided
    assert _decide(mod_client, bobs).status_code == 200
    traces = _traces(review_app, "c1")
    answer = _decide(admin_client, carols, code="ABUSIVE")
    assert answer.status_code == 409
    assert re.fullmatch(r"comment c1 was already approved by mod at \d\d:\d\d UTC: reload", answer.get_json()["message"])
    item = _rows(review_app, "review_items", comment_id="c1")[0]
    assert (item["decision"], item["decided_by"]) == ("approve", "mod")
    assert _traces(review_app, "c1") == traces == (4, 1, 1), "no contradictory labels, audit line or callback"
    assert _rows(review_app, "authors", author_id="u1") == []


def test_a_second_rejection_from_a_stale_page_is_refused_and_counts_no_strike(review_app, mod_client, admin_client, seed):
    seed("c1", "You idiot.")
    forms = [_card_form(client, "/review/queue/pending", "c1", "reject") for client in (mod_client, admin_client)]
    assert _decide(mod_client, forms[0], code="ABUSIVE").status_code == 200
    assert _decide(admin_client, forms[1], code="ABUSIVE").status_code == 409
    assert _traces(review_app, "c1") == (2, 1, 1)
    assert _rows(review_app, "authors", author_id="u1")[0]["strikes"] == 1


@pytest.mark.parametrize("path", ["/review/queue/approved", "/review/comment?site_id=default&comment_id=c1",
                                  "/review/author?site_id=default&author_id=u1"])
def test_a_decided_comment_is_overturned_from_a_page_that_shows_the_decision(review_app, mod_client, admin_client, seed, path):
    seed("c1", "You idiot.")
    assert _decide(mod_client, _card_form(mod_client, "/review/queue/pending", "c1", "approve")).status_code == 200
    form = _card_form(admin_client, path, "c1", "reject")
    assert form["seen"].startswith("approve@")
    answer = _decide(admin_client, form, code="ABUSIVE")
    assert answer.status_code == 200 and answer.get_json()["message"] == "Rejected comment c1."
    item = _rows(review_app, "review_items", comment_id="c1")[0]
    assert (item["decision"], item["decided_by"]) == ("reject", "admin")
    assert _rows(review_app, "authors", author_id="u1")[0]["strikes"] == 1
    assert _rows(review_app, "audit_log", event="review.reject")[0]["detail"]["previous"] == "approve"


def test_my_decisions_lists_mine_in_force_newest_first_and_corrects_from_there(review_app, mod_client, admin_client,
                                                                              editor_client, seed):
    for cid in ("c1", "c2", "c3"):
        seed(cid, f"You idiot ({cid}).", author_id=f"u-{cid}")
    assert "You have not decided any comment." in mod_client.get("/review/mine").get_data(as_text=True)
    assert _decide(mod_client, _card_form(mod_client, "/review/queue/pending", "c1", "approve")).status_code == 200
    assert _decide(mod_client, _card_form(mod_client, "/review/queue/pending", "c2", "reject"), code="ABUSIVE").status_code == 200
    assert _decide(admin_client, _card_form(admin_client, "/review/queue/pending", "c3", "approve")).status_code == 200
    page = mod_client.get("/review/mine").get_data(as_text=True)
    assert 'My decisions <span class="count" title="comments whose decision in force is yours">2</span>' in page
    assert page.index(">c2</a>") < page.index(">c1</a>") and ">c3</a>" not in page  # the newest first; not the admin's
    # A mistaken approval is corrected from there, with the decision's usual traces.
    form = _card_form(mod_client, "/review/mine", "c1", "reject")
    assert form["seen"].startswith("approve@") and form["next"].endswith("/mine?")  # back to this page
    assert _decide(mod_client, form, code="ABUSIVE").status_code == 200
    assert _rows(review_app, "review_items", comment_id="c1")[0]["decision"] == "reject"
    assert _rows(review_app, "authors", author_id="u-c1")[0]["strikes"] == 1
    assert _traces(review_app, "c1")[1:] == (2, 2)  # two audit lines, two callbacks
    # A comment someone else decided since is theirs.
    assert _decide(admin_client, _card_form(admin_client, "/review/queue/rejected", "c2", "approve")).status_code == 200
    mine = mod_client.get("/review/mine").get_data(as_text=True)
    assert ">c2</a>" not in mine and ">c1</a>" in mine
    theirs = admin_client.get("/review/mine").get_data(as_text=True)
    assert ">c2</a>" in theirs and ">c3</a>" in theirs
    assert editor_client.get("/review/mine").status_code == 403


def test_only_queue_pages_offer_bulk_selection(mod_client, seed):
    """A checkbox belongs to the bulk form, which only queue pages have: elsewhere it would select for nothing."""
    seed("c1", "You idiot.")
    seed("c2", "You fool.")
    assert _decide(mod_client, _card_form(mod_client, "/review/queue/pending", "c2", "approve")).status_code == 200
    queue = mod_client.get("/review/queue/pending").get_data(as_text=True)
    assert '<form id="bulk"' in queue and queue.count('type="checkbox" form="bulk"') == 1
    for path in ("/review/mine", "/review/comment?site_id=default&comment_id=c1",
                 "/review/author?site_id=default&author_id=u1"):
        page = mod_client.get(path).get_data(as_text=True)
        assert 'class="card' in page, path
        assert 'form="bulk"' not in page and '<form id="bulk"' not in page, path


def test_a_decision_s_answer_says_what_its_card_now_shows_so_the_moderator_can_correct_it(review_app, mod_client, seed):
    seed("c1", "You idiot.")
    path = "/review/comment?site_id=default&comment_id=c1"
    approve, reject = (_card_form(mod_client, path, "c1", decision) for decision in ("approve", "reject"))
    seen = _decide(mod_client, approve).get_json()["seen"]
    assert seen.startswith("approve@") and seen == _card_form(mod_client, path, "c1", "reject")["seen"]
    answer = _decide(mod_client, reject, seen=seen, code="ABUSIVE")  # the card the script updated, not reloaded
    assert answer.status_code == 200 and answer.get_json()["seen"].startswith("reject@")


def test_a_decision_that_changes_nothing_is_refused(review_app, mod_client, seed):
    seed("c1", "You idiot.")
    assert _decide(mod_client, _card_form(mod_client, "/review/queue/pending", "c1", "approve")).status_code == 200
    traces = _traces(review_app, "c1")
    again = _decide(mod_client, _card_form(mod_client, "/review/queue/approved", "c1", "approve"))
    assert again.status_code == 409
    assert re.fullmatch(r"comment c1 is already approved by mod at \d\d:\d\d UTC: nothing changed",
                        again.get_json()["message"])
    assert _traces(review_app, "c1") == traces
    assert _decide(mod_client, _card_form(mod_client, "/review/queue/approved", "c1", "reject"),
                   code="ABUSIVE").status_code == 200
    rejected = _card_form(mod_client, "/review/queue/rejected", "c1", "reject")
    assert _decide(mod_client, rejected, code="ABUSIVE").status_code == 409
    assert _decide(mod_client, rejected, code="HATE_SPEECH").status_code == 200, "another reason is a correction"
    assert _rows(review_app, "authors", author_id="u1")[0]["strikes"] == 1


def test_a_refusal_is_on_the_page_the_script_reloads(review_app, mod_client, admin_client, seed):
    seed("c1", "You idiot.")
    form = _card_form(admin_client, "/review/queue/pending", "c1", "approve")
    _decide(mod_client, _card_form(mod_client, "/review/queue/pending", "c1", "approve"))
    assert _decide(admin_client, form).status_code == 409
    page = admin_client.get("/review/queue/pending").get_data(as_text=True)
    assert re.search(r'<p class="flash error">comment c1 was already approved by mod at [^<]+: reload</p>', page)
    assert "flash error" not in admin_client.get("/review/queue/pending").get_data(as_text=True), "shown once"


def test_bulk_decisions_are_refused_on_comments_decided_since(review_app, mod_client, admin_client, seed):
    for n in range(2):
        seed(f"c{n}", "You idiot.")
    stale = [_card_form(admin_client, "/review/queue/pending", f"c{n}", "approve") for n in range(2)]
    _decide(mod_client, _card_form(mod_client, "/review/queue/pending", "c0", "approve"))
    page = admin_client.get("/review/queue/pending").get_data(as_text=True)
    boxes = re.findall(r'name="item" value="([^"]+)"', page)
    assert len(boxes) == 1 and boxes[0].endswith(":"), "an undecided card's box says it saw no decision"
    item_ids = {f["verdict_id"]: _rows(review_app, "review_items", verdict_id=int(f["verdict_id"]))[0]["id"] for f in stale}
    answer = admin_client.post("/review/bulk", headers={"Accept": "application/json"}, data={
        "csrf_token": admin_client.csrf, "decision": "reject", "code": "SPAM",
        "item": [f"{item_ids[f['verdict_id']]}:{f['verdict_id']}:{f['seen']}" for f in stale]}).get_json()
    assert answer["message"].startswith("1 of 2 comments rejected. comment c0 was already approved by mod at ")
    assert [r["decision"] for r in _rows(review_app, "review_items")] == ["approve", "reject"]


# Two at once ------------------------------------------------------------------------------------------------
def test_two_rejections_sent_at_once_count_one_strike(make_review_app, database_url, seed_into, signer, monkeypatch):
    app = make_review_app(database_url, CALLBACK_URL=CMS)
    clients = [app.test_client() for _ in range(2)]
    for client, name in zip(clients, ("mod", "admin")):
        client.csrf = signer(client, name)
    seed_into(app, "c1", "You idiot.", author_id="u-rep2")
    forms = [_card_form(client, "/review/queue/pending", "c1", "reject") for client in clients]
    # Both requests get as far as writing the decision before either goes on, unless one of them waits for
    # the other to finish: then the barrier gives up after a second and lets the first go on alone.
    barrier, write = threading.Barrier(2, timeout=1), db.decide_review_item

    def together(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return write(*args, **kwargs)

    monkeypatch.setattr(db, "decide_review_item", together)
    statuses = []
    threads = [threading.Thread(target=lambda c=c, f=f: statuses.append(_decide(c, f, code="ABUSIVE").status_code))
               for c, f in zip(clients, forms)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _rows(app, "authors", author_id="u-rep2")[0]["strikes"] == 1, "one comment, one strike"
    assert sorted(statuses) == [200, 409]
    assert _traces(app, "c1") == (2, 1, 1)


# An edit --------------------------------------------------------------------------------------------------
def _edit(app, comment_id, text):
    """The CMS sends an edit: a second verdict, and nobody loads a page."""
    with db.transaction(app.extensions["moderation"].engine) as conn:
        pk = db.save_comment(conn, "default", comment_id, text, None, None, "u1", "test")
        db.insert_verdict(conn, pk, 2, text, {"action": "hold", "reasons": [], "model_version": "m",
                                              "policy_version": "p"})


def test_a_decision_on_text_edited_since_the_page_was_drawn_is_refused(review_app, mod_client, seed):
    seed("c1", "Fair point.")
    form = _card_form(mod_client, "/review/queue/pending", "c1", "approve")
    _edit(review_app, "c1", "EDITED: you utter idiot.")
    answer = _decide(mod_client, form)
    assert answer.status_code == 409 and "comment c1 changed since this page was loaded" in answer.get_json()["message"]
    item = _rows(review_app, "review_items", comment_id="c1")[0]
    assert item["decision"] is None and item["verdict_id"] != int(form["verdict_id"])
    assert _traces(review_app, "c1") == (0, 0, 0)


def test_an_edit_judged_between_the_queue_s_refresh_and_the_decision_is_not_decided_blind(review_app, mod_client,
                                                                                           seed):
    """The decide route brings the queue up to date first; an edit stored after that, before the decision's own
    transaction, must not be approved (and labelled clean, and sent to the CMS) under the old version's item."""
    from review import actions

    seed("c1", "I disagree with the article.")
    form = _card_form(mod_client, "/review/queue/pending", "c1", "approve")  # drawing the page refreshes the queue
    _edit(review_app, "c1", "EDITED: you utter idiot.")
    item = _rows(review_app, "review_items", comment_id="c1")[0]
    assert item["verdict_id"] == int(form["verdict_id"]), "the queue has not seen the edit yet"
    with db.connect(review_app.extensions["moderation"].engine) as conn:
        assert db.review_item(conn, "default", "c1")["text"] == "I disagree with the article.", (
            "an item's text is the text its verdict judged")
    with pytest.raises(actions.DecisionError, match="comment c1 changed since this page was loaded") as refused:
        actions.decide(review_app.extensions["moderation"].engine, {"id": item["id"], "verdict_id": item["verdict_id"]},
                       "approve", "mod", seen="")
    assert refused.value.status == 409
    assert _traces(review_app, "c1") == (0, 0, 0)


@pytest.mark.parametrize("change", [{"verdict_id": "999999"}, {"seen": "approve@2020-01-01T00:00:00"}])
def test_a_form_no_page_drew_is_refused_as_such_not_as_an_edit(review_app, mod_client, seed, change):
    seed("c1", "Fair point.")
    form = _card_form(mod_client, "/review/queue/pending", "c1", "approve")
    item_id = _rows(review_app, "review_items", comment_id="c1")[0]["id"]
    answer = mod_client.post(f"/review/items/{item_id}/decide", data={**form, "csrf_token": mod_client.csrf, **change},
                             headers={"Accept": "application/json"})
    assert answer.status_code == 409
    assert answer.get_json()["message"] == ("the form does not match comment c1 (a version or decision it does not "
                                            "have): reload the page and decide again")
    assert _rows(review_app, "review_items", comment_id="c1")[0]["decision"] is None


def test_a_bulk_decision_on_text_edited_since_the_page_was_drawn_is_refused(review_app, mod_client, seed):
    seed("c1", "Fair point.")
    box = re.search(r'name="item" value="([^"]+)"', mod_client.get("/review/queue/pending").get_data(as_text=True))[1]
    _edit(review_app, "c1", "EDITED: you utter idiot.")
    answer = mod_client.post("/review/bulk", headers={"Accept": "application/json"},
                             data={"csrf_token": mod_client.csrf, "decision": "approve", "item": [box]})
    assert answer.status_code == 422 and "comment c1 changed since this page was loaded" in answer.get_json()["message"]
    assert _rows(review_app, "review_items", comment_id="c1")[0]["decision"] is None


def test_a_comment_judged_again_with_the_same_text_keeps_the_moderator_s_decision(make_review_app, database_url, signer):
    review_app = make_review_app(database_url, CALLBACK_URL=CMS)
    mod_client, client = review_app.test_client(), review_app.test_client()
    mod_client.csrf = signer(mod_client, "mod")
    comment = {"id": "k1", "text": ATTACK, "article_id": "a1", "author_id": "u1"}
    assert signed_post(client, "/v1/comments", comment).get_json()["action"] == "hold"
    assert _decide(mod_client, _card_form(mod_client, "/review/queue/pending", "k1", "approve")).status_code == 200
    signed_post(client, "/v1/articles", {"id": "a1", "title": "Cycle lanes", "body": "The council approved lanes."})
    again = signed_post(client, "/v1/comments", comment).get_json()
    assert again["version"] == 2 and again["stance"] is not None, "judged again: its article can now be read"
    mod_client.get("/review/queue/approved")  # the queue picks up the new verdict
    (item,) = _rows(review_app, "review_items", comment_id="k1")
    assert (item["decision"], item["decided_by"], item["queue"]) == ("approve", "mod", "approved")
    assert item["verdict_id"] == _rows(review_app, "verdicts", version=2)[0]["id"]



def test_the_editors_outcome_keeps_a_decision_on_a_comment_judged_again_before_the_queue_syncs(
        make_review_app, database_url, signer):
    """The editors' pages and report read a moderator's decision before any queue page brings the new verdict in
    (an editors' report runs when no moderator is signed in): kept for the same text, dropped for an edit."""
    from webhook.editors import comments_frame

    review_app = make_review_app(database_url, CALLBACK_URL=CMS)
    mod_client, client = review_app.test_client(), review_app.test_client()
    mod_client.csrf = signer(mod_client, "mod")
    comment = {"id": "k1", "text": ATTACK, "article_id": "a1", "author_id": "u1"}
    signed_post(client, "/v1/comments", comment)
    form = _card_form(mod_client, "/review/queue/pending", "k1", "reject")
    assert _decide(mod_client, form, code="ABUSIVE").status_code == 200
    signed_post(client, "/v1/articles", {"id": "a1", "title": "Cycle lanes", "body": "The council approved lanes."})
    assert signed_post(client, "/v1/comments", comment).get_json()["version"] == 2  # no queue page opened since

    def outcome() -> str:
        with db.connect(review_app.extensions["moderation"].engine) as conn:
            return comments_frame(conn, "default", "a1")["outcome"].tolist()

    assert outcome() == ["reject"]
    signed_post(client, "/v1/comments", {**comment, "text": "I disagree with the article, politely."})  # an edit
    assert outcome() == ["approve"], "an edit is judged afresh: the decision was on other words"



# Authors held by their strikes ------------------------------------------------------------------------------
def _strike(app, author_id, strikes):
    with db.transaction(app.extensions["moderation"].engine) as conn:
        for _ in range(strikes):
            db.add_strike(conn, "default", author_id)


def _set_status(client, author_id, status):
    return client.post("/review/author/status", headers={"Accept": "application/json"}, data={
        "csrf_token": client.csrf, "site_id": "default", "author_id": author_id, "status": status, "confirmed": "1"})


# The example policy holds an author's comments from 3 strikes on and rejects them from 6 on.
@pytest.mark.parametrize(("strikes", "status", "cleared"), [
    (6, "active", 6), (3, "active", 3), (2, "active", 0), (6, "premod", 6), (5, "premod", 0), (6, "blocked", 0)])
def test_a_moderator_s_status_outranks_the_author_s_strikes(review_app, mod_client, strikes, status, cleared):
    _strike(review_app, "troll", strikes)
    answer = _set_status(mod_client, "troll", status)
    assert answer.status_code == 200
    assert answer.get_json()["message"].endswith(f" and cleared their {cleared} strikes." if cleared else "troll.")
    record = _rows(review_app, "authors", author_id="troll")[0]
    assert (record["status"], record["strikes"]) == (status, strikes - cleared)
    page = mod_client.get("/review/author?site_id=default&author_id=troll").get_data(as_text=True)
    assert f'class="status {status}">{status}<' in page, "under the policy, the author is what the moderator chose"
    (audit,) = _rows(review_app, "audit_log", event="review.author_status")
    assert audit["detail"] == {"status": status, "previous": "active", "strikes_cleared": cleared}
    (callback,) = _rows(review_app, "outbox")
    assert callback["payload"]["status"] == status


def test_a_strike_counted_while_an_author_is_restored_is_kept(make_review_app, database_url, signer, monkeypatch):
    app = make_review_app(database_url, CALLBACK_URL=CMS)
    client = app.test_client()
    client.csrf = signer(client, "mod")
    _strike(app, "troll", 6)
    write, others = db.set_author_status, []

    def with_a_strike_meanwhile(*args, **kwargs):
        # The service rejects another comment by the author after the strikes were read: it must wait for the
        # restoration to finish (a second is plenty), not slip in and be cleared with the others.
        others.append(threading.Thread(target=_strike, args=(app, "troll", 1)))
        others[0].start()
        others[0].join(timeout=1)
        return write(*args, **kwargs)

    monkeypatch.setattr(db, "set_author_status", with_a_strike_meanwhile)
    assert _set_status(client, "troll", "active").get_json()["message"].endswith(" and cleared their 6 strikes.")
    others[0].join()
    assert _rows(app, "authors", author_id="troll")[0]["strikes"] == 1


def test_an_author_blocked_by_strikes_can_be_restored_and_is_published_again(review_app, mod_client):
    _strike(review_app, "troll", 6)
    page = mod_client.get("/review/author?site_id=default&author_id=troll").get_data(as_text=True)
    assert 'class="status blocked">blocked<' in page
    buttons = re.findall(r'<button type="submit">([^<]+)</button>', page.split('class="author-record"')[1])
    assert buttons[:2] == ["Restore (clears 6 strikes)", "Pre-moderate (clears 6 strikes)"]
    assert _set_status(mod_client, "troll", "active").status_code == 200
    answer = signed_post(review_app.test_client(), "/v1/comments", {
        "id": "t1", "text": "Actually a fair point, I was wrong about the lanes.", "author_id": "troll"}).get_json()
    assert "repeat-offenders" not in {r["clause_id"] for r in answer["reasons"]}


# One strike per comment, whoever counts it -------------------------------------------------------------------
PROFANE = "You fucking moron, shut the fuck up you piece of shit."


def _strike_sequence(make_review_app, database_url, signer, steps):
    """Run ``steps`` (("send", comment id, text) from the CMS, or (decision, comment id) from the comment's
    page) for author u-seq; return the author's strikes after each."""
    app = make_review_app(database_url, CALLBACK_URL=CMS)
    mod, cms = app.test_client(), app.test_client()
    mod.csrf = signer(mod, "mod")
    strikes = []
    for step in steps:
        if step[0] == "send":
            signed_post(cms, "/v1/comments", {"id": step[1], "text": step[2], "author_id": "u-seq"})
        else:
            form = _card_form(mod, f"/review/comment?site_id=default&comment_id={step[1]}", step[1], step[0])
            assert _decide(mod, form, code="ABUSIVE").status_code == 200
        strikes.append((_rows(app, "authors", author_id="u-seq") or [{"strikes": 0}])[0]["strikes"])
    return strikes


def test_a_moderator_s_rejection_and_the_model_s_rejection_of_an_edit_are_one_strike(make_review_app, database_url,
                                                                                     signer):
    steps = [("send", "m1", ATTACK), ("reject", "m1"), ("send", "m1", PROFANE)]  # held, rejected; edit rejected
    assert _strike_sequence(make_review_app, database_url, signer, steps) == [0, 1, 1]


def test_approvals_take_back_only_the_comment_s_own_strike(make_review_app, database_url, signer):
    steps = [("send", "s0", PROFANE),  # another comment, rejected: its strike stays
             ("send", "m1", PROFANE), ("approve", "m1"), ("send", "m1", PROFANE + " Again."), ("approve", "m1")]
    assert _strike_sequence(make_review_app, database_url, signer, steps) == [1, 2, 1, 2, 1]


# Bulk rejections --------------------------------------------------------------------------------------------
def test_a_bulk_rejection_needs_a_reason_chosen(review_app, mod_client, seed):
    seed("c1", "You idiot.")
    page = mod_client.get("/review/queue/pending").get_data(as_text=True)
    bulk_reasons = re.search(r'<select name="code" aria-label="reason for bulk reject">(.*?)</select>', page, re.S)[1]
    assert re.findall(r"<option[^>]*>", bulk_reasons)[0] == '<option value="" selected>', "no reason preselected"
    box = re.search(r'name="item" value="([^"]+)"', page)[1]
    for code in ("", "  "):
        answer = mod_client.post("/review/bulk", headers={"Accept": "application/json"}, data={
            "csrf_token": mod_client.csrf, "decision": "reject", "code": code, "item": [box]})
        assert answer.status_code == 422
        assert answer.get_json()["message"] == "Choose a reason for rejecting the selected comments: nothing was rejected."
    assert _rows(review_app, "review_items", comment_id="c1")[0]["decision"] is None


# Allowed here, but still profanity ------------------------------------------------------------------------
def _exported(app, tmp_path):
    from training.decisions import export_decisions

    export_decisions(app.extensions["moderation"].engine, tmp_path / "out", check_public=False, data_dir=None)
    return [json.loads(line) for line in (tmp_path / "out" / "decisions.jsonl").read_text().splitlines()]


def test_an_approval_can_say_the_comment_still_has_a_label_the_site_allows(review_app, mod_client, seed, tmp_path):
    """The approve form offers the policy labels the comment was flagged for; ticked, the approval stores them as
    the comment's labels (the export keeps profanity, where a plain approval teaches that it has none), the card
    says so, and approving again without them is a change, not a repeat."""
    seed("c1", "Damn right, the bloody council wasted it.",
         scores={"profanity": 0.81, "personal_attack": 0.62, "incitement": 0.02})
    page = mod_client.get("/review/queue/pending").get_data(as_text=True)
    assert re.findall(r'name="allowed" value="(\w+)"', page) == ["profanity", "personal_attack"]
    form = _card_form(mod_client, "/review/queue/pending", "c1", "approve")
    answer = _decide(mod_client, form, allowed=["profanity"])
    assert answer.status_code == 200 and answer.get_json()["decided"].endswith("; still profanity, allowed here")
    assert _rows(review_app, "review_items", comment_id="c1")[0]["allowed"] == "profanity"
    stored = {r["label"]: r["value"] for r in _rows(review_app, "labels", comment_ref="c1")}
    assert stored == {"moderator_decision": 0.0, "profanity": 1.0, "personal_attack": 0.0, "incitement": 0.0}
    assert _rows(review_app, "audit_log", subject="c1")[-1]["detail"]["allowed"] == ["profanity"]
    [row] = _exported(review_app, tmp_path)
    assert (row["profanity"], row["toxicity"], row["personal_attack"], row["incitement"]) == (1.0, 1.0, 0.0, 0.0)

    page = mod_client.get("/review/comment?site_id=default&comment_id=c1").get_data(as_text=True)
    assert "; still profanity, allowed here</p>" in page
    assert re.search(r'name="allowed" value="profanity" checked', page)
    again = _card_form(mod_client, "/review/comment?site_id=default&comment_id=c1", "c1", "approve")
    assert _decide(mod_client, again, allowed=["profanity"]).status_code == 409  # the same decision: nothing changed
    assert _decide(mod_client, again).status_code == 200  # a plain approval now: no label stands
    assert _rows(review_app, "review_items", comment_id="c1")[0]["allowed"] is None
    [row] = _exported(review_app, tmp_path)
    assert (row["profanity"], row["toxicity"]) == (0.0, 0.0)


@pytest.mark.parametrize("decision,allowed,message", [
    ("approve", ["sarcasm"], "allowed: 'sarcasm' is not a policy label"),
    ("reject", ["profanity"], "allowed labels go with an approval"),
])
def test_allowed_labels_that_are_not_policy_labels_or_come_with_a_rejection_are_refused(review_app, mod_client, seed,
                                                                                         decision, allowed, message):
    seed("c1", "Damn right.", scores={"profanity": 0.81, "personal_attack": 0.1, "incitement": 0.02})
    form = _card_form(mod_client, "/review/queue/pending", "c1", decision)
    answer = _decide(mod_client, form, allowed=allowed, code="OFFENSIVE")
    assert answer.status_code == 422 and message in answer.get_json()["message"]
    assert _rows(review_app, "review_items", comment_id="c1")[0]["decision"] is None
    assert _rows(review_app, "labels", comment_ref="c1") == []


def test_changing_only_what_an_approval_allows_sends_no_second_callback_and_a_bulk_approval_keeps_it(
        review_app, mod_client, seed):
    """Approved, then approved again with profanity allowed: new labels and an audit line naming what was allowed
    before, but no second callback (the CMS's answer is the same). A bulk approval, which has no boxes, keeps what
    the approval allowed: approving again in bulk changes nothing and is refused."""
    seed("c1", "Damn right.", scores={"profanity": 0.81, "personal_attack": 0.1, "incitement": 0.02})
    assert _decide(mod_client, _card_form(mod_client, "/review/queue/pending", "c1", "approve")).status_code == 200
    again = _card_form(mod_client, "/review/comment?site_id=default&comment_id=c1", "c1", "approve")
    answer = _decide(mod_client, again, allowed=["profanity"])
    assert answer.status_code == 200 and answer.get_json()["allowed"] == ["profanity"]
    labels, audit, callbacks = _traces(review_app, "c1")
    assert (labels, audit, callbacks) == (8, 2, 1)
    assert _rows(review_app, "audit_log", subject="c1")[-1]["detail"]["allowed"] == ["profanity"]
    item = _rows(review_app, "review_items", comment_id="c1")[0]
    page = mod_client.get("/review/queue/approved").get_data(as_text=True)
    [box] = re.findall(r'name="item" value="([^"]+)"', page)
    bulk = mod_client.post("/review/bulk", headers={"Accept": "application/json"}, data={
        "csrf_token": mod_client.csrf, "decision": "approve", "item": [box]})
    assert bulk.status_code == 422 and "is already approved by mod" in bulk.get_json()["message"]
    assert _rows(review_app, "review_items", comment_id="c1")[0]["allowed"] == item["allowed"] == "profanity"
    assert _traces(review_app, "c1") == (8, 2, 1)
    rejected = _decide(mod_client, _card_form(mod_client, "/review/comment?site_id=default&comment_id=c1", "c1",
                                              "reject"), code="OFFENSIVE")
    assert rejected.get_json()["allowed"] == [] and _rows(review_app, "review_items", comment_id="c1")[0]["allowed"] is None


def test_only_a_label_the_comment_was_flagged_for_can_be_allowed(review_app, mod_client, seed):
    seed("c1", "Damn right.", scores={"profanity": 0.81, "personal_attack": 0.1, "incitement": 0.02})
    answer = _decide(mod_client, _card_form(mod_client, "/review/queue/pending", "c1", "approve"),
                     allowed=["profanity", "incitement"])
    assert answer.status_code == 422
    assert "comment c1 was not flagged for incitement: only a label it was flagged for can be allowed" in (
        answer.get_json()["message"])
    assert _rows(review_app, "review_items", comment_id="c1")[0]["decision"] is None
