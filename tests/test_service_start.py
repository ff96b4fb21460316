"""A worker's start and its model watcher under operational faults (tests for an operational review).

A worker that starts while LIVE names a refused model, or while the database does not answer, starts
anyway (gunicorn shuts the whole service down when one worker fails to boot); and a rollback or a
second promotion made while a promotion is still loading is not lost.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from moderation.scorer import Scorer, default_model_dir
from training.registry import LIVE_FILE, Registry, write_atomic
from webhook import db, service
from webhook.loadtest import free_port, start_gunicorn, stop_gunicorn
from webhook.metrics import Metrics
from webhook.service import ModelWatcher

from .model_helpers import copy_version
from .webhook_helpers import ATTACK, signed_post

pytest_plugins = ["tests.webhook_fixtures"]


def _version_copy(root: Path, name: str, tamper: bool = False) -> None:
    versions = root / "versions"
    count = len(list(versions.iterdir())) + 1 if versions.is_dir() else 1
    copy_version(versions / name, name, f"2026-11-23T10:00:{count:02d}Z", tamper)


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> Path:
    """Model versions ``v-a``, ``v-b``, ``v-c`` and ``v-bad`` (tampered), copied into each test's registry."""
    root = tmp_path_factory.mktemp("versions")
    for name in ("v-a", "v-b", "v-c"):
        _version_copy(root, name)
    _version_copy(root, "v-bad", tamper=True)
    return root / "versions"


@pytest.fixture
def registry(tmp_path, versions) -> Registry:
    """A registry with every version and no live one yet."""
    reg = Registry(tmp_path / "registry")
    reg.root.mkdir()
    reg.versions_dir.mkdir()
    for version in versions.iterdir():
        (reg.versions_dir / version.name).symlink_to(version, target_is_directory=True)
    return reg


def _name_live(registry: Registry, version: str) -> None:
    """Point LIVE at ``version`` past `make promote` (which would refuse a version that fails its checks)."""
    write_atomic(registry.root / LIVE_FILE, version + "\n")


def _refusals(client, version: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    line = f'moderation_model_reloads_total{{model_version="{version}",result="refused"}} '
    return float(text.split(line)[1].split()[0]) if line in text else 0.0


# A worker started while LIVE names a refused version ------------------------------------------------
@pytest.mark.parametrize("bad", ["v-bad", "v-missing", "v-renamed", "../versions/v-c"])
def test_a_worker_started_while_live_names_a_refused_version_serves_the_last_good_one(
        make_app, registry, caplog, bad):
    # v-renamed: a copy of v-a under another folder name (its manifest still says v-a): before it was
    # refused, workers loaded it, saw a version other than LIVE's and loaded it again, on every request.
    # "../versions/v-c": LIVE naming a path, which was followed out of the versions folder.
    (registry.versions_dir / "v-renamed").symlink_to(registry.versions_dir / "v-a", target_is_directory=True)
    registry.set_live("v-a", "init", "test", "first")
    registry.set_live("v-b", "promote", "test", "better")
    _name_live(registry, bad)
    with caplog.at_level(logging.ERROR, logger="webhook.service"):
        app = make_app(SCORER=None, REGISTRY=str(registry.root), RELOAD_INTERVAL=0)
    assert f"model {bad} named in {registry.root / LIVE_FILE} refused" in caplog.text
    client = app.test_client()
    assert client.get("/readyz").get_json()["model_version"] == "v-b"
    assert signed_post(client, "/v1/comments", {"id": "s-1", "text": ATTACK}).get_json()["model_version"] == "v-b"
    app.extensions["moderation"].watcher.wait()
    assert _refusals(client, bad) == 1.0  # counted once: the watcher does not load it again until LIVE changes

    registry.set_live("v-c", "promote", "test", "fixed")  # and it goes on following LIVE
    deadline = time.monotonic() + 60
    while client.get("/readyz").get_json()["model_version"] != "v-c" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.get("/readyz").get_json()["model_version"] == "v-c"


@pytest.mark.parametrize("where", ["missing", "file"])
def test_a_registry_setting_that_names_no_folder_stops_the_start(make_app, tmp_path, where):
    """It served the fallback model, and never looked at the path again (found by a review)."""
    path = tmp_path / "registry"
    if where == "file":
        path.write_text("not a registry\n")
    with pytest.raises(RuntimeError, match="cannot start: MODERATION_REGISTRY .* which is not a folder"):
        make_app(SCORER=None, REGISTRY=str(path))


def test_a_worker_started_after_live_was_deleted_says_which_version_was_live(make_app, registry, caplog):
    registry.set_live("v-a", "init", "test", "first")
    registry.set_live("v-b", "promote", "test", "better")
    (registry.root / LIVE_FILE).unlink()
    with caplog.at_level(logging.ERROR, logger="webhook.service"):
        make_app(SCORER=None, REGISTRY=str(registry.root), RELOAD_INTERVAL=0)
    assert f"{registry.root / LIVE_FILE} is missing or empty, but the registry's history says v-b is live" in caplog.text
    assert f"echo v-b > {registry.root / LIVE_FILE}" in caplog.text


def test_a_rolled_back_version_is_not_the_fallback(make_app, registry):
    registry.set_live("v-a", "init", "test", "first")
    registry.set_live("v-b", "promote", "test", "better")
    registry.rollback("test", "worse on the site")
    registry.set_live("v-c", "promote", "test", "another try")
    (registry.versions_dir / "v-c").unlink()  # gone after it went live
    app = make_app(SCORER=None, REGISTRY=str(registry.root))
    assert app.extensions["moderation"].scorer.version == "v-a"


def test_without_a_good_earlier_version_the_worker_serves_the_configured_model(make_app, registry, model):
    _name_live(registry, "v-bad")  # no history: nothing was live before it
    app = make_app(SCORER=None, REGISTRY=str(registry.root))
    assert app.extensions["moderation"].scorer.version == Scorer.load(default_model_dir()).version == model.version


def test_a_worker_with_no_model_that_loads_does_not_start(make_app, registry, tmp_path):
    _name_live(registry, "v-bad")
    with pytest.raises(RuntimeError, match=r"model v-bad named in .* was refused .*MODERATION_MODEL_DIR"):
        make_app(SCORER=None, REGISTRY=str(registry.root), MODEL_DIR=str(tmp_path / "no-model"))


def test_gunicorn_starts_while_live_names_a_refused_version(tmp_path, registry):
    registry.set_live("v-a", "init", "test", "first")
    _name_live(registry, "v-bad")
    port = free_port()
    process = start_gunicorn(port, tmp_path, None, {"MODERATION_REGISTRY": str(registry.root),
                                                    "MODERATION_WORKERS": "1"})
    try:
        answer = _wait_for(port, "/readyz", process, tmp_path / "gunicorn.log")
        assert answer == (200, "v-a")
    finally:
        stop_gunicorn(process)
    assert "model v-bad named in" in (tmp_path / "gunicorn.log").read_text()


def _wait_for(port: int, path: str, process, log: Path, timeout: float = 120.0) -> tuple[int, str | None]:
    """The first answer to GET ``path`` (status, model version), or fail if gunicorn exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=15) as response:
                return response.status, json.loads(response.read()).get("model_version")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read()).get("model_version")
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"no answer from gunicorn in {timeout:.0f} s")


# A worker started while the database does not answer ----------------------------------------------
def test_a_worker_starts_while_the_database_is_missing_and_migrates_once_it_answers(make_app, tmp_path):
    folder = tmp_path / "not-mounted-yet"
    app = make_app(f"sqlite:///{folder / 'moderation.sqlite'}")
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable: OperationalError"
    assert signed_post(client, "/v1/comments", {"id": "d-1", "text": ATTACK}).status_code == 503
    migration = app.extensions["moderation"].migration
    migration.wait()
    assert not migration.done

    folder.mkdir()
    migration.retry_s = 0  # the next request tries again at once
    client.get("/healthz")
    migration.wait()
    assert migration.done
    answer = client.get("/readyz").get_json()
    assert answer["status"] == "ready" and answer["schema_version"] == db.SCHEMA_VERSION
    assert signed_post(client, "/v1/comments", {"id": "d-1", "text": ATTACK}).status_code == 200


def test_the_start_up_log_names_the_error_not_the_url(make_app, caplog):
    url = f"postgresql+psycopg://moderation:pa55word@127.0.0.1:{free_port()}/moderation"
    with caplog.at_level(logging.INFO):
        app = make_app(url)
    assert "database unreachable at start (OperationalError" in caplog.text
    assert "pa55word" not in caplog.text and url not in caplog.text
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable: OperationalError"


@pytest.mark.parametrize("fault", ["database", "port"])
def test_a_database_url_no_wait_will_fix_stops_the_start_naming_the_setting(make_app, fault):
    """A PostgreSQL server that answers that the database does not exist, or a port no server can have: the
    service started not ready and retried every 5 s for ever (found by a review)."""
    import os

    from .webhook_fixtures import _postgres_problem
    from .webhook_helpers import POSTGRES_URL

    if fault == "database" and _postgres_problem():
        if os.environ.get("MODERATION_REQUIRE_POSTGRES"):  # CI: never a silent skip
            pytest.fail(_postgres_problem())
        pytest.skip(_postgres_problem())
    url = (POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_database_here" if fault == "database"
           else "postgresql+psycopg://postgres@127.0.0.1:99999/test")
    with pytest.raises(RuntimeError, match="cannot start: MODERATION_DATABASE_URL .* names a database that cannot be "
                                           "used: OperationalError"):
        make_app(url)


def test_a_migration_that_fails_on_a_database_that_answers_still_stops_the_start(make_app, sqlite_url):
    engine = db.make_engine(sqlite_url)
    db.migrate(engine)
    with db.transaction(engine) as conn:
        conn.execute(sa.insert(db.schema_versions).values(version=db.SCHEMA_VERSION + 1, description="from the future",
                                                          applied_at=db.now()))
    engine.dispose()
    with pytest.raises(RuntimeError, match="newer than this code"):
        make_app(sqlite_url)


def test_gunicorn_starts_while_the_database_refuses_connections(tmp_path):
    port = free_port()
    url = f"postgresql+psycopg://moderation@127.0.0.1:{free_port()}/moderation"
    process = start_gunicorn(port, tmp_path, None, {"MODERATION_DATABASE_URL": url, "MODERATION_WORKERS": "1"})
    try:
        assert _wait_for(port, "/healthz", process, tmp_path / "gunicorn.log")[0] == 200
        assert _wait_for(port, "/readyz", process, tmp_path / "gunicorn.log")[0] == 503
        assert process.poll() is None
    finally:
        stop_gunicorn(process)


# The watcher: a load overtaken by LIVE is not swapped in ----------------------------------------------
@pytest.fixture
def gated_loads(monkeypatch):
    """Model loads in the watcher that wait for their version's gate to open: the test decides when each
    one finishes (the load itself is the real one)."""
    gates: dict[str, threading.Event] = {}
    finished = []

    def gate(name: str) -> threading.Event:
        return gates.setdefault(name, threading.Event())

    class GatedScorer(Scorer):
        @classmethod
        def load(cls, directory=None):
            name = Path(directory).name
            gate(name).wait(60)
            try:
                return Scorer.load(directory)
            finally:
                finished.append(name)

    monkeypatch.setattr(service, "Scorer", GatedScorer)
    return gate, finished


def _settle(watcher: ModelWatcher, current) -> tuple:
    """Poll as requests would, each time after every load in progress; the model then served and every swap."""
    swaps = []
    for _ in range(20):
        for thread in threading.enumerate():
            if thread.name.startswith("load-model-"):  # every load, not only the one the watcher waits for
                thread.join(60)
        loaded = watcher.poll(current)
        if loaded is not None:
            current = loaded
            swaps.append(loaded.version)
    return current, swaps


def test_a_rollback_made_while_a_promotion_loads_is_not_lost(registry, gated_loads):
    gate, _finished = gated_loads
    _name_live(registry, "v-b")
    current = Scorer.load(registry.version_dir("v-b"))
    watcher = ModelWatcher(registry.root, 0, Metrics("v-b"))
    assert watcher.poll(current) is None
    _name_live(registry, "v-a")  # promote
    assert watcher.poll(current) is None  # loading v-a
    _name_live(registry, "v-b")  # roll back, before v-a is loaded
    assert watcher.poll(current) is None
    gate("v-a").set()
    served, swaps = _settle(watcher, current)
    assert served.version == "v-b" and swaps == []


def test_two_promotions_in_quick_succession_end_on_the_second(registry, gated_loads):
    gate, finished = gated_loads
    _name_live(registry, "v-a")
    current = Scorer.load(registry.version_dir("v-a"))
    watcher = ModelWatcher(registry.root, 0, Metrics("v-a"))
    _name_live(registry, "v-b")
    assert watcher.poll(current) is None  # loading v-b
    _name_live(registry, "v-c")
    assert watcher.poll(current) is None
    gate("v-c").set()  # the worst order: a load of v-c, if one was started beside v-b's, finishes first
    deadline = time.monotonic() + 2
    while "v-c" not in finished and time.monotonic() < deadline:
        time.sleep(0.01)
    gate("v-b").set()
    served, swaps = _settle(watcher, current)
    assert served.version == "v-c" and swaps[-1:] == ["v-c"]
