"""Request signatures: the native scheme's window and rotation, Coral's header, constant-time compares."""

import hmac

import pytest

from webhook import signing
from webhook.errors import Unauthorized
from webhook.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    native_headers,
    parse_signatures,
    sign_native,
    verify_coral,
    verify_native,
)

from .webhook_helpers import CLEAN, SECRETS, assert_error_shape, now, signed_post

pytest_plugins = ["tests.webhook_fixtures"]

BODY = b'{"id": "c", "text": "hello"}'
NOW = 1_800_000_000


def _headers(secret="s-new", body=BODY, timestamp=NOW):
    return native_headers(secret, body, timestamp)


@pytest.mark.parametrize("offset", [0, 299, 300, -300])
def test_a_signature_inside_the_window_is_accepted(offset):
    verify_native(_headers(timestamp=NOW + offset), BODY, ["s-new"], 300, now=NOW)


@pytest.mark.parametrize("offset", [301, -301, 86400])
def test_a_signature_outside_the_window_is_refused(offset):
    with pytest.raises(Unauthorized, match="clock"):
        verify_native(_headers(timestamp=NOW + offset), BODY, ["s-new"], 300, now=NOW)


def test_either_secret_works_while_rotating():
    for secret in ("s-new", "s-old"):
        verify_native(_headers(secret), BODY, ["s-new", "s-old"], 300, now=NOW)
    with pytest.raises(Unauthorized):
        verify_native(_headers("s-old"), BODY, ["s-new"], 300, now=NOW)


def test_any_listed_signature_may_match():
    good = sign_native("s-new", BODY, NOW)
    headers = {TIMESTAMP_HEADER: str(NOW), SIGNATURE_HEADER: f"sha256={'0' * 64},{good}"}
    verify_native(headers, BODY, ["s-new"], 300, now=NOW)


_HEX = "0" * 64


@pytest.mark.parametrize("headers,message,field", [
    ({}, f"missing {SIGNATURE_HEADER} header: sign the request", SIGNATURE_HEADER),
    ({TIMESTAMP_HEADER: str(NOW)}, f"missing {SIGNATURE_HEADER} header", SIGNATURE_HEADER),
    ({TIMESTAMP_HEADER: str(NOW), SIGNATURE_HEADER: " "}, f"missing {SIGNATURE_HEADER} header", SIGNATURE_HEADER),
    ({SIGNATURE_HEADER: f"sha256={_HEX}"}, f"missing {TIMESTAMP_HEADER} header", TIMESTAMP_HEADER),
    ({TIMESTAMP_HEADER: "soon", SIGNATURE_HEADER: "sha256=00"}, "whole seconds", TIMESTAMP_HEADER),
    ({TIMESTAMP_HEADER: "１２３", SIGNATURE_HEADER: "sha256=00"}, "whole seconds", TIMESTAMP_HEADER),
    ({TIMESTAMP_HEADER: str(NOW), SIGNATURE_HEADER: "md5=abc"}, "is malformed: expected sha256=", SIGNATURE_HEADER),
    ({TIMESTAMP_HEADER: str(NOW), SIGNATURE_HEADER: _HEX}, "is malformed: expected sha256=", SIGNATURE_HEADER),
    ({TIMESTAMP_HEADER: str(NOW), SIGNATURE_HEADER: "sha256=ünïcode"}, "does not match", SIGNATURE_HEADER),
])
def test_malformed_signature_headers_are_refused_with_a_reason(headers, message, field):
    with pytest.raises(Unauthorized, match=message) as refused:
        verify_native(headers, BODY, ["s-new"], 300, now=NOW)
    assert refused.value.field == field


@pytest.mark.parametrize("header,message", [
    (None, "missing X-Coral-Signature header"),
    ("", "missing X-Coral-Signature header"),
    (_HEX, "X-Coral-Signature is malformed: expected sha256="),
    ("sha1=abc, junk", "X-Coral-Signature is malformed"),
    (f"sha256={_HEX}", "does not match"),
])
def test_a_coral_signature_header_that_is_missing_differs_from_a_malformed_one(header, message):
    headers = {} if header is None else {"X-Coral-Signature": header}
    with pytest.raises(Unauthorized, match=message) as refused:
        verify_coral(headers, BODY, ["s-new"])
    assert refused.value.field == "X-Coral-Signature"


def test_a_changed_body_or_timestamp_breaks_the_signature():
    headers = _headers()
    with pytest.raises(Unauthorized, match="does not match"):
        verify_native(headers, BODY + b" ", ["s-new"], 300, now=NOW)
    moved = {**headers, TIMESTAMP_HEADER: str(NOW + 1)}
    with pytest.raises(Unauthorized, match="does not match"):
        verify_native(moved, BODY, ["s-new"], 300, now=NOW)


def test_no_configured_secret_refuses_everything():
    with pytest.raises(Unauthorized, match="MODERATION_SECRETS"):
        verify_native(_headers(), BODY, [], 300, now=NOW)
    with pytest.raises(Unauthorized, match="MODERATION_CORAL_SECRETS"):
        verify_coral({"X-Coral-Signature": "sha256=00"}, BODY, [])


def test_signatures_are_compared_in_constant_time(monkeypatch):
    calls, compare = [], hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(signing.hmac, "compare_digest", spy)
    verify_native(_headers("s-old"), BODY, ["s-new", "s-old"], 300, now=NOW)
    assert len(calls) == 2, "every secret is compared, even after a match"


def test_coral_signature_header_lists_are_parsed():
    assert parse_signatures("sha256=AB, sha256=cd,junk,sha1=ef") == ["ab", "cd"]
    assert parse_signatures(None) == [] and parse_signatures("") == []


def test_the_service_checks_signatures_on_every_native_route(client):
    assert_error_shape(client.post("/v1/comments", json={"id": "c", "text": CLEAN}), 401, SIGNATURE_HEADER)
    assert_error_shape(client.get("/v1/verdicts/c"), 401, SIGNATURE_HEADER)
    stale = signed_post(client, "/v1/comments", {"id": "c", "text": CLEAN}, timestamp=now() - 301)
    assert_error_shape(stale, 401, TIMESTAMP_HEADER)
    unknown = signed_post(client, "/v1/comments", {"id": "c", "text": CLEAN}, secret="not-a-configured-secret")
    assert_error_shape(unknown, 401, SIGNATURE_HEADER)


def test_both_secrets_are_accepted_by_the_service_while_rotating(client):
    for secret in SECRETS:
        assert signed_post(client, "/v1/comments", {"id": "r", "text": CLEAN}, secret=secret).status_code == 200


def test_a_service_without_secrets_refuses_and_says_how_to_fix_it(make_app):
    client = make_app(SECRETS="").test_client()
    error = assert_error_shape(signed_post(client, "/v1/comments", {"id": "c", "text": CLEAN}), 401)
    assert "MODERATION_SECRETS" in error["message"]
