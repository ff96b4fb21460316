"""Constants and helpers for the webhook tests: signed requests, captured fixtures, the error shape."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest

from webhook.signing import native_headers

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("MODERATION_FIXTURES", ROOT.parent / "shared" / "fixtures"))
POSTGRES_URL = os.environ.get("MODERATION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

SECRETS = ("native-secret-current", "native-secret-old")
CORAL_SECRETS = ("empsec_3f9c2a71d04b8e6a5c1f0e9d8b7a6c5d", "empsec_old_0a1b2c3d4e5f60718293a4b5c6d7e8f9")
PERSPECTIVE_KEY = "perspective-test-key"

ATTACK = "You clearly didn't read the article, you absolute moron."
CLEAN = "Open borders without first settling the reparations question will mostly benefit Turkey, in my view."


def config_for(model, url: str, **overrides) -> dict:
    """Settings for a test app: the session's model, this test's database, known secrets."""
    return {"SCORER": model, "DATABASE_URL": url, "SECRETS": ",".join(SECRETS),
            "CORAL_SECRETS": ",".join(CORAL_SECRETS), "PERSPECTIVE_KEYS": PERSPECTIVE_KEY, **overrides}


def signed_post(client, path: str, payload, secret: str = SECRETS[0], timestamp: int | None = None,
                headers: dict | None = None):
    """POST ``payload`` (an object, or raw bytes) with a native signature."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    all_headers = {"Content-Type": "application/json", **native_headers(secret, body, timestamp), **(headers or {})}
    return client.post(path, data=body, headers=all_headers)


def post_chunked(client, path: str, body: bytes, headers: dict):
    """POST ``body`` with no Content-Length, as gunicorn hands the app a chunked request."""
    return client.post(path, input_stream=io.BytesIO(body), environ_overrides={"wsgi.input_terminated": True},
                       headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked", **headers})


def signed_get(client, path: str, secret: str = SECRETS[0], **kwargs):
    return client.get(path, headers=native_headers(secret, b""), **kwargs)


def fixture_bytes(kind: str, name: str) -> bytes:
    """A captured request body, byte for byte; the test is skipped (with why) when absent."""
    path = FIXTURES / kind / name
    if not path.is_file():
        pytest.skip(f"fixture {path} not found: set MODERATION_FIXTURES to the shared fixtures folder")
    return path.read_bytes()


def coral_fixture(name: str) -> tuple[bytes, str]:
    """A Coral request body and the X-Coral-Signature header Coral sent with it."""
    body = fixture_bytes("coral", f"{name}.json")
    signature = fixture_bytes("coral", f"{name}.signature").decode().strip()
    return body, signature


def assert_error_shape(response, status: int, field: str | None = "__any__") -> dict:
    """The native API's one error shape, with the expected status (and field, when given)."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {text}"
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, text
    assert set(body["error"]) == {"code", "message", "field"}, text
    assert isinstance(body["error"]["code"], str) and body["error"]["message"], text
    if field != "__any__":
        assert body["error"]["field"] == field, f"expected field {field!r}: {text}"
    return body["error"]


def now() -> int:
    return int(time.time())
