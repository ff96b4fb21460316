"""Fixtures for the webhook tests, flaskr style: a fresh database per test, app and client fixtures.

Test modules load this file with ``pytest_plugins``. The model is loaded once per session (it is
read-only; the per-worker article cache is keyed by site and text, so tests cannot see each
other's articles).
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from moderation.scorer import Scorer, default_model_dir
from webhook import create_app

from .webhook_helpers import POSTGRES_URL, config_for

_POSTGRES_STATUS: dict[str, str | None] = {}


@pytest.fixture(scope="session")
def model() -> Scorer:
    """The model the service tests run on: MODERATION_MODEL_DIR, or the shipped default."""
    directory = os.environ.get("MODERATION_MODEL_DIR") or None
    if directory is None and not (default_model_dir() / "manifest.json").is_file():
        pytest.fail("the shipped default model is missing: run `make train`")
    return Scorer.load(directory)


def _postgres_problem() -> str | None:
    """None when the test PostgreSQL answers, else why not."""
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except sa.exc.SQLAlchemyError as exc:
        return f"PostgreSQL at {POSTGRES_URL} does not answer ({type(exc).__name__}); set MODERATION_TEST_POSTGRES_URL"
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty database of each kind: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'moderation.sqlite'}"
        return
    if "problem" not in _POSTGRES_STATUS:
        _POSTGRES_STATUS["problem"] = _postgres_problem()
    if _POSTGRES_STATUS["problem"]:
        if os.environ.get("MODERATION_REQUIRE_POSTGRES"):  # CI: both databases, never a silent skip
            pytest.fail(_POSTGRES_STATUS["problem"])
        pytest.skip(_POSTGRES_STATUS["problem"])
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'moderation.sqlite'}"


@pytest.fixture
def make_app(model, sqlite_url):
    """Build an app on this test's database with settings overridden; engines are closed after."""
    apps = []

    def build(url: str | None = None, **overrides):
        app = create_app(config_for(model, url or sqlite_url, **overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["moderation"].engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def any_db_client(make_app, database_url):
    """A client on SQLite, then on PostgreSQL (skipped when it does not answer)."""
    return make_app(database_url).test_client()
