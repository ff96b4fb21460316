"""The Perspective-compatible API: captured requests, scores, spans, feedback and Google-shaped errors."""

import contextlib
import json
import threading

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator

from moderation.errors import InputError
from moderation.labels import PERSPECTIVE_ATTRIBUTES
from webhook import db
from webhook.openapi import document
from webhook.perspective import MAX_COMMENT_BYTES, sentences

from .webhook_helpers import PERSPECTIVE_KEY, fixture_bytes, post_chunked

pytest_plugins = ["tests.webhook_fixtures"]

ANALYZE = f"/v1alpha1/comments:analyze?key={PERSPECTIVE_KEY}"
SUGGEST = f"/v1alpha1/comments:suggestscore?key={PERSPECTIVE_KEY}"
_SCHEMAS = document(100)["components"]["schemas"]
ANSWER = Draft202012Validator(_SCHEMAS["PerspectiveAnswer"])


def post(client, path: str, body, content_type: str = "application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, data=data, headers={"Content-Type": content_type})


def _rows(app, table: str) -> int:
    with db.connect(app.extensions["moderation"].engine) as conn:
        return db.count(conn, table)


def assert_perspective_error(response, code: int, status: str, error_type: str | None = None) -> str:
    assert response.status_code == code, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(response.get_json()) == {"error"}
    assert {"code", "message", "status"} <= set(error) <= {"code", "message", "status", "details"}
    assert error["code"] == code and error["status"] == status and error["message"]
    if error_type:
        assert error["details"][0]["errorType"] == error_type
    return error["message"]


def test_coral_s_toxicity_request_gets_a_toxicity_score_and_nothing_is_stored(app, client, model):
    body = fixture_bytes("perspective", "coral-analyze.json")
    response = post(client, ANALYZE, body)
    assert response.status_code == 200
    answer = response.get_json()
    ANSWER.validate(answer)
    assert set(answer) == {"attributeScores", "languages"}
    assert list(answer["attributeScores"]) == ["TOXICITY"]
    summary = answer["attributeScores"]["TOXICITY"]["summaryScore"]
    assert summary["type"] == "PROBABILITY"
    text = json.loads(body)["comment"]["text"]
    assert summary["value"] == pytest.approx(model.score(text).scores["toxicity"], abs=1e-4)
    assert answer["languages"] == ["en"]
    assert _rows(app, "comments") == 0, "doNotStore: nothing but metrics"


def test_a_typical_client_gets_all_six_attributes_with_spans_and_its_token(app, client, model):
    body = fixture_bytes("perspective", "client-analyze-all-attributes.json")
    answer = post(client, ANALYZE, body).get_json()
    ANSWER.validate(answer)
    text = json.loads(body)["comment"]["text"]
    assert set(answer["attributeScores"]) == set(PERSPECTIVE_ATTRIBUTES)
    assert answer["clientToken"] == "req-42" and answer["languages"] == ["en"]
    scores = model.score(text).scores
    for name, key in PERSPECTIVE_ATTRIBUTES.items():
        attribute = answer["attributeScores"][name]
        assert attribute["summaryScore"]["value"] == pytest.approx(scores[key], abs=1e-4)
        assert attribute["spanScores"], name
        for span in attribute["spanScores"]:
            assert 0 <= span["begin"] < span["end"] <= len(text)
            assert 0 <= span["score"]["value"] <= 1 and span["score"]["type"] == "PROBABILITY"
    assert _rows(app, "comments") == 0


def test_span_scores_cover_every_sentence_each_scored_alone(client, model):
    text = "Great piece!\nYou are a complete idiot. See you at the match."
    body = {"comment": {"text": text}, "spanAnnotations": True, "doNotStore": True,
            "requestedAttributes": {"TOXICITY": {}, "INSULT": {}}}
    answer = post(client, ANALYZE, body).get_json()
    ANSWER.validate(answer)
    for name, key in [("TOXICITY", "toxicity"), ("INSULT", "personal_attack")]:
        spans = answer["attributeScores"][name]["spanScores"]
        assert [text[s["begin"]:s["end"]] for s in spans] == ["Great piece!", "You are a complete idiot.",
                                                              "See you at the match."]
        for s in spans:
            assert s["score"]["value"] == pytest.approx(model.score(text[s["begin"]:s["end"]]).scores[key], abs=1e-4)
    insult = [s["score"]["value"] for s in answer["attributeScores"]["INSULT"]["spanScores"]]
    assert insult[1] > 0.5 > max(insult[0], insult[2])


def test_span_offsets_count_utf_16_code_units_as_perspective_s_clients_do(client):
    text = "😀😀 Lovely day. é😀 You are a complete idiot. Bye 😀"
    body = {"comment": {"text": text}, "spanAnnotations": True, "doNotStore": True,
            "requestedAttributes": {"INSULT": {}}}
    spans = post(client, ANALYZE, body).get_json()["attributeScores"]["INSULT"]["spanScores"]
    units = text.encode("utf-16-le")
    # What a JavaScript client's text.substring(begin, end) gives.
    assert [units[2 * s["begin"]:2 * s["end"]].decode("utf-16-le") for s in spans] == [
        "😀😀 Lovely day.", "é😀 You are a complete idiot.", "Bye 😀"]
    assert spans[-1]["end"] == len(units) // 2 == len(text) + 4  # four emoji


@pytest.mark.parametrize("path", [ANALYZE, SUGGEST])
def test_null_optional_fields_are_unset_as_in_protobuf_json(app, client, path):
    body = {"comment": {"text": "A perfectly nice comment."}, "clientToken": None, "communityId": None,
            "doNotStore": None, "spanAnnotations": None, "languages": None, "context": None}
    if path == ANALYZE:
        body["requestedAttributes"] = {"TOXICITY": None}
    else:
        body["attributeScores"] = {"TOXICITY": {"summaryScore": {"value": 0.1}}}
    response = post(client, path, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "clientToken" not in response.get_json()
    if path == ANALYZE:
        assert "spanScores" not in response.get_json()["attributeScores"]["TOXICITY"]
        assert _rows(app, "comments") == 1, "doNotStore null is doNotStore unset: stored"


def test_without_do_not_store_the_comment_and_verdict_are_stored(app, client):
    response = post(client, ANALYZE, {"comment": {"text": "A perfectly nice comment."},
                                      "requestedAttributes": {"TOXICITY": {}}})
    assert response.status_code == 200 and "spanScores" not in response.get_json()["attributeScores"]["TOXICITY"]
    assert _rows(app, "comments") == 1 and _rows(app, "verdicts") == 1


def test_coral_s_feedback_is_stored_as_labels(app, client):
    body = fixture_bytes("perspective", "coral-suggestscore.json")
    response = post(client, SUGGEST, body)
    assert response.status_code == 200 and response.get_json() == {"clientToken": "comment:c-91e2"}
    with db.connect(app.extensions["moderation"].engine) as conn:
        labels = db.labels_for(conn, "comment:c-91e2")
    assert len(labels) == 1
    label = labels[0]
    assert label["label"] == "toxicity" and label["value"] == 1.0 and label["source"] == "perspective:suggestscore"
    assert label["text"] == json.loads(body)["comment"]["text"]
    assert label["provenance"]["communityId"] == "Coral:https://comments.news.example.org"
    assert "Coral_comment_id" in label["provenance"]["context"]["entries"][0]["text"]


def test_the_same_feedback_sent_twice_is_stored_once(any_db_client):
    body = fixture_bytes("perspective", "coral-suggestscore.json")
    for _ in range(2):
        assert post(any_db_client, SUGGEST, body).status_code == 200
    changed = json.loads(body)
    changed["attributeScores"]["TOXICITY"]["summaryScore"]["value"] = 0
    assert post(any_db_client, SUGGEST, changed).status_code == 200
    untokened = {k: v for k, v in changed.items() if k != "clientToken"}
    for _ in range(2):
        assert post(any_db_client, SUGGEST, untokened).status_code == 200
    with db.connect(any_db_client.application.extensions["moderation"].engine) as conn:
        values = [label["value"] for label in db.labels_for(conn, "comment:c-91e2")]
    assert values == [1.0, 0.0], "a changed score is new feedback; a repeat is not"
    assert _rows(any_db_client.application, "labels") == 3
    assert _rows(any_db_client.application, "audit_log") == 3, "only feedback that was stored is audited"


def test_a_moderator_who_changes_their_mind_back_has_the_last_decision_stored_last(any_db_client):
    """reject, approve, reject: the third is no resend of the first, and the export keeps the latest label."""
    body = json.loads(fixture_bytes("perspective", "coral-suggestscore.json"))
    for value in (1, 0, 1, 1):
        body["attributeScores"]["TOXICITY"]["summaryScore"]["value"] = value
        assert post(any_db_client, SUGGEST, body).status_code == 200
    untokened = {k: v for k, v in body.items() if k != "clientToken"}
    for value in (1, 0, 1):
        untokened["attributeScores"]["TOXICITY"]["summaryScore"]["value"] = value
        assert post(any_db_client, SUGGEST, untokened).status_code == 200
    with db.connect(any_db_client.application.extensions["moderation"].engine) as conn:
        assert [label["value"] for label in db.labels_for(conn, "comment:c-91e2")] == [1.0, 0.0, 1.0]
        untokened_values = conn.execute(sa.select(db.labels.c.value).where(db.labels.c.comment_ref.is_(None))
                                        .order_by(db.labels.c.id)).scalars().all()
    assert untokened_values == [1.0, 0.0, 1.0]
    assert _rows(any_db_client.application, "audit_log") == 6


def test_a_client_token_is_stored_up_to_200_characters(any_db_client):
    """A stored token is a labels index key: PostgreSQL refuses index keys over about 2,700 bytes."""
    body = json.loads(fixture_bytes("perspective", "coral-suggestscore.json"))
    body["clientToken"] = "".join(chr(0x1F600 + i % 80) for i in range(200))  # 800 bytes of UTF-8
    assert post(any_db_client, SUGGEST, body).status_code == 200
    body["clientToken"] = "x" * 201 + "".join(chr(0x1F600 + i % 80) for i in range(3000))
    message = assert_perspective_error(post(any_db_client, SUGGEST, body), 400, "INVALID_ARGUMENT")
    assert "clientToken" in message and "200" in message
    assert _rows(any_db_client.application, "labels") == 1


@pytest.mark.parametrize("path", [ANALYZE, SUGGEST])
def test_a_community_id_over_200_characters_is_refused_not_cut(any_db_client, path):
    """Cut to 200 characters, two communities' comments and labels would be stored as one site's."""
    name = "coral-analyze.json" if path == ANALYZE else "coral-suggestscore.json"
    body = json.loads(fixture_bytes("perspective", name))
    body["communityId"] = "c" * 200
    assert post(any_db_client, path, body).status_code == 200
    body["communityId"] = "c" * 201
    message = assert_perspective_error(post(any_db_client, path, body), 400, "INVALID_ARGUMENT")
    assert "communityId" in message and "200" in message


def test_two_resends_listing_the_labels_in_opposite_orders_both_succeed(any_db_client):
    """Each request pauses after its first duplicate check until the other has made one too (or for 2 s,
    when the other must wait for it): locks taken per label, in each client's order, deadlocked here."""
    app = any_db_client.application
    engine = app.extensions["moderation"].engine
    barrier, paused, answers = threading.Barrier(2, timeout=2), threading.local(), []

    def pause_once(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "FROM labels" in statement and not getattr(paused, "done", False):
            paused.done = True
            # Broken: the other request is waiting for this one's transaction, so go on.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()

    def send(names):
        body = json.loads(fixture_bytes("perspective", "coral-suggestscore.json"))
        body["attributeScores"] = {name: {"summaryScore": {"value": 1}} for name in names}
        answers.append(post(app.test_client(), SUGGEST, body))

    names = ["TOXICITY", "INSULT", "THREAT"]
    sa.event.listen(engine, "before_cursor_execute", pause_once)
    try:
        threads = [threading.Thread(target=send, args=(order,)) for order in (names, names[::-1])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sa.event.remove(engine, "before_cursor_execute", pause_once)
    assert [a.status_code for a in answers] == [200, 200], [a.get_data(as_text=True) for a in answers]
    assert _rows(app, "labels") == 3 and _rows(app, "audit_log") == 1


@pytest.mark.parametrize("method,path,code,status", [
    ("GET", f"/v1alpha1/comments:analyze?key={PERSPECTIVE_KEY}", 405, "UNIMPLEMENTED"),
    ("POST", f"/v1alpha1/comments:foo?key={PERSPECTIVE_KEY}", 404, "NOT_FOUND"),
    ("POST", "/v1alpha1/comments:foo", 404, "NOT_FOUND"),
    ("GET", "/v1alpha1", 404, "NOT_FOUND"),
])
def test_unknown_methods_and_routes_under_v1alpha1_answer_in_perspective_s_shape(client, method, path, code, status):
    response = client.open(path, method=method, json={"comment": {"text": "hi"}})
    assert_perspective_error(response, code, status)
    if code == 405:
        assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("failure", [RuntimeError("boom"), InputError("no good", field="text")])
def test_an_unexpected_failure_under_v1alpha1_answers_in_perspective_s_shape(client, model, monkeypatch, failure):
    def fail(*args, **kwargs):
        raise failure

    monkeypatch.setattr(model, "score_batch", fail)
    response = post(client, ANALYZE, {"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}})
    if isinstance(failure, InputError):
        assert "no good" in assert_perspective_error(response, 400, "INVALID_ARGUMENT")
    else:
        assert_perspective_error(response, 500, "INTERNAL")


def test_a_request_without_a_key_is_403(client):
    response = post(client, "/v1alpha1/comments:analyze", {"comment": {"text": "hi"},
                                                          "requestedAttributes": {"TOXICITY": {}}})
    assert_perspective_error(response, 403, "PERMISSION_DENIED")


def test_a_server_without_keys_says_which_setting_is_missing(make_app):
    response = post(make_app(PERSPECTIVE_KEYS="").test_client(), ANALYZE, {"comment": {"text": "hi"},
                                                                          "requestedAttributes": {"TOXICITY": {}}})
    assert "MODERATION_PERSPECTIVE_KEYS" in assert_perspective_error(response, 401, "UNAUTHENTICATED")


def test_scores_below_an_attribute_s_score_threshold_are_left_out(client, model):
    text = "You are a pathetic idiot. Thanks for the article."
    scores = model.score(text).scores
    assert scores["personal_attack"] > 0.5 > scores["threat"], "the case needs one high and one low score"
    body = {"comment": {"text": text}, "spanAnnotations": True, "doNotStore": True, "requestedAttributes": {
        "INSULT": {"scoreThreshold": 0.5}, "THREAT": {"scoreThreshold": 0.5, "scoreType": "PROBABILITY"},
        "PROFANITY": {}}}
    answer = post(client, ANALYZE, body).get_json()
    ANSWER.validate(answer)
    assert set(answer["attributeScores"]) == {"INSULT", "PROFANITY"}
    assert all(s["score"]["value"] >= 0.5 for s in answer["attributeScores"]["INSULT"]["spanScores"])
    assert [text[s["begin"]:s["end"]] for s in answer["attributeScores"]["INSULT"]["spanScores"]] == [
        "You are a pathetic idiot."]


def test_a_wrong_key_is_400_like_google(client):
    response = post(client, "/v1alpha1/comments:analyze?key=nope", {"comment": {"text": "hi"}})
    assert "API key not valid" in assert_perspective_error(response, 400, "INVALID_ARGUMENT")


def test_a_key_in_the_google_header_works_too(client):
    response = client.post("/v1alpha1/comments:analyze", json={"comment": {"text": "hi"},
                                                               "requestedAttributes": {"TOXICITY": {}}},
                           headers={"X-Goog-Api-Key": PERSPECTIVE_KEY})
    assert response.status_code == 200


def test_twenty_kilobytes_of_ascii_are_scored_whole_like_perspective(app, client, model):
    """20 KB is 20,480 bytes: more ASCII characters than the scorer reads at once, so read in pieces, the worst
    piece deciding, with one sentence longer than that scored the same way for its span."""
    insult = "You are a complete idiot and a moron."
    long = ("the council should fund the cycle lanes " * 501).rstrip() + "."  # one sentence over 20,000 characters
    text = long + " " + insult
    assert 20_000 < len(long) < len(text) <= 20_480 == MAX_COMMENT_BYTES
    body = {"comment": {"text": text}, "spanAnnotations": True, "requestedAttributes": {"INSULT": {}}}
    response = post(client, ANALYZE, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()["attributeScores"]["INSULT"]
    assert answer["summaryScore"]["value"] > 0.5
    spans = answer["spanScores"]
    assert [(s["begin"], s["end"]) for s in spans] == [(0, len(long)), (len(long) + 1, len(text))]
    assert spans[0]["score"]["value"] < 0.5 < spans[1]["score"]["value"]
    assert _rows(app, "comments") == 1


@pytest.mark.parametrize("body,error_type,fragment", [
    ({"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}, "COMMENT_EMPTY", "non-empty"),
    ({"comment": {"text": "  \n"}, "requestedAttributes": {"TOXICITY": {}}}, "COMMENT_EMPTY", "non-empty"),
    ({"comment": {"text": "\u200b\u200b"}, "requestedAttributes": {"TOXICITY": {}}}, "COMMENT_EMPTY", "invisible"),
    ({"comment": {"text": "<p></p>", "type": "HTML"}, "requestedAttributes": {"TOXICITY": {}}}, "COMMENT_EMPTY",
     "markup"),
    ({"comment": {"text": "\U0001F600\U0001F600"}, "requestedAttributes": {"TOXICITY": {}}},
     "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE", "und (detected: the request named none, and the comment's language"),
    ({"comment": {"text": "é" * 10241}, "requestedAttributes": {"TOXICITY": {}}}, "COMMENT_TOO_LONG", "20,482 bytes"),
    ({"comment": {"text": "a " * 10241}, "requestedAttributes": {"TOXICITY": {}}}, "COMMENT_TOO_LONG", "20,482 bytes"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"FLIRTATION": {}}}, None, "FLIRTATION"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {}}, None, "requestedAttributes"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["de"]},
     "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE", "languages: de"),
    ({"comment": {"text": "Das ist eine sehr schlechte Entscheidung der Regierung."},
      "requestedAttributes": {"TOXICITY": {}}}, "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
     "languages: de (detected: the request named none)"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": "en"}, None, "languages"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "spanAnnotations": "yes"}, None,
     "spanAnnotations"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "clientToken": 7}, None, "clientToken"),
    ({"comment": "hi", "requestedAttributes": {"TOXICITY": {}}}, None, "comment"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": 2}}}, None, "scoreThreshold"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": "0.5"}}}, None,
     "scoreThreshold"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreType": "STD_DEV_SCORE"}}}, None,
     "scoreType"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": []}}, None, "requestedAttributes[TOXICITY]"),
    ([], None, "object"),
])
def test_bad_requests_get_perspective_shaped_errors(client, body, error_type, fragment):
    message = assert_perspective_error(post(client, ANALYZE, body), 400, "INVALID_ARGUMENT", error_type)
    assert fragment in message


@pytest.mark.parametrize("path", [ANALYZE, SUGGEST])
@pytest.mark.parametrize("name", ["communityId", "clientToken"])
def test_ids_with_nul_or_unpaired_surrogates_are_refused(client, path, name):
    body = {"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}},
            "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}}, name: "site\u0000\ud800"}
    message = assert_perspective_error(post(client, path, body), 400, "INVALID_ARGUMENT")
    assert name in message and "NUL" in message
    assert _rows(client.application, "labels") == 0 and _rows(client.application, "comments") == 0


def test_malformed_json_and_oversized_bodies_get_perspective_shaped_errors(make_app, client):
    assert "Invalid JSON" in assert_perspective_error(post(client, ANALYZE, b'{"comment": '), 400, "INVALID_ARGUMENT")
    small = make_app(MAX_BODY_BYTES=500).test_client()
    big = {"comment": {"text": "x" * 1000}, "requestedAttributes": {"TOXICITY": {}}}
    assert "exceeds the limit" in assert_perspective_error(post(small, ANALYZE, big), 400, "INVALID_ARGUMENT")
    chunked = post_chunked(small, ANALYZE, json.dumps(big).encode(), {})  # no Content-Length: not cut short
    assert "exceeds the limit" in assert_perspective_error(chunked, 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("body,fragment", [
    ({"comment": {"text": "hi"}, "attributeScores": {}}, "must not be empty"),
    ({"comment": {"text": "hi"}, "attributeScores": {"NOPE": {"summaryScore": {"value": 1}}}}, "NOPE"),
    ({"comment": {"text": "hi"}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": 2}}}}, "0 to 1"),
    ({"comment": {"text": "hi"}, "attributeScores": {"TOXICITY": {"summaryScore": 1}}}, "0 to 1"),
    ({"comment": {"text": "hi"}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": True}}}}, "0 to 1"),
])
def test_bad_feedback_gets_perspective_shaped_errors(client, body, fragment):
    assert fragment in assert_perspective_error(post(client, SUGGEST, body), 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("text,expected", [
    ("One. Two!", [(0, 4), (5, 9)]),
    ("  padded  ", [(2, 8)]),
    ("no stop", [(0, 7)]),
    ("line one\nline two", [(0, 8), (9, 17)]),
])
def test_span_scores_cover_sentences(text, expected):
    assert sentences(text) == expected
