"""The native /v1 API: verdicts, idempotency, edits, batches, threads, articles, authors, fallbacks."""

import json
import textwrap
import time

import pytest
import sqlalchemy as sa

from webhook import db, service
from webhook.service import without_quote
from webhook.signing import native_headers

from .webhook_helpers import ATTACK, CLEAN, ROOT, SECRETS, assert_error_shape, post_chunked, signed_get, signed_post

pytest_plugins = ["tests.webhook_fixtures"]

ARTICLE = {"id": "cycle-lanes", "title": "Council approves protected cycle lanes on Main Street",
           "body": "The council voted 7-2 on Tuesday to build protected cycle lanes on Main Street, removing "
                   "forty parking spaces. Supporters say the lanes will make cycling to school safe."}

# Thresholds low enough that the attack is surely rejected, so author rules can be tested on any model.
STRICT_POLICY = textwrap.dedent("""
    id = "strict"
    version = "1"
    [[clause]]
    id = "no-profanity"
    text = "No swearing."
    labels = ["profanity"]
    hold_at = 0.9
    reject_at = 0.95
    [[clause]]
    id = "no-attacks"
    text = "No personal attacks."
    labels = ["personal_attack"]
    hold_at = 0.05
    reject_at = 0.10
    [[clause]]
    id = "no-hate"
    text = "No hate."
    labels = ["incitement"]
    hold_at = 0.9
    reject_at = 0.95
    [authors]
    premod_after = 2
    block_after = 3
""")


def _rows(app, table: str) -> int:
    with db.connect(app.extensions["moderation"].engine) as conn:
        return db.count(conn, table)


def test_an_attack_is_held_or_rejected_citing_the_clause_with_evidence(client, model):
    response = signed_post(client, "/v1/comments", {"id": "c1", "text": ATTACK, "author_id": "u1"})
    assert response.status_code == 200
    verdict = response.get_json()
    assert verdict["action"] in ("hold", "reject")
    reason = next(r for r in verdict["reasons"] if r["label"] == "personal_attack")
    assert reason["clause_id"] == "no-personal-attacks" and "personal attacks" in reason["clause_text"]
    assert reason["score"] >= reason["threshold"] and reason["code"] == "ABUSIVE"
    assert reason["evidence"], "an attack must come with the words that drove it"
    for span in reason["evidence"]:
        assert ATTACK[span["begin"]:span["end"]] == span["text"]
    assert verdict["model_version"] == model.version
    assert verdict["policy_version"] == "example-news@2026-12-07.2"
    assert verdict["version"] == 1 and verdict["fallback"] is None and verdict["language"] == "en"


def test_a_clean_comment_is_approved_without_reasons(client):
    verdict = signed_post(client, "/v1/comments", {"id": "c2", "text": CLEAN}).get_json()
    assert verdict["action"] == "approve" and verdict["reasons"] == []
    assert set(verdict["scores"]) >= {"profanity", "personal_attack", "incitement", "toxicity", "severe_toxicity"}


def test_the_same_comment_sent_twice_gets_the_same_stored_verdict(any_db_client):
    first = signed_post(any_db_client, "/v1/comments", {"id": "c3", "text": ATTACK, "author_id": "u3"})
    second = signed_post(any_db_client, "/v1/comments", {"id": "c3", "text": ATTACK, "author_id": "u3"})
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json()
    assert _rows(any_db_client.application, "verdicts") == 1
    assert _rows(any_db_client.application, "comments") == 1


def test_an_edit_is_a_new_version_and_the_old_one_is_kept(any_db_client):
    signed_post(any_db_client, "/v1/comments", {"id": "c4", "text": ATTACK})
    edited = signed_post(any_db_client, "/v1/comments", {"id": "c4", "text": CLEAN}).get_json()
    assert edited["version"] == 2 and edited["action"] == "approve"
    latest = signed_get(any_db_client, "/v1/verdicts/c4").get_json()
    assert latest == edited
    first = signed_get(any_db_client, "/v1/verdicts/c4", query_string={"version": 1}).get_json()
    assert first["version"] == 1 and first["action"] in ("hold", "reject")
    assert _rows(any_db_client.application, "verdicts") == 2 and _rows(any_db_client.application, "comments") == 1


def _ids(verdict: dict) -> dict:
    return {name: verdict[name] for name in ("article_id", "author_id", "parent_id")}


def test_an_edit_without_its_ids_keeps_the_stored_ones_for_every_version(any_db_client):
    """A CMS often sends only the new text of an edit: the article, parent and author stay as stored."""
    ids = {"article_id": "a1", "author_id": "u1", "parent_id": "p0"}
    signed_post(any_db_client, "/v1/comments", {"id": "k1", "text": ATTACK, **ids})
    edited = signed_post(any_db_client, "/v1/comments", {"id": "k1", "text": CLEAN}).get_json()
    assert edited["version"] == 2 and _ids(edited) == ids
    for version in (1, 2):
        stored = signed_get(any_db_client, "/v1/verdicts/k1", query_string={"version": version}).get_json()
        assert stored["version"] == version and _ids(stored) == ids
    moved = signed_post(any_db_client, "/v1/comments", {"id": "k1", "text": "Third thoughts.", "article_id": "a2"})
    assert _ids(moved.get_json()) == {**ids, "article_id": "a2"}, "a value that is sent replaces the stored one"


def test_an_edit_without_its_author_still_counts_against_the_author(make_app, tmp_path, database_url):
    policy = tmp_path / "strict.toml"
    policy.write_text(STRICT_POLICY)
    client = make_app(database_url, POLICY=str(policy)).test_client()
    signed_post(client, "/v1/comments", {"id": "e1", "text": "Fine, then.", "author_id": "troll"})
    for text in (ATTACK, ATTACK + " Really."):
        rejected = signed_post(client, "/v1/comments", {"id": "e1", "text": text}).get_json()
        assert rejected["action"] == "reject" and rejected["author_id"] == "troll"
    signed_post(client, "/v1/comments", {"id": "e2", "text": ATTACK, "author_id": "troll"})
    held = signed_post(client, "/v1/comments", {"id": "e3", "text": "Hello.", "author_id": "troll"}).get_json()
    assert held["reasons"] and held["reasons"][-1]["clause_id"] == "repeat-offenders", \
        "the edit's rejection struck the stored author: two strikes, so pre-moderation"


def test_a_comment_edited_back_and_forth_strikes_its_author_once(make_app, tmp_path, database_url):
    policy = tmp_path / "strict.toml"
    policy.write_text(STRICT_POLICY)
    client = make_app(database_url, POLICY=str(policy)).test_client()
    actions = [signed_post(client, "/v1/comments", {"id": "f1", "text": text, "author_id": "flip"}).get_json()["action"]
               for text in (ATTACK, CLEAN, ATTACK + " Again.")]
    assert actions[0] == "reject" and actions[2] == "reject" and actions[1] != "reject"
    later = signed_post(client, "/v1/comments", {"id": "f2", "text": CLEAN, "author_id": "flip"}).get_json()
    assert all(r["clause_id"] != "repeat-offenders" for r in later["reasons"]), \
        "one comment, one strike: the author is not pre-moderated (premod_after = 2)"


def test_a_resend_with_new_ids_is_judged_again_with_them(client):
    first = signed_post(client, "/v1/comments", {"id": "r1", "text": CLEAN, "article_id": "a-9"}).get_json()
    same = signed_post(client, "/v1/comments", {"id": "r1", "text": CLEAN}).get_json()
    assert same["version"] == first["version"] == 1, "a plain re-send gets the stored verdict"
    moved = signed_post(client, "/v1/comments", {"id": "r1", "text": CLEAN, "article_id": "a-10",
                                                 "author_id": "u-new", "parent_id": "p-1"}).get_json()
    assert moved["version"] == 2
    assert (moved["article_id"], moved["author_id"], moved["parent_id"]) == ("a-10", "u-new", "p-1")


def test_a_comment_judged_before_its_article_gets_a_stance_once_the_article_is_known(client):
    early = signed_post(client, "/v1/comments", {"id": "st1", "text": "Great decision, the lanes will save lives.",
                                                 "article_id": ARTICLE["id"]}).get_json()
    assert early["stance"] is None
    signed_post(client, "/v1/articles", ARTICLE)
    again = signed_post(client, "/v1/comments", {"id": "st1", "text": "Great decision, the lanes will save lives.",
                                                 "article_id": ARTICLE["id"]}).get_json()
    assert again["version"] == 2 and again["stance"] in ("favor", "against", "neutral", "unrelated")
    third = signed_post(client, "/v1/comments", {"id": "st1", "text": "Great decision, the lanes will save lives."})
    assert third.get_json()["version"] == 2, "once it has a stance, a re-send gets the stored verdict"


def test_a_native_re_send_after_its_author_was_blocked_gets_the_stored_verdict(client, app):
    first = signed_post(client, "/v1/comments", {"id": "b1", "text": CLEAN, "author_id": "blk"}).get_json()
    with db.transaction(app.extensions["moderation"].engine) as conn:
        for _ in range(6):
            db.add_strike(conn, "default", "blk")
    again = signed_post(client, "/v1/comments", {"id": "b1", "text": CLEAN, "author_id": "blk"}).get_json()
    assert again["version"] == first["version"] == 1 and again["action"] == first["action"], \
        "a comment id names one comment: re-sending it is a retry, not a new comment"
    assert signed_post(client, "/v1/comments", {"id": "b2", "text": CLEAN, "author_id": "blk"}).get_json()["action"] == "reject"


def test_judging_unchanged_text_again_never_undoes_an_edit_stored_meanwhile(app, client):
    # Worker A reads v1 and judges its text again (say, for a stance); worker B stores an edit as v2 first.
    signed_post(client, "/v1/comments", {"id": "e9", "text": CLEAN, "article_id": "a-e9"})
    with app.app_context(), db.connect(app.extensions["moderation"].engine) as conn:
        read = db.latest_verdicts(conn, "default", ["e9"])
    signed_post(client, "/v1/comments", {"id": "e9", "text": "An edited comment, second thoughts."})
    with app.app_context():
        svc = service.service()
        comment = service.CommentIn("e9", CLEAN, "a-e9")
        judged = service.judge(svc, svc.policy, "default", [comment], {}, {}, {})
        stored = service.record(svc, "default", judged, "api", heads={"e9": read["e9"]})
    assert stored["e9"]["version"] == 2 and stored["e9"]["text"] != CLEAN
    latest = signed_get(client, "/v1/verdicts/e9").get_json()
    assert latest["version"] == 2


def test_a_verdict_is_committed_before_the_answer_is_sent(app, client):
    signed_post(client, "/v1/comments", {"id": "c5", "text": ATTACK})
    # A separate engine sees only what was committed.
    other = sa.create_engine(app.config["DATABASE_URL"])
    with other.connect() as conn:
        row = db.find_verdict(conn, "default", "c5")
        audit = conn.execute(sa.select(db.audit_log).where(db.audit_log.c.subject == "c5")).one()
    other.dispose()
    assert row["action"] in ("hold", "reject") and row["model_version"] and row["policy_version"]
    assert audit.event == "verdict" and audit.detail["action"] == row["action"]


def test_a_batch_answers_in_order(client):
    comments = [{"id": "b1", "text": CLEAN}, {"id": "b2", "text": ATTACK}, {"id": "b3", "text": ""}]
    response = signed_post(client, "/v1/comments/batch", {"comments": comments})
    verdicts = response.get_json()["verdicts"]
    assert [v["comment_id"] for v in verdicts] == ["b1", "b2", "b3"]
    assert verdicts[0]["action"] == "approve" and verdicts[1]["action"] in ("hold", "reject")
    assert verdicts[2]["fallback"] == "empty" and verdicts[2]["action"] == "reject"  # the example policy's rule


def test_a_batch_over_the_configured_size_is_refused(make_app):
    client = make_app(MAX_BATCH=2).test_client()
    comments = [{"id": f"b{i}", "text": CLEAN} for i in range(3)]
    assert_error_shape(signed_post(client, "/v1/comments/batch", {"comments": comments}), 422, "comments")


def test_a_batch_may_not_repeat_a_comment(client):
    comments = [{"id": "b1", "text": CLEAN}, {"id": "b1", "text": ATTACK}]
    assert_error_shape(signed_post(client, "/v1/comments/batch", {"comments": comments}), 422, "comments[1].id")


def test_articles_give_comments_a_stance(client):
    response = signed_post(client, "/v1/articles", ARTICLE)
    assert response.status_code == 200 and response.get_json()["id"] == ARTICLE["id"]
    with_article = signed_post(client, "/v1/comments", {
        "id": "s1", "text": "Great decision, my kids can finally cycle to school safely.",
        "article_id": ARTICLE["id"]}).get_json()
    without = signed_post(client, "/v1/comments", {"id": "s2", "text": "Great decision."}).get_json()
    assert with_article["stance"] in ("favor", "against", "neutral", "unrelated")
    assert abs(sum(with_article["stance_scores"].values()) - 1) < 0.01
    assert without["stance"] is None and without["stance_scores"] is None


def test_an_updated_article_is_registered_again_in_the_worker(app, client, model):
    signed_post(client, "/v1/articles", ARTICLE)
    signed_post(client, "/v1/comments", {"id": "u1", "text": "Good.", "article_id": ARTICLE["id"]})
    keys_before = set(model._articles)
    signed_post(client, "/v1/articles", {**ARTICLE, "body": "The council rejected the cycle lanes."})
    signed_post(client, "/v1/comments", {"id": "u2", "text": "Good.", "article_id": ARTICLE["id"]})
    assert len(set(model._articles) - keys_before) == 1


def test_an_article_sent_without_its_title_or_body_keeps_the_stored_ones(app, client):
    signed_post(client, "/v1/articles", ARTICLE)
    # A thread that names the article with a new title only, then a re-registration without a title.
    signed_post(client, "/v1/threads", {"article": {"id": ARTICLE["id"], "title": "Cycle lanes approved"},
                                        "comments": [{"id": "k1", "text": "Good."}]})
    answer = signed_post(client, "/v1/articles", {"id": ARTICLE["id"], "body": ARTICLE["body"] + " Work starts in May."})
    assert answer.get_json()["title"] == "Cycle lanes approved"
    with db.connect(app.extensions["moderation"].engine) as conn:
        stored = db.articles_by_id(conn, "default", [ARTICLE["id"]])[ARTICLE["id"]]
    assert (stored["title"], stored["body"]) == ("Cycle lanes approved", ARTICLE["body"] + " Work starts in May.")
    # A headline alone, to /v1/articles, keeps the body.
    answer = signed_post(client, "/v1/articles", {"id": ARTICLE["id"], "title": "Cycle lanes: work starts in May"})
    assert answer.status_code == 200 and answer.get_json()["title"] == "Cycle lanes: work starts in May"
    with db.connect(app.extensions["moderation"].engine) as conn:
        stored = db.articles_by_id(conn, "default", [ARTICLE["id"]])[ARTICLE["id"]]
    assert stored["body"] == ARTICLE["body"] + " Work starts in May."


def test_an_article_with_neither_title_nor_body_is_refused_naming_body(client):
    error = assert_error_shape(signed_post(client, "/v1/articles", {"id": "a-2", "url": "https://x.example/2"}), 422,
                               "body")
    assert error["message"] == "body: is required unless title is sent"


@pytest.mark.parametrize("path", ["/v1/articles", "/v1/threads"])
@pytest.mark.parametrize("stored,blank", [
    (ARTICLE, {"title": " ", "body": ""}),
    ({"id": ARTICLE["id"], "title": ARTICLE["title"]}, {"title": ""}),  # a title alone, blanked
    ({"id": ARTICLE["id"], "body": ARTICLE["body"]}, {"body": "  "}),
    (None, {"title": " "}),  # a new article with a blank title alone
])
def test_an_article_left_without_title_and_body_is_refused_and_the_stored_text_kept(app, client, path, stored, blank):
    if stored is not None:
        signed_post(client, "/v1/articles", stored)
    blank = {"id": ARTICLE["id"], **blank}
    payload = blank if path == "/v1/articles" else {"article": blank, "comments": [{"id": "k1", "text": "Good."}]}
    error = assert_error_shape(signed_post(client, path, payload), 422, "body")
    assert "needs a title or a body" in error["message"]
    with db.connect(app.extensions["moderation"].engine) as conn:
        kept = db.articles_by_id(conn, "default", [ARTICLE["id"]]).get(ARTICLE["id"])
    if stored is None:
        assert kept is None, "nothing stored"
    else:
        assert (kept["title"], kept["body"]) == (stored.get("title", ""), stored.get("body", ""))


def test_a_thread_is_judged_with_its_article_and_replies_in_context(client):
    quote = f'He wrote "{ATTACK}" and I think that is no way to talk to anyone here.'
    thread = {"article": ARTICLE, "comments": [
        {"id": "t1", "text": ATTACK, "author_id": "a"},
        {"id": "t2", "text": quote, "parent_id": "t1", "author_id": "b"},
        {"id": "t3", "text": "The lanes are a good idea.", "parent_id": None},
    ]}
    verdicts = signed_post(client, "/v1/threads", thread).get_json()["verdicts"]
    assert [v["comment_id"] for v in verdicts] == ["t1", "t2", "t3"]
    assert verdicts[1]["parent_id"] == "t1" and verdicts[1]["article_id"] == ARTICLE["id"]
    assert verdicts[0]["action"] in ("hold", "reject")
    assert verdicts[1]["action"] == "approve", "quoting an attack to answer it is not an attack"
    assert all(v["stance"] is not None for v in verdicts)


def test_a_thread_s_article_url_is_stored_when_it_comes_alone(app, client):
    """Sent with its id and URL only, the article's URL was dropped; stored text stays as it was."""
    [verdict] = signed_post(client, "/v1/threads", {"article": {"id": "u1", "url": "https://news.example/u1"},
                                                    "comments": [{"id": "u1-c", "text": "Fair point."}]}
                            ).get_json()["verdicts"]
    assert verdict["stance"] is None, "no text known: no stance"
    signed_post(client, "/v1/threads", {"article": ARTICLE, "comments": [{"id": "u2-c", "text": "Fair point."}]})
    signed_post(client, "/v1/threads", {"article": {"id": ARTICLE["id"], "url": "https://news.example/lanes"},
                                        "comments": [{"id": "u3-c", "text": "Fair point."}]})
    with db.connect(app.extensions["moderation"].engine) as conn:
        stored = db.articles_by_id(conn, "default", ["u1", ARTICLE["id"]])
    assert stored["u1"]["url"] == "https://news.example/u1" and stored["u1"]["body"] == ""
    assert stored[ARTICLE["id"]]["url"] == "https://news.example/lanes" and stored[ARTICLE["id"]]["body"] == ARTICLE["body"]


def test_a_reply_is_read_without_what_it_quotes():
    parent = "You are all idiots and should be ashamed."
    reply = f"Quoting '{parent}' is pointless."
    blanked = without_quote(reply, parent)
    assert len(blanked) == len(reply) and "idiots" not in blanked and blanked.startswith("Quoting '")
    assert without_quote("short", parent) == "short"
    assert without_quote(parent, parent) == parent  # all quotation: judged as written
    two = "First sentence of the parent here. Second one is rather rude, you fool."
    partial = "I agree with: Second one is rather rude, you fool. But not the rest."
    assert "fool" not in without_quote(partial, two) and "I agree with:" in without_quote(partial, two)


def test_quote_detection_stays_fast_on_hostile_input():
    started = time.perf_counter()
    without_quote("0" * 20000, "0" * 20000)
    without_quote("ab" * 10000, ("ab" * 30 + ". ") * 300)
    without_quote("a" * 19999 + "b", "a" * 5000 + "c")
    assert time.perf_counter() - started < 1.0


def test_author_strikes_lead_to_premoderation_then_a_block(make_app, tmp_path, database_url):
    policy = tmp_path / "strict.toml"
    policy.write_text(STRICT_POLICY)
    client = make_app(database_url, POLICY=str(policy)).test_client()
    for i in range(2):
        assert signed_post(client, "/v1/comments", {"id": f"x{i}", "text": ATTACK, "author_id": "troll"}
                           ).get_json()["action"] == "reject"
    signed_post(client, "/v1/comments", {"id": "x1", "text": ATTACK, "author_id": "troll"})  # a re-send: no strike
    held = signed_post(client, "/v1/comments", {"id": "x2", "text": "Fine, then.", "author_id": "troll"}).get_json()
    assert {"clause_id": "repeat-offenders", "action": "hold"}.items() <= held["reasons"][-1].items()
    signed_post(client, "/v1/comments", {"id": "x3", "text": ATTACK, "author_id": "troll"})
    blocked = signed_post(client, "/v1/comments", {"id": "x4", "text": "Hello.", "author_id": "troll"}).get_json()
    assert blocked["action"] == "reject"
    assert {"clause_id": "repeat-offenders", "action": "reject"}.items() <= blocked["reasons"][-1].items()
    other = signed_post(client, "/v1/comments", {"id": "x5", "text": "Hello.", "author_id": "reader"}).get_json()
    assert all(r["clause_id"] != "repeat-offenders" for r in other["reasons"])


def test_a_batch_counts_the_strikes_its_earlier_comments_earn(make_app, tmp_path, database_url):
    """Comments sent together are decided in order: an author one strike short of pre-moderation who sends
    an insult and then a friendly comment has the second held, as it would be sent one at a time."""
    policy = tmp_path / "strict.toml"
    policy.write_text(STRICT_POLICY)
    client = make_app(database_url, POLICY=str(policy)).test_client()
    assert signed_post(client, "/v1/comments", {"id": "b0", "text": ATTACK, "author_id": "troll"}
                       ).get_json()["action"] == "reject"
    batch = [{"id": "b1", "text": ATTACK, "author_id": "troll"}, {"id": "b2", "text": "Fine, then.", "author_id": "troll"},
             {"id": "b3", "text": "Fine, then.", "author_id": "reader"}]
    first, second, other = signed_post(client, "/v1/comments/batch", {"comments": batch}).get_json()["verdicts"]
    assert first["action"] == "reject"
    assert {"clause_id": "repeat-offenders", "action": "hold"}.items() <= second["reasons"][-1].items()
    assert all(r["clause_id"] != "repeat-offenders" for r in other["reasons"]), "only the author's own strikes count"


def test_a_batch_edit_rejected_again_adds_no_strike_for_the_comments_after_it(make_app, tmp_path, database_url):
    """A comment counts at most one strike, whatever its verdicts since: rejected, edited into something
    approved (still one strike), then rejected again in a batch, it adds none for the comments after it."""
    policy = tmp_path / "strict.toml"
    policy.write_text(STRICT_POLICY)
    client = make_app(database_url, POLICY=str(policy)).test_client()
    for text, action in ((ATTACK, "reject"), (CLEAN, "approve")):
        assert signed_post(client, "/v1/comments", {"id": "r1", "text": text, "author_id": "flip"}
                           ).get_json()["action"] == action
    batch = [{"id": "r1", "text": ATTACK + " Again.", "author_id": "flip"}, {"id": "r2", "text": CLEAN, "author_id": "flip"}]
    edited, later = signed_post(client, "/v1/comments/batch", {"comments": batch}).get_json()["verdicts"]
    assert edited["action"] == "reject" and edited["version"] == 3
    assert all(r["clause_id"] != "repeat-offenders" for r in later["reasons"]), \
        "one comment, one strike: the author stays at one (premod_after = 2)"


def test_a_batch_edit_of_a_rejection_taken_back_strikes_again_for_the_comments_after_it(make_app, tmp_path,
                                                                                        database_url):
    """A rejection a moderator took back counts no strike; the comment edited into an attack and rejected
    again in a batch strikes its author once more, and the batch's later comments see it."""
    policy = tmp_path / "strict.toml"
    policy.write_text(STRICT_POLICY)
    app = make_app(database_url, POLICY=str(policy))
    client = app.test_client()
    for cid in ("t0", "t1"):
        assert signed_post(client, "/v1/comments", {"id": cid, "text": ATTACK, "author_id": "taken"}
                           ).get_json()["action"] == "reject"
    with db.transaction(app.extensions["moderation"].engine) as conn:  # a moderator approves t1: one strike left
        pk = conn.execute(sa.select(db.comments.c.id).where(db.comments.c.comment_id == "t1")).scalar_one()
        assert db.set_struck(conn, "default", "taken", pk, False)
    batch = [{"id": "t1", "text": ATTACK + " And again.", "author_id": "taken"},
             {"id": "t2", "text": CLEAN, "author_id": "taken"}]
    edited, later = signed_post(client, "/v1/comments/batch", {"comments": batch}).get_json()["verdicts"]
    assert edited["action"] == "reject"
    assert {"clause_id": "repeat-offenders", "action": "hold"}.items() <= later["reasons"][-1].items(), \
        "the edit struck again: two strikes, so pre-moderation"


def test_each_site_gets_its_own_policy(make_app, tmp_path):
    policy = tmp_path / "strict.toml"
    policy.write_text(STRICT_POLICY)
    client = make_app(SITE_POLICIES=f"strict-site={policy}").test_client()
    mild = "Frankly that is a silly argument from you."
    strict = signed_post(client, "/v1/comments", {"id": "m", "text": mild, "site_id": "strict-site"}).get_json()
    default = signed_post(client, "/v1/comments", {"id": "m", "text": mild}).get_json()
    assert strict["policy_version"] == "strict@1" and default["policy_version"] == "example-news@2026-12-07.2"
    assert strict["site_id"] == "strict-site" and default["site_id"] == "default"


@pytest.mark.parametrize("text,kind,action", [
    ("", "empty", "reject"),
    ("   \n ", "empty", "reject"),
    ("Der Stadtrat hat gestern beschlossen, neue Radwege in der Innenstadt zu bauen.", "non_english", "hold"),
])
def test_unscorable_comments_follow_the_policy(client, text, kind, action):
    verdict = signed_post(client, "/v1/comments", {"id": "u", "text": text}).get_json()
    assert verdict["fallback"] == kind and verdict["action"] == action
    assert verdict["reasons"][0]["clause_id"] == "moderator-review"


@pytest.mark.parametrize("text,action,language", [("\U0001f44d +1", "approve", "und"),
                                                  ("\U0001f595", "reject", "en")])  # read as the word it stands for
def test_comments_without_words_are_judged_by_their_scores_under_the_example_policy(client, text, action, language):
    verdict = signed_post(client, "/v1/comments", {"id": "e", "text": text}).get_json()
    assert verdict["action"] == action and verdict["fallback"] is None and verdict["language"] == language


@pytest.mark.parametrize("text", ["\U0001f44d\U0001f44d", "+1"])
def test_a_site_can_send_comments_without_words_to_a_moderator(make_app, tmp_path, text):
    policy = tmp_path / "held.toml"
    policy.write_text((ROOT / "data" / "policy.toml").read_text().replace('no_words = "score"', 'no_words = "hold"'))
    client = make_app(POLICY=str(policy)).test_client()
    verdict = signed_post(client, "/v1/comments", {"id": "e", "text": text}).get_json()
    assert verdict["action"] == "hold" and verdict["fallback"] == "no_words"
    assert verdict["reasons"][0]["clause_id"] == "moderator-review"


def test_a_scoring_failure_gets_the_fallback_not_a_500(client, model, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the model fell over")

    monkeypatch.setattr(model, "score_batch", broken)
    response = signed_post(client, "/v1/comments", {"id": "f", "text": ATTACK})
    assert response.status_code == 200
    verdict = response.get_json()
    assert verdict["action"] == "hold" and verdict["fallback"] == "error" and verdict["scores"] is None


def test_a_blocked_author_s_comment_is_rejected_even_when_it_cannot_be_scored(app, client, model, monkeypatch):
    """The author rules apply to the fallback verdict: a scoring failure (or a comment too long to score) by a
    blocked author is rejected, citing the author rule, not held (or approved under `error = "approve"`)."""
    with db.transaction(app.extensions["moderation"].engine) as conn:
        db.set_author_status(conn, "default", "troll", "blocked")

    def broken(*args, **kwargs):
        raise RuntimeError("the model fell over")

    monkeypatch.setattr(model, "score_batch", broken)
    verdict = signed_post(client, "/v1/comments", {"id": "b1", "text": CLEAN, "author_id": "troll"}).get_json()
    assert verdict["action"] == "reject" and verdict["fallback"] == "error"
    assert [(r["clause_id"], r["action"]) for r in verdict["reasons"]] == [("moderator-review", "hold"),
                                                                           ("repeat-offenders", "reject")]
    other = signed_post(client, "/v1/comments", {"id": "b2", "text": CLEAN, "author_id": "reader"}).get_json()
    assert other["action"] == "hold" and len(other["reasons"]) == 1


def test_a_database_that_does_not_answer_gets_503_not_500(app, client, tmp_path):
    app.extensions["moderation"].engine = db.make_engine(f"sqlite:///{tmp_path}/missing/dir/x.sqlite")
    assert_error_shape(signed_post(client, "/v1/comments", {"id": "d", "text": CLEAN}), 503)
    assert_error_shape(signed_get(client, "/v1/verdicts/d"), 503)


def test_writes_that_keep_colliding_get_503_not_500(client, monkeypatch):
    tries = []

    def collide(*args, **kwargs):
        tries.append(1)
        raise sa.exc.IntegrityError("INSERT INTO verdicts ...", {}, Exception("unique constraint"))

    monkeypatch.setattr(service, "_record_one", collide)
    error = assert_error_shape(signed_post(client, "/v1/comments", {"id": "busy", "text": CLEAN}), 503)
    assert "same comments at the same time" in error["message"] and len(tries) == 3


def test_reading_a_verdict_that_was_never_stored_is_404(client):
    error = assert_error_shape(signed_get(client, "/v1/verdicts/nope"), 404, "comment_id")
    assert "nope" in error["message"]


_LONG = "x" * 20001


@pytest.mark.parametrize("body,status,field", [
    (b'{"id": "c", "text": ', 400, None),
    (b"\xff\xfe not json", 400, None),
    (b'{"id": "c", "text": NaN}', 400, None),
    (b'{"id": "a", "text": "hi", "id": "b"}', 400, None),
    (b"[1, 2]", 422, "(body)"),
    (b'{"id": "c"}', 422, "text"),
    (b'{"text": "hi"}', 422, "id"),
    (b'{"id": "", "text": "hi"}', 422, "id"),
    (b'{"id": "c", "text": 42}', 422, "text"),
    (b'{"id": "c", "text": "hi", "txt": "typo"}', 422, "txt"),
    (b'{"id": "c", "text": "hi", "site_id": null}', 422, "site_id"),
    (f'{{"id": "c", "text": "{_LONG}"}}'.encode(), 422, "text"),
])
def test_bad_comment_bodies_get_a_4xx_naming_the_field(client, body, status, field):
    assert_error_shape(signed_post(client, "/v1/comments", body), status, field)


def test_a_key_given_twice_is_refused_by_name_not_read_as_its_last_value(client):
    """Another JSON parser (the CMS's, a proxy's) may keep the first value: the comment stored would not be the
    one the sender meant."""
    error = assert_error_shape(signed_post(client, "/v1/comments", b'{"id": "a", "text": "hi", "id": "b"}'), 400)
    assert "'id' appears twice" in error["message"]
    assert_error_shape(signed_get(client, "/v1/verdicts/b"), 404)


@pytest.mark.parametrize("path,body,field", [
    ("/v1/comments", {"id": "a\u0000", "text": "hi"}, "id"),
    ("/v1/comments", {"id": "a\ud800", "text": "hi"}, "id"),
    ("/v1/comments", {"id": "a", "text": "hi", "author_id": "\udfffu"}, "author_id"),
    ("/v1/comments", {"id": "a", "text": "hi", "article_id": "\u0000"}, "article_id"),
    ("/v1/comments", {"id": "a", "text": "hi", "parent_id": "p\u0000"}, "parent_id"),
    ("/v1/comments", {"id": "a", "text": "hi", "site_id": "s\u0000"}, "site_id"),
    ("/v1/comments/batch", {"comments": [{"id": "a", "text": "x"}, {"id": "a\u0000", "text": "x"}]}, "comments[1].id"),
    ("/v1/threads", {"article": {"id": "\ud83d"}, "comments": [{"id": "a", "text": "x"}]}, "article.id"),
    ("/v1/articles", {"id": "a\u0000", "body": "b"}, "id"),
])
def test_ids_with_nul_or_unpaired_surrogates_are_refused_not_rewritten(client, path, body, field):
    """Scrubbing "a\\u0000" to "a\\ufffd" would store, and answer for, an id the client never sent."""
    error = assert_error_shape(signed_post(client, path, json.dumps(body).encode()), 422, field)
    assert "NUL" in error["message"] and "surrogate" in error["message"]
    assert _rows(client.application, "comments") == 0


def test_text_with_nul_is_still_scrubbed_and_ids_with_paired_surrogates_are_fine(client):
    answer = signed_post(client, "/v1/comments", {"id": "\U0001F600", "text": "hi\u0000 there \ud800"})
    assert answer.status_code == 200 and answer.get_json()["comment_id"] == "\U0001F600"
    with db.connect(client.application.extensions["moderation"].engine) as conn:
        stored = db.find_verdict(conn, "default", "\U0001F600")
        texts = db.comment_texts(conn, "default", ["\U0001F600"])
    assert stored["text"] == texts["\U0001F600"] == "hi\ufffd there \ufffd"


def test_reading_a_verdict_for_an_id_with_nul_is_422(client):
    assert_error_shape(signed_get(client, "/v1/verdicts/a%00"), 422, "comment_id")
    assert_error_shape(signed_get(client, "/v1/verdicts/a", query_string={"site_id": "s\u0000"}), 422, "site_id")


@pytest.mark.parametrize("path,body,field", [
    ("/v1/comments/batch", {"comments": []}, "comments"),
    ("/v1/comments/batch", {"comments": [{"id": "a"}]}, "comments[0].text"),
    ("/v1/threads", {"comments": [{"id": "a", "text": "x"}]}, "article"),
    ("/v1/threads", {"article": {"id": "a"}, "comments": [{"id": "a", "text": "x", "article_id": "z"}]},
     "comments[0].article_id"),
    ("/v1/articles", {"id": "a"}, "body"),
    ("/v1/articles", {"id": "a", "body": 3}, "body"),
])
def test_bad_bodies_elsewhere_name_the_field(client, path, body, field):
    assert_error_shape(signed_post(client, path, body), 422, field)


def test_wrong_content_type_is_415(client):
    response = signed_post(client, "/v1/comments", b'{"id": "c", "text": "hi"}',
                           headers={"Content-Type": "text/plain"})
    assert_error_shape(response, 415, "Content-Type")


def test_a_body_over_the_limit_is_413(make_app):
    client = make_app(MAX_BODY_BYTES=1000).test_client()
    body = {"id": "c", "text": "x" * 2000}
    assert_error_shape(signed_post(client, "/v1/comments", body), 413)


@pytest.mark.parametrize("extra,status", [(1, 413), (1_000_000, 413), (0, 200), (-1, 200)])
def test_a_chunked_body_over_the_limit_is_413_not_cut_at_the_limit(make_app, extra, status):
    """A chunked body has no Content-Length for werkzeug to check; read up to the limit and no further,
    it used to fail as "signature does not match". One exactly at the limit is fine."""
    client = make_app(MAX_BODY_BYTES=1000).test_client()
    body = json.dumps({"id": "c", "text": "x"}).encode()
    body = body.replace(b'"x"', b'"' + b"x" * (1000 + extra - len(body) + 1) + b'"')
    assert len(body) == 1000 + extra
    response = post_chunked(client, "/v1/comments", body, native_headers(SECRETS[0], body))
    if status == 413:
        assert "MODERATION_MAX_BODY_BYTES" in assert_error_shape(response, 413)["message"]
    else:
        assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("method,path,status", [
    ("get", "/v1/nothing-here", 404),
    ("get", "/v1/comments", 405),
    ("delete", "/coral/moderate", 405),
])
def test_unknown_routes_and_methods_use_the_error_shape(client, method, path, status):
    assert_error_shape(getattr(client, method)(path), status)


def test_a_bad_version_number_is_422(client):
    assert_error_shape(signed_get(client, "/v1/verdicts/c", query_string={"version": "x"}), 422, "version")
