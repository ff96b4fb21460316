"""No input gets a 500: property-based fuzzing, and schemathesis against /openapi.json (both bounded)."""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from webhook.openapi import document
from webhook.signing import hmac_hex, native_headers

from .webhook_helpers import CORAL_SECRETS, PERSPECTIVE_KEY, SECRETS

pytest_plugins = ["tests.webhook_fixtures"]

_SLOW_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]

_scalars = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40))
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
_ids = st.one_of(st.text(min_size=1, max_size=30), _json)
_texts = st.one_of(st.text(max_size=300), st.sampled_from(["", " ", "\x00", "\ud800", "You absolute moron.",
                                                          "<p>f*ck <b>off</b></p>", "Das ist gut."]), _json)


def _maybe(**fields):
    return st.fixed_dictionaries({}, optional=fields)


_comment = st.fixed_dictionaries({"id": _ids, "text": _texts},
                                 optional={"article_id": _ids, "parent_id": _ids, "author_id": _ids, "site_id": _ids})
_bodies = {
    "/v1/comments": _comment,
    "/v1/comments/batch": st.fixed_dictionaries({"comments": st.lists(_comment, max_size=4) | _json}),
    "/v1/threads": st.fixed_dictionaries({"article": _maybe(id=_ids, title=_texts, body=_texts) | _json,
                                          "comments": st.lists(_comment, max_size=4) | _json}),
    "/v1/articles": _maybe(id=_ids, title=_texts, body=_texts, url=_texts, site_id=_ids),
    "/coral/moderate": st.fixed_dictionaries({
        "action": st.sampled_from(["NEW", "EDIT"]) | _json,
        "comment": _maybe(body=_texts, parentID=_ids) | _json,
        "author": _maybe(id=_ids, role=_texts) | _json, "story": _maybe(id=_ids, url=_texts) | _json,
        "site": _maybe(id=_ids) | _json, "tenantID": _ids}),
    "/coral/events": _maybe(id=_ids, type=st.sampled_from(["STORY_CREATED", "COMMENT_LEFT_MODERATION_QUEUE"]) | _ids,
                            data=_maybe(storyID=_ids, siteID=_ids, storyURL=_texts, status=_texts, commentID=_ids)
                            | _json, tenantID=_ids),
    "/v1alpha1/comments:analyze": _maybe(
        comment=_maybe(text=_texts) | _json,
        requestedAttributes=st.dictionaries(st.sampled_from(["TOXICITY", "INSULT", "THREAT", "NOPE"]),
                                            st.just({}) | _json, max_size=3) | _json,
        languages=st.lists(st.sampled_from(["en", "de", "en-US", ""]), max_size=2) | _json,
        spanAnnotations=st.booleans() | _json, doNotStore=st.booleans() | _json, clientToken=_ids),
    "/v1alpha1/comments:suggestscore": _maybe(
        comment=_maybe(text=_texts) | _json, clientToken=_ids, communityId=_ids,
        attributeScores=st.dictionaries(st.sampled_from(["TOXICITY", "INSULT", "NOPE"]),
                                        _maybe(summaryScore=_maybe(value=_json)) | _json, max_size=2) | _json),
}
_header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@st.composite
def requests(draw):
    """A request to any route: near-valid or garbage body, any content type, good or bad signature."""
    path = draw(st.sampled_from(sorted(_bodies) + ["/v1/verdicts/x", "/healthz", "/readyz", "/metrics", "/nowhere"]))
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT"]))
    if path in _bodies and draw(st.booleans()):
        body = json.dumps(draw(_bodies[path]), indent=draw(st.sampled_from([None, 2]))).encode("utf-8", "surrogatepass")
    else:
        body = draw(st.binary(max_size=200) | _json.map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass")))
    headers = {"Content-Type": draw(st.sampled_from(["application/json", "application/json; charset=utf-8",
                                                     "text/plain", "", "multipart/form-data"]))}
    auth = draw(st.sampled_from(["good", "good", "none", "garbage", "stale"]))
    if auth == "good":
        headers.update(native_headers(SECRETS[0], body))
        headers["X-Coral-Signature"] = f"sha256={hmac_hex(CORAL_SECRETS[0], body)}"
        path = path.replace(":analyze", f":analyze?key={PERSPECTIVE_KEY}").replace(
            ":suggestscore", f":suggestscore?key={PERSPECTIVE_KEY}")
    elif auth == "garbage":
        headers.update({"X-Moderation-Timestamp": draw(_header_text), "X-Moderation-Signature": draw(_header_text),
                        "X-Coral-Signature": draw(_header_text)})
        path += draw(st.sampled_from(["", "?key=", "?key=%00", "?site_id=%00&version=-1"]))
    elif auth == "stale":
        headers.update(native_headers(SECRETS[0], body, timestamp=1))
    return method, path, body, headers


@settings(max_examples=250, deadline=None, suppress_health_check=_SLOW_OK)
@given(request=requests())
def test_no_request_gets_a_500(client, request):
    method, path, body, headers = request
    response = client.open(path, method=method, data=body, headers=headers)
    assert response.status_code < 500, (method, path, body[:200], response.get_data(as_text=True)[:500])
    if response.status_code >= 400 and not path.startswith("/v1alpha1"):
        assert set(response.get_json()["error"]) == {"code", "message", "field"}


# Schemathesis: every operation in /openapi.json, answers checked against the document ------------------------
# The document is plain data built from code, so it can be loaded without an app; the test checks
# that the app serves this same document. A small batch size keeps schemathesis's boundary cases
# (full batches of maximum-length comments) to seconds.
FUZZ_BATCH = 4
schema = schemathesis.openapi.from_dict(document(FUZZ_BATCH))


@pytest.fixture
def fuzz_client(make_app):
    return make_app(MAX_BATCH=FUZZ_BATCH).test_client()
_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _signed_request(case) -> dict:
    """The case as test-client arguments, signed the way each route expects, so bodies reach the views."""
    if isinstance(case.body, NotSet):
        data = b""
    elif isinstance(case.body, (bytes, str)):  # schemathesis sometimes sends a raw body
        data = case.body.encode("utf-8", "surrogatepass") if isinstance(case.body, str) else case.body
    else:
        data = json.dumps(case.body).encode("utf-8", "surrogatepass")
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "content-length"}
    headers.setdefault("Content-Type", "application/json")
    headers.update(native_headers(SECRETS[0], data))
    headers["X-Coral-Signature"] = f"sha256={hmac_hex(CORAL_SECRETS[0], data)}"
    query = dict(case.query or {})
    if case.path.startswith("/v1alpha1"):
        query["key"] = PERSPECTIVE_KEY
    return {"path": case.formatted_path, "method": case.method, "data": data, "headers": headers,
            "query_string": query}


def test_the_fuzzed_document_is_the_one_served(fuzz_client):
    assert fuzz_client.get("/openapi.json").get_json() == json.loads(json.dumps(schema.raw_schema))


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=_SLOW_OK)
def test_every_operation_answers_as_documented(case, fuzz_client):
    response = fuzz_client.open(**_signed_request(case))
    case.validate_response(response, checks=_CHECKS)
