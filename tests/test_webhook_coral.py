"""Coral Talk: captured external-moderation requests byte for byte, the answer rules, the webhooks."""

import json
import statistics
import time

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator

from webhook import db
from webhook.coral import answer, comment_key
from webhook.openapi import CORAL_REJECTION_CODES, document
from webhook.signing import hmac_hex

from .webhook_helpers import CORAL_SECRETS, assert_error_shape, coral_fixture

pytest_plugins = ["tests.webhook_fixtures"]

FIXTURES = ("new-reply-attack", "edit-clean")
_SCHEMA = document(100)
CORAL_ANSWER = Draft202012Validator(_SCHEMA["components"]["schemas"]["CoralAnswer"])


def post_coral(client, body: bytes, signature: str, path: str = "/coral/moderate", **headers):
    return client.post(path, data=body, headers={"Content-Type": "application/json", "X-Coral-Signature": signature,
                                                 "User-Agent": "Coral Moderation/9.0.0", **headers})


def sign(body: bytes, secret: str = CORAL_SECRETS[0]) -> str:
    return f"sha256={hmac_hex(secret, body)}"


@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize("secret", CORAL_SECRETS)
def test_a_captured_request_is_accepted_with_either_secret_alone(make_app, name, secret):
    body, signature = coral_fixture(name)
    client = make_app(CORAL_SECRETS=secret).test_client()
    assert post_coral(client, body, signature).status_code in (200, 204)


@pytest.mark.parametrize("name", FIXTURES)
def test_a_captured_request_is_refused_by_a_server_with_neither_secret(make_app, name):
    body, signature = coral_fixture(name)
    client = make_app(CORAL_SECRETS="some-other-secret").test_client()
    assert_error_shape(post_coral(client, body, signature), 401, "X-Coral-Signature")


@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize("where", [0, 40, -1])
def test_one_changed_byte_breaks_every_signature(client, name, where):
    body, signature = coral_fixture(name)
    changed = bytearray(body)
    changed[where] ^= 0x01
    assert_error_shape(post_coral(client, bytes(changed), signature), 401, "X-Coral-Signature")


def test_the_attack_is_held_or_rejected_in_coral_s_exact_shape(client):
    body, signature = coral_fixture("new-reply-attack")
    response = post_coral(client, body, signature)
    assert response.status_code == 200 and response.mimetype == "application/json"
    answer_ = response.get_json()
    CORAL_ANSWER.validate(answer_)
    assert answer_["actions"] == [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]
    if answer_["status"] == "SYSTEM_WITHHELD":
        assert set(answer_) == {"status", "actions"}
    else:
        assert answer_["status"] == "REJECTED" and set(answer_) == {"status", "actions", "moderationAction"}
        reason = answer_["moderationAction"]["rejectionReason"]
        assert reason["code"] in ("ABUSIVE", "OFFENSIVE", "HATE_SPEECH")
        assert "personal attacks" in reason["detailedExplanation"]


def test_the_clean_edit_gets_204_and_no_body(client):
    body, signature = coral_fixture("edit-clean")
    response = post_coral(client, body, signature)
    assert response.status_code == 204 and response.data == b""
    assert "Content-Type" not in response.headers


def test_a_resent_request_reuses_the_stored_verdict(any_db_client):
    body, signature = coral_fixture("new-reply-attack")
    first = post_coral(any_db_client, body, signature)
    second = post_coral(any_db_client, body, signature)
    assert first.get_json() == second.get_json()
    with db.connect(any_db_client.application.extensions["moderation"].engine) as conn:
        assert db.count(conn, "verdicts") == 1
        stored = db.find_verdict(conn, "site-main", comment_key(json.loads(body)))
        article = db.articles_by_id(conn, "site-main", ["story-2016-armenia-turkey-talks"])
    assert stored["source"] == "coral" and stored["author_id"] == "u-48213"
    assert stored["parent_id"] == "c5b1e1d2-7a3c-4f0e-9b8d-2a6f4c3e1d00"
    assert article["story-2016-armenia-turkey-talks"]["url"].startswith("https://news.example.org/")


def test_a_blocked_reader_s_repeat_of_an_approved_comment_is_not_published(any_db_client):
    # Coral sends no comment id, so a new comment with the same text maps to the stored one: once the reader
    # is blocked (six strikes in the example policy), the stored approval must not answer for it.
    body, signature = coral_fixture("edit-clean")
    assert post_coral(any_db_client, body, signature).status_code == 204
    with db.transaction(any_db_client.application.extensions["moderation"].engine) as conn:
        for _ in range(6):
            db.add_strike(conn, "site-main", "u-10077")
    again = post_coral(any_db_client, body, signature)
    assert again.status_code == 200 and again.get_json()["status"] == "REJECTED"
    assert again.get_json()["moderationAction"]["rejectionReason"]["code"] == "OTHER"
    with db.transaction(any_db_client.application.extensions["moderation"].engine) as conn:
        db.clear_strikes(conn, "site-main", "u-10077")  # a moderator restored the reader
    assert post_coral(any_db_client, body, signature).status_code == 204, "restored: the repeat is published again"


def test_evidence_offsets_point_into_the_html_coral_sent(app, client):
    body, signature = coral_fixture("new-reply-attack")
    post_coral(client, body, signature)
    html = json.loads(body)["comment"]["body"]
    with db.connect(app.extensions["moderation"].engine) as conn:
        stored = db.find_verdict(conn, "site-main", comment_key(json.loads(body)))
    spans = [e for r in stored["reasons"] for e in r["evidence"]]
    assert spans and all(html[e["begin"]:e["end"]] == e["text"] for e in spans)


def test_the_comment_key_separates_edits_and_sites():
    request = json.loads(coral_fixture("edit-clean")[0])
    edited = json.loads(json.dumps(request))
    edited["comment"]["body"] += "!"
    other_site = json.loads(json.dumps(request))
    other_site["site"]["id"] = "site-other"
    keys = {comment_key(request), comment_key(edited), comment_key(other_site)}
    assert len(keys) == 3 and comment_key(request) == comment_key(json.loads(json.dumps(request)))


def test_coral_is_answered_well_inside_its_200_ms_timeout(client):
    body, _signature = coral_fixture("new-reply-attack")
    timings = []
    for i in range(7):
        # A fresh body each time (same shape as Coral's), so every request is scored and stored.
        fresh = body.replace(b"moron", f"moron{i}".encode())
        started = time.perf_counter()
        assert post_coral(client, fresh, sign(fresh)).status_code in (200, 204)
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.05 and max(timings[1:]) < 0.2


def _long_coral_body(html: str) -> bytes:
    request = json.loads(coral_fixture("new-reply-attack")[0])
    request["comment"]["body"] = html
    return json.dumps(request, indent=2).encode()


def _stored(app, body: bytes) -> dict:
    with db.connect(app.extensions["moderation"].engine) as conn:
        verdict = db.find_verdict(conn, "site-main", comment_key(json.loads(body)))
        audit = db.list_audit(conn, subject=verdict["comment_id"])
    return {**verdict, "audit": audit[0]["detail"]}


@pytest.mark.parametrize("filler", ["word " * 4000, "<p>The council met on Tuesday.</p>\n" * 571])
def test_a_comment_over_the_scorer_s_limit_is_scored_whole_in_pieces(app, client, filler):
    """Coral cannot be told "too long": the whole comment is scored, 20,000 characters at a time, and the
    worst piece decides, so abuse after a long preamble is still caught and its evidence points at it."""
    clean = _long_coral_body(filler * 2)
    assert post_coral(client, clean, sign(clean)).status_code == 204
    stored = _stored(app, clean)
    assert stored["scores"] is not None and stored["fallback"] is None and stored["action"] == "approve"
    assert stored["audit"]["scored_in_pieces"] == 2
    html = filler + "<p>You clearly didn&#39;t read the article, you absolute <b>moron</b>.</p>"
    attack = _long_coral_body(html)
    response = post_coral(client, attack, sign(attack))
    assert response.status_code == 200 and response.get_json()["actions"] == [
        {"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]
    stored = _stored(app, attack)
    spans = [e for r in stored["reasons"] for e in r["evidence"]]
    assert stored["action"] in ("hold", "reject") and stored["fallback"] is None
    assert spans and all(e["begin"] > len(filler) and html[e["begin"]:e["end"]] == e["text"] for e in spans)


def test_a_comment_too_long_to_score_gets_the_policy_s_fallback(app, client):
    body = _long_coral_body("word " * 30_000)  # 150,000 characters: more than five pieces
    assert post_coral(client, body, sign(body)).status_code == 200
    stored = _stored(app, body)
    assert stored["action"] == "hold" and stored["fallback"] == "error" and stored["scores"] is None
    assert "scored_in_pieces" not in stored["audit"], "it was not scored at all"
    assert stored["audit"]["text_chars"] == 150_000


def test_a_comment_up_to_100000_characters_is_scored_however_its_sentences_fall(app, client):
    """Pieces are cut after a sentence, so one can be as short as 10,001 characters: a comment of six
    10,500-character sentences (63,000 characters) is six pieces, and is scored, not given the fallback."""
    sentence = "word " * 2099 + "end."
    body = _long_coral_body(sentence * 6)
    assert post_coral(client, body, sign(body)).status_code == 204
    stored = _stored(app, body)
    assert stored["fallback"] is None and stored["scores"] is not None and stored["action"] == "approve"
    assert stored["audit"]["scored_in_pieces"] == 6


# Five pieces of exactly 20,000 characters (lines of 40): four rude enough to hold (a personal attack,
# no swearing), then one that swears.
_RUDE = "What a dumb idea, you clown.".ljust(39) + "\n"
_RUDE_THEN_SWEARING = _RUDE * 2000 + ("Damn, this is a crap plan.".ljust(39) + "\n") * 500


def _explained_texts(model, monkeypatch, delay: float = 0.0) -> list[str]:
    """The texts the model is asked to explain from now on (each call delayed by ``delay`` seconds)."""
    texts, real = [], model.explain

    def spy(text, *args, **kwargs):
        texts.append(text)
        time.sleep(delay)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(model, "explain", spy)
    return texts


def test_a_long_comment_s_evidence_comes_from_the_pieces_that_decided_its_labels(app, client, model, monkeypatch):
    """Explaining costs more than scoring, against Coral's 200 ms: only each label's worst piece is explained."""
    explained = _explained_texts(model, monkeypatch)
    body = _long_coral_body(_RUDE_THEN_SWEARING)
    assert post_coral(client, body, sign(body)).status_code == 200
    stored = _stored(app, body)
    assert stored["audit"]["scored_in_pieces"] == 5 and stored["action"] in ("hold", "reject")
    assert explained == [_RUDE * 500, _RUDE_THEN_SWEARING[80_000:]], "the first of the four equally rude, the last"
    spans = {r["label"]: r["evidence"] for r in stored["reasons"] if r["evidence"]}
    assert spans["profanity"] and all(e["begin"] >= 80_000 for e in spans["profanity"])
    assert all(_RUDE_THEN_SWEARING[e["begin"]:e["end"]] == e["text"] for es in spans.values() for e in es)


def test_evidence_for_a_long_comment_stops_at_the_deadline_between_pieces(app, client, model, monkeypatch):
    monkeypatch.setattr("webhook.service._EVIDENCE_BUDGET_S", 0.5)
    explained = _explained_texts(model, monkeypatch, delay=0.5)  # the first piece's evidence uses up the budget
    body = _long_coral_body(_RUDE_THEN_SWEARING)
    assert post_coral(client, body, sign(body)).status_code == 200
    stored = _stored(app, body)
    assert len(explained) == 1 and stored["action"] in ("hold", "reject") and stored["fallback"] is None


_CORAL_DELETE = (b'{"action": "DELETE", "comment": {"body": "x"}, "author": {"id": "a"}, "story": {"id": "s"}, '
                 b'"site": {"id": "s"}, "tenantID": "t"}')
_CORAL_NO_BODY = (b'{"action": "NEW", "comment": {"parentID": null}, "author": {"id": "a"}, "story": {"id": "s"}, '
                  b'"site": {"id": "s"}, "tenantID": "t"}')


@pytest.mark.parametrize("body,content_type,status,field", [
    (b'{"action": "NEW"', "application/json", 400, None),
    (b'{"action": "NEW"}', "text/plain", 415, "Content-Type"),
    (b'{"action": "NEW"}', "application/json", 422, "comment"),
    (_CORAL_DELETE, "application/json", 422, "action"),
    (_CORAL_NO_BODY, "application/json", 422, "comment.body"),
])
def test_bad_coral_requests_get_a_4xx_once_signed(client, body, content_type, status, field):
    response = post_coral(client, body, sign(body), **{"Content-Type": content_type})
    assert_error_shape(response, status, field)


@pytest.mark.parametrize("where,field", [(("author", "id"), "author.id"), (("story", "id"), "story.id"),
                                         (("site", "id"), "site.id"), (("comment", "parentID"), "comment.parentID")])
def test_coral_ids_with_nul_or_unpaired_surrogates_are_refused(client, where, field):
    request = json.loads(coral_fixture("new-reply-attack")[0])
    request[where[0]][where[1]] += "\u0000\udc00"
    body = json.dumps(request, indent=2).encode()
    assert_error_shape(post_coral(client, body, sign(body)), 422, field)


def _verdict(action, reasons=()):
    return {"action": action, "reasons": list(reasons)}


def _reason(action, code, score=0.9, text="Clause text."):
    return {"action": action, "code": code, "score": score, "clause_text": text, "clause_id": "c", "label": "x"}


@pytest.mark.parametrize("verdict,status,code", [
    (_verdict("approve"), 204, None),
    (_verdict("hold", [_reason("hold", "ABUSIVE")]), 200, None),
    (_verdict("reject", [_reason("reject", "ABUSIVE", 0.81), _reason("reject", "HATE_SPEECH", 0.97)]), 200,
     "HATE_SPEECH"),
    (_verdict("reject", [_reason("reject", "SOMETHING_NEW")]), 200, "OTHER"),
    (_verdict("reject", [_reason("reject", None, None)]), 200, "OTHER"),
])
def test_verdicts_map_to_coral_answers_that_coral_accepts(app, verdict, status, code):
    with app.app_context():
        response = answer(verdict)
    assert response.status_code == status
    if status == 204:
        return
    body = response.get_json()
    CORAL_ANSWER.validate(body)
    if code:
        assert body["moderationAction"]["rejectionReason"]["code"] == code
        assert code in CORAL_REJECTION_CODES
    else:
        assert body == {"status": "SYSTEM_WITHHELD", "actions": [{"actionType": "FLAG",
                                                                  "reason": "COMMENT_DETECTED_TOXIC"}]}


_TOXIC = {"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}
_SPAM = {"actionType": "FLAG", "reason": "COMMENT_DETECTED_SPAM"}


@pytest.mark.parametrize("verdict,status,flags,code", [
    (_verdict("hold", [_reason("hold", "SPAM")]), "SYSTEM_WITHHELD", [_SPAM], None),
    (_verdict("hold", [_reason("hold", "SPAM"), _reason("hold", "ABUSIVE")]), "SYSTEM_WITHHELD", [_TOXIC, _SPAM], None),
    # only the reasons that decided the verdict flag it: a spam score under its reject line does not
    (_verdict("reject", [_reason("hold", "SPAM", 0.6), _reason("reject", "OFFENSIVE")]), "REJECTED", [_TOXIC],
     "OFFENSIVE"),
    (_verdict("reject", [_reason("reject", "SPAM", 0.97), _reason("reject", "ABUSIVE", 0.81)]), "REJECTED",
     [_TOXIC, _SPAM], "SPAM"),
    (_verdict("reject", [_reason("reject", "SPAM", 0.97)]), "REJECTED", [_SPAM], "SPAM"),
    (_verdict("hold", [_reason("hold", "OTHER")]), "SYSTEM_WITHHELD", [_TOXIC], None),
])
def test_spam_verdicts_carry_coral_spam_flag(app, verdict, status, flags, code):
    with app.app_context():
        body = answer(verdict).get_json()
    CORAL_ANSWER.validate(body)
    assert body["status"] == status and body["actions"] == flags
    assert body.get("moderationAction", {}).get("rejectionReason", {}).get("code") == code


# Coral's outgoing webhooks ------------------------------------------------------------------------------
def _event(event_id, event_type, data):
    payload = {"id": event_id, "type": event_type, "data": data, "createdAt": "2026-11-23T10:00:00.000Z",
               "tenantID": "tenant-7f3e", "tenantDomain": "comments.news.example.org"}
    return json.dumps(payload, indent=2).encode()


def post_event(client, body: bytes, secret: str = CORAL_SECRETS[1]):
    event_type = json.loads(body)["type"]
    signature = f"{sign(body, 'expired-secret')},{sign(body, secret)}"
    return post_coral(client, body, signature, path="/coral/events", **{"X-Coral-Event": event_type})


def test_story_created_records_the_story(any_db_client):
    body = _event("ev-1", "STORY_CREATED", {"storyID": "story-9", "storyURL": "https://news.example.org/9",
                                            "siteID": "site-main"})
    assert post_event(any_db_client, body).status_code == 204
    with db.connect(any_db_client.application.extensions["moderation"].engine) as conn:
        article = db.articles_by_id(conn, "site-main", ["story-9"])["story-9"]
        assert db.count(conn, "coral_events") == 1
    assert article["url"] == "https://news.example.org/9" and article["source"] == "coral"


@pytest.mark.parametrize("status,value", [("REJECTED", 1.0), ("APPROVED", 0.0)])
def test_a_moderator_s_decision_becomes_a_label_with_provenance(any_db_client, status, value):
    body = _event("ev-2", "COMMENT_LEFT_MODERATION_QUEUE", {
        "queue": "PENDING", "commentID": "c-91e2", "status": status, "storyID": "story-9", "siteID": "site-main"})
    assert post_event(any_db_client, body).status_code == 204
    assert post_event(any_db_client, body).status_code == 204  # Coral re-delivers: stored once
    with db.connect(any_db_client.application.extensions["moderation"].engine) as conn:
        labels = db.labels_for(conn, "coral:c-91e2")
    assert len(labels) == 1
    assert labels[0]["label"] == "moderator_decision" and labels[0]["value"] == value
    assert labels[0]["provenance"]["event_id"] == "ev-2" and labels[0]["provenance"]["status"] == status


def test_unknown_events_are_stored_and_acknowledged(app, client):
    body = _event("ev-3", "COMMENT_FEATURED", {"commentID": "c-1", "something": [1, 2, {"new": True}]})
    assert post_event(client, body).status_code == 204
    with db.connect(app.extensions["moderation"].engine) as conn:
        row = conn.execute(sa.select(db.coral_events)).one()
    assert row.type == "COMMENT_FEATURED" and row.payload["data"]["something"][2] == {"new": True}


@pytest.mark.parametrize("data", [
    {"commentID": "c-1", "siteID": "site-main", "status": ["REJECTED"]},  # a status that is no string
    {"commentID": "c-1", "siteID": "site-main", "status": {"a": 1}},
    {"commentID": 5, "siteID": "site-main", "status": "REJECTED"},  # no usable comment id
    {"siteID": "site-main", "status": "APPROVED"},
    {"commentID": "c\u0000-1", "siteID": "site-main", "status": "REJECTED"},  # an id the API refuses
    {"commentID": "c" * 201, "siteID": "site-main", "status": "REJECTED"},
    {"commentID": "c-1", "siteID": "\ud800", "status": "REJECTED"},
])
def test_an_odd_decision_event_is_stored_and_audited_but_makes_no_label(app, client, data):
    body = json.dumps({"id": "ev-odd", "type": "COMMENT_LEFT_MODERATION_QUEUE", "data": data}).encode()
    assert post_event(client, body).status_code == 204
    with db.connect(app.extensions["moderation"].engine) as conn:
        assert db.count(conn, "coral_events") == 1 and db.count(conn, "labels") == 0
        audit = conn.execute(sa.select(db.audit_log).where(db.audit_log.c.event == "coral_event")).all()
    assert len(audit) == 1


@pytest.mark.parametrize("story_id", ["a\u0000b", "\udc80", "s" * 201])
def test_a_story_id_the_api_would_refuse_is_not_rewritten_into_an_article(app, client, story_id):
    body = json.dumps({"id": "ev-7", "type": "STORY_CREATED", "data": {"storyID": story_id, "siteID": "site-main"}})
    assert post_event(client, body.encode()).status_code == 204
    with db.connect(app.extensions["moderation"].engine) as conn:
        assert db.count(conn, "coral_events") == 1 and db.count(conn, "articles") == 0


def test_events_need_a_valid_signature(client):
    body = _event("ev-4", "STORY_CREATED", {"storyID": "s", "siteID": "x"})
    assert_error_shape(post_event(client, body, secret="wrong"), 401)
    no_id = b'{"type": "STORY_CREATED"}'
    assert_error_shape(post_coral(client, no_id, sign(no_id), path="/coral/events"), 422, "id")
