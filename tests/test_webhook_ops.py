"""Operations and set-up: health, readiness, metrics, the OpenAPI document, settings, start-up failures."""

import contextlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa
from flask import Flask

from webhook import config, create_app, db
from webhook.config import SETTINGS, load_config

from .webhook_helpers import ATTACK, CLEAN, ROOT, assert_error_shape, signed_post

pytest_plugins = ["tests.webhook_fixtures"]


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_the_model_and_the_database(client, model):
    answer = client.get("/readyz").get_json()
    assert answer == {"status": "ready", "model_version": model.version, "database": "ok",
                      "schema_version": db.SCHEMA_VERSION}


def test_readyz_is_503_when_the_database_does_not_answer(app, client, tmp_path):
    app.extensions["moderation"].engine = db.make_engine(f"sqlite:///{tmp_path}/no/such/dir.sqlite")
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["status"] == "not ready"


@pytest.mark.parametrize("off", [False, "false", "False", "no", "OFF", "0"])
def test_without_auto_migration_readyz_waits_for_the_migrate_command(make_app, off):
    app = make_app(AUTO_MIGRATE=off)
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503 and "flask --app webhook migrate" in response.get_json()["database"]
    result = app.test_cli_runner().invoke(args=["migrate"])
    assert result.exit_code == 0 and f"schema version {db.SCHEMA_VERSION}" in result.output
    assert client.get("/readyz").status_code == 200


def test_metrics_count_requests_latency_verdicts_and_the_model(client, model):
    signed_post(client, "/v1/comments", {"id": "m1", "text": ATTACK})
    signed_post(client, "/v1/comments", {"id": "m2", "text": CLEAN})
    client.post("/v1/comments", json={})  # a 401
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert 'moderation_requests_total{method="POST",route="/v1/comments",status="200"} 2.0' in text
    assert 'moderation_requests_total{method="POST",route="/v1/comments",status="401"} 1.0' in text
    assert 'moderation_request_duration_seconds_bucket{le="0.025",route="/v1/comments"}' in text
    assert re.search(r'moderation_verdicts_total\{action="(hold|reject)",label="personal_attack"\} 1\.0', text)
    assert 'moderation_verdicts_total{action="approve",label="none"} 1.0' in text
    assert f'moderation_model_info{{model_version="{model.version}"}} 1.0' in text


def test_made_up_methods_are_counted_as_one_series(client):
    for i in range(5):
        client.open("/v1/comments", method=f"MADEUP{i}")
    text = client.get("/metrics").get_data(as_text=True)
    assert "MADEUP" not in text
    assert 'moderation_requests_total{method="OTHER",route="(unmatched)",status="405"} 5.0' in text, text


def _flask_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_the_openapi_document_describes_every_route(app, client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    routes = {(_flask_path(rule.rule), method.lower()) for rule in app.url_map.iter_rules()
              if rule.endpoint != "static" for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes == documented


def test_errors_are_one_shape_in_the_document_too(client):
    document = client.get("/openapi.json").get_json()
    error_ref = {"$ref": "#/components/schemas/Error"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                if status.startswith("4") and not path.startswith("/v1alpha1"):
                    assert answer["content"]["application/json"]["schema"] == error_ref, (path, method, status)


def test_the_settings_table_in_the_docs_matches_the_code():
    text = (ROOT / "docs" / "connecting.md").read_text()
    rows = re.findall(r"^\| `(MODERATION_[A-Z_]+)` \| `([^`]*)` \| (.+?) \|$", text, flags=re.MULTILINE)
    assert rows, "docs/connecting.md has no settings table"
    assert [(name, default, help_) for name, default, help_ in rows] == \
        [(s.env, s.default_text, s.help) for s in SETTINGS]


def test_settings_come_from_defaults_then_the_instance_file_then_the_environment(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('SECRETS = "from-file"\nCORAL_SECRETS = "coral-from-file"\n')
    monkeypatch.setenv("MODERATION_SECRETS", "from-env-1,from-env-2")
    monkeypatch.setenv("MODERATION_MAX_BATCH", "7")
    app = Flask("settings-test", instance_path=str(tmp_path), instance_relative_config=True)
    load_config(app)
    assert config.as_list(app.config["SECRETS"]) == ["from-env-1", "from-env-2"]
    assert app.config["CORAL_SECRETS"] == "coral-from-file"
    assert app.config["MAX_BATCH"] == 7 and app.config["SIGNATURE_WINDOW"] == 300


@pytest.mark.parametrize("name,raw,kind", [("MAX_BATCH", "abc", "a number such as 100"),
                                           ("SIGNATURE_WINDOW", "5m", "a number such as 300"),
                                           ("MAX_BODY_BYTES", "2MB", "a number such as 2000000"),
                                           ("RELOAD_INTERVAL", "fast", "a number such as 1.0")])
def test_a_number_setting_that_is_no_number_is_refused_naming_it(tmp_path, monkeypatch, name, raw, kind):
    monkeypatch.setenv(f"MODERATION_{name}", raw)
    app = Flask("settings-test", instance_path=str(tmp_path), instance_relative_config=True)
    with pytest.raises(RuntimeError, match=f"cannot start: MODERATION_{name} .*must be {kind}, got '{raw}'"):
        load_config(app)


@pytest.mark.parametrize("name", ["REVIEW_COOKIE_SECURE", "AUTO_MIGRATE", "CALLBACK_THREAD"])
@pytest.mark.parametrize("raw", ["flase", "maybe", "2", "tru"])
def test_a_yes_or_no_setting_that_is_neither_is_refused_naming_it(tmp_path, monkeypatch, name, raw):
    """A typo is not read as yes: MODERATION_REVIEW_COOKIE_SECURE=flase would keep the HTTPS-only cookie on."""
    monkeypatch.setenv(f"MODERATION_{name}", raw)
    app = Flask("settings-test", instance_path=str(tmp_path), instance_relative_config=True)
    with pytest.raises(RuntimeError, match=f"cannot start: MODERATION_{name} .*must be true or false.*, got '?{raw}'?"):
        load_config(app)


@pytest.mark.parametrize("raw,expected", [("false", False), ("False", False), ("0", False), ("no", False),
                                          ("OFF", False), ("", True), ("true", True), ("1", True), ("Yes", True),
                                          ("on", True)])
def test_a_yes_or_no_setting_is_read_as_a_bool(tmp_path, monkeypatch, raw, expected):
    """Set but empty, a setting keeps its default (both here default to true), as an unset one does."""
    monkeypatch.setenv("MODERATION_REVIEW_COOKIE_SECURE", raw)
    (tmp_path / "config.py").write_text(f"AUTO_MIGRATE = {raw!r}\n")
    app = Flask("settings-test", instance_path=str(tmp_path), instance_relative_config=True)
    load_config(app)
    assert app.config["REVIEW_COOKIE_SECURE"] is expected and app.config["AUTO_MIGRATE"] is expected


def test_a_number_setting_keeps_its_type_from_the_instance_file(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('MAX_BATCH = "50"\nRELOAD_INTERVAL = 2\nCALLBACK_BACKOFF = "0.2"\n')
    app = Flask("settings-test", instance_path=str(tmp_path), instance_relative_config=True)
    load_config(app)
    assert app.config["MAX_BATCH"] == 50 and app.config["RELOAD_INTERVAL"] == 2
    assert app.config["CALLBACK_BACKOFF"] == 0.2  # a fraction of a second where the setting takes one


@pytest.mark.parametrize("raw", ["1.50", "null", "true", "1e5", "0012"])
def test_text_settings_are_taken_from_the_environment_exactly_as_written(tmp_path, monkeypatch, raw):
    # Flask's JSON reading of the environment would make these 1.5, None, True, 100000.0 and 12.
    for name in ("SECRETS", "CORAL_SECRETS", "PERSPECTIVE_KEYS"):
        monkeypatch.setenv(f"MODERATION_{name}", raw)
    monkeypatch.setenv("MODERATION_MAX_BATCH", "7")
    app = Flask("settings-test", instance_path=str(tmp_path), instance_relative_config=True)
    load_config(app)
    for name in ("SECRETS", "CORAL_SECRETS", "PERSPECTIVE_KEYS"):
        assert config.as_list(app.config[name]) == [raw]
    assert app.config["MAX_BATCH"] == 7, "numbers are still read as numbers"


@pytest.mark.parametrize("name,raw", [("DB_TIMEOUT", "-1"), ("MAX_BATCH", "-5"), ("DB_TIMEOUT", "inf"),
                                      ("CALLBACK_TIMEOUT", "nan")])
def test_a_negative_or_endless_number_setting_is_refused_naming_it(tmp_path, monkeypatch, name, raw):
    monkeypatch.setenv(f"MODERATION_{name}", raw)
    app = Flask("settings-test", instance_path=str(tmp_path), instance_relative_config=True)
    with pytest.raises(RuntimeError, match=f"cannot start: MODERATION_{name} .*must (not be negative|be a number)"):
        load_config(app)


@pytest.mark.parametrize("name,raw,allowed", [
    ("MAX_BODY_BYTES", "0", "at least 1"), ("MAX_BATCH", "0", "at least 1"), ("WORKERS", "0", "at least 1"),
    ("CALLBACK_MAX_ATTEMPTS", "0", "at least 1"), ("CALLBACK_TIMEOUT", "0", "from 0.01 to 3,600"),
    ("DB_TIMEOUT", "1e308", "from 0 to 86,400"), ("REVIEW_SESSION_HOURS", "1e11", "from 0.01 to 8,784"),
    ("SIGNATURE_WINDOW", "0", "from 1 to 86,400"),
])
def test_a_number_that_would_switch_its_feature_off_or_overflow_is_refused_naming_it(tmp_path, monkeypatch, name, raw,
                                                                                      allowed):
    """MAX_BODY_BYTES=0 answered every POST 413 while ready; CALLBACK_TIMEOUT=0 failed every callback for 48 h;
    DB_TIMEOUT=1e308 and REVIEW_SESSION_HOURS=1e11 were tracebacks at start (found by a review)."""
    monkeypatch.setenv(f"MODERATION_{name}", raw)
    app = Flask("settings-test", instance_path=str(tmp_path), instance_relative_config=True)
    with pytest.raises(RuntimeError, match=f"cannot start: MODERATION_{name} .*must be {allowed}, got "):
        load_config(app)


def test_a_password_in_a_refused_callback_url_is_not_repeated(monkeypatch, tmp_path):
    with pytest.raises(RuntimeError) as refused:
        _callback_settings(monkeypatch, tmp_path, "https://user:hunter2@cms.example:99999/cb", secrets="s1")
    assert "hunter2" not in str(refused.value) and "https://***@cms.example:99999/cb" in str(refused.value)


def _callback_settings(monkeypatch, tmp_path, url, secrets="", callback_secret=""):
    """An app's settings read with these callback settings (and no other secrets) in the environment."""
    monkeypatch.setenv("MODERATION_CALLBACK_URL", url)
    monkeypatch.setenv("MODERATION_SECRETS", secrets)
    monkeypatch.setenv("MODERATION_CALLBACK_SECRET", callback_secret)
    app = Flask("settings-test", instance_path=str(tmp_path), instance_relative_config=True)
    load_config(app)
    return app.config


@pytest.mark.parametrize("url", ["cms.example.com/cb", "ftp://127.0.0.1/cb", "http://127.0.0.1:99999/cb",
                                 "http://127.0.0.1:0/cb", "http:///cb", "https://cms.example.com/a b",
                                 "localhost:8080/cb"])
def test_a_callback_url_that_no_callback_could_reach_stops_the_start_naming_it(monkeypatch, tmp_path, url):
    with pytest.raises(RuntimeError, match="cannot start: MODERATION_CALLBACK_URL .*must be an http:// or https:// "
                                           "URL with a host.*got '"):
        _callback_settings(monkeypatch, tmp_path, url, secrets="s1")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/cb", "https://cms.example.com/moderation-callback?site=a",
                                 "http://[::1]:9/cb", "HTTPS://CMS.example.com"])
def test_an_http_or_https_callback_url_is_accepted(monkeypatch, tmp_path, url):
    assert _callback_settings(monkeypatch, tmp_path, url, secrets="s1")["CALLBACK_URL"] == url


def test_a_callback_url_without_a_secret_to_sign_with_stops_the_start_naming_it(monkeypatch, tmp_path):
    with pytest.raises(RuntimeError, match="cannot start: MODERATION_CALLBACK_URL is set but no secret signs "
                                           "callbacks: set MODERATION_CALLBACK_SECRET .*or MODERATION_SECRETS"):
        _callback_settings(monkeypatch, tmp_path, "https://cms.example.com/cb", secrets=" , ")
    assert _callback_settings(monkeypatch, tmp_path, "https://cms.example.com/cb", callback_secret="c1")
    assert _callback_settings(monkeypatch, tmp_path, "https://cms.example.com/cb", secrets="s1")
    assert _callback_settings(monkeypatch, tmp_path, "", secrets="")["CALLBACK_URL"] == "", "no callbacks, no secret needed"


@contextlib.contextmanager
def _database_locked(url: str):
    """Another program holding the database's write lock (SQLite) or an exclusive lock on the comments
    table (PostgreSQL), as a long migration, a backup or a stuck session would."""
    if url.startswith("sqlite"):
        holder = sqlite3.connect(sa.engine.make_url(url).database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            # Should the request wait without limit, the lock goes after 20 s and the test fails, not hangs.
            conn.execute(sa.text("SET idle_in_transaction_session_timeout = '20s'"))
            conn.execute(sa.text("LOCK TABLE comments, verdicts IN ACCESS EXCLUSIVE MODE"))
            yield
            conn.rollback()
    finally:
        engine.dispose()


def test_a_locked_database_gets_the_503_within_the_statement_limit_and_loses_nothing(make_app, database_url):
    client = make_app(database_url, DB_TIMEOUT=1).test_client()
    assert signed_post(client, "/v1/comments", {"id": "c0", "text": CLEAN}).status_code == 200
    with _database_locked(database_url):
        started = time.monotonic()
        response = signed_post(client, "/v1/comments", {"id": "c1", "text": ATTACK})
        waited = time.monotonic() - started
    assert_error_shape(response, 503)
    # Before MODERATION_DB_TIMEOUT the request waited 30 s (SQLite) or for ever (PostgreSQL), and gunicorn
    # killed the worker at 30 s with an HTML 500.
    assert waited < 10, waited
    again = signed_post(client, "/v1/comments", {"id": "c1", "text": ATTACK})
    assert again.status_code == 200 and again.get_json()["action"] in ("hold", "reject")
    assert signed_post(client, "/v1/comments", {"id": "c0", "text": CLEAN}).get_json()["action"] == "approve"


def test_a_migration_waits_longer_for_the_sqlite_write_lock_than_a_request_does(make_app, sqlite_url):
    """Another worker migrating (here: holding the write lock for 2 s) must not stop this one's start,
    whatever MODERATION_DB_TIMEOUT a request is given."""
    make_app(sqlite_url).extensions["moderation"].engine.dispose()  # the database exists, in WAL mode
    holder = sqlite3.connect(sa.engine.make_url(sqlite_url).database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(2.0, lambda: holder.execute("ROLLBACK"))
    release.start()
    try:
        app = make_app(sqlite_url, DB_TIMEOUT=1)
    finally:
        release.join()
        holder.close()
    assert app.test_client().get("/readyz").get_json()["status"] == "ready"


@pytest.mark.parametrize("value,expected", [
    ("a, b,,c", ["a", "b", "c"]), (["a", " b "], ["a", "b"]), (12345, ["12345"]), (None, []), ("", [])])
def test_list_settings_accept_strings_lists_and_numbers(value, expected):
    assert config.as_list(value) == expected


def test_a_model_that_cannot_load_stops_the_service_with_a_clear_message(tmp_path, sqlite_url):
    with pytest.raises(RuntimeError, match="could not be loaded.*MODERATION_MODEL_DIR"):
        create_app({"MODEL_DIR": str(tmp_path / "no-model"), "DATABASE_URL": sqlite_url})


@pytest.mark.parametrize("overrides,match", [
    ({"POLICY": "/no/such/policy.toml"}, "not found"),
    ({"SITE_POLICIES": "site-without-a-path"}, "site_id=path"),
])
def test_a_bad_policy_stops_the_service_with_a_clear_message(make_app, overrides, match):
    with pytest.raises(RuntimeError, match=match):
        make_app(**overrides)


_IMPORT_PROBE = """
import os, sqlalchemy
from moderation.scorer import Scorer

def forbidden(*args, **kwargs):
    raise SystemExit("work done at import time")

Scorer.load = classmethod(forbidden)
sqlalchemy.create_engine = forbidden
os.makedirs = forbidden
import webhook, webhook.api, webhook.coral, webhook.perspective, webhook.ops, webhook.db, webhook.loadtest
import webhook.gunicorn_conf
print("ok")
"""


def test_importing_the_service_loads_nothing():
    done = subprocess.run([sys.executable, "-c", _IMPORT_PROBE], capture_output=True, text=True, timeout=120, check=False,
                          cwd=ROOT)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_the_openapi_document_is_json_serialisable_and_stable(app):
    assert json.loads(json.dumps(app.config["OPENAPI"])) == app.config["OPENAPI"]


def test_a_dead_worker_s_model_version_leaves_the_model_gauge(tmp_path):
    """Workers share metrics through files: a worker that died scoring with an old version must not keep
    that version at 1 once gunicorn marks it dead (as gunicorn_conf.child_exit does)."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    worker = "from webhook.metrics import Metrics; import os; Metrics('{}'); print(os.getpid())"
    dead = subprocess.run([sys.executable, "-c", worker.format("old-version")], env=env, capture_output=True,
                          text=True, check=True, cwd=ROOT).stdout.strip()
    subprocess.run([sys.executable, "-c", worker.format("new-version")], env=env, check=True, cwd=ROOT)
    render = ("from prometheus_client import multiprocess; from webhook.metrics import Metrics; "
              f"multiprocess.mark_process_dead({dead}); import sys; "
              "sys.stdout.write(Metrics.render(None).decode())")
    text = subprocess.run([sys.executable, "-c", render], env=env, capture_output=True, text=True, check=True,
                          cwd=ROOT).stdout
    assert 'moderation_model_info{model_version="old-version"}' not in text
    assert 'moderation_model_info{model_version="new-version"} 1.0' in text  # not marked dead: still counted


def test_a_policy_label_the_model_does_not_score_is_logged_at_start(caplog):
    """A spam clause with a model trained before the spam head never fires: the service says so."""
    from types import SimpleNamespace

    from moderation.labels import HEADS
    from moderation.policy import load_policy
    from webhook.service import warn_unscored_labels

    policy = load_policy(ROOT / "data" / "policy.toml")
    old = SimpleNamespace(version="old-model", violation=SimpleNamespace(heads=tuple(h for h in HEADS if h != "spam")))
    with caplog.at_level("WARNING"):
        assert warn_unscored_labels(old, [policy]) == ["example-news: spam"]
    assert "old-model gives no score for these policy labels" in caplog.text
    assert warn_unscored_labels(SimpleNamespace(version="new", violation=SimpleNamespace(heads=HEADS)), [policy]) == []


def test_the_service_warns_at_start_when_its_model_lacks_a_head_the_policy_acts_on(make_app, model, caplog):
    import copy

    old = copy.copy(model)
    old.violation = copy.copy(model.violation)
    old.violation.heads = tuple(h for h in model.violation.heads if h != "spam")  # as a model from before spam
    with caplog.at_level("WARNING", logger="webhook.service"):
        make_app(SCORER=old)
    assert "gives no score for these policy labels" in caplog.text and "example-news: spam" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="webhook.service"):
        make_app()
    assert "gives no score for these policy labels" not in caplog.text


@pytest.mark.parametrize("raw", ["0", "-1"])
def test_gunicorn_without_a_worker_is_refused_naming_the_setting(monkeypatch, raw):
    """MODERATION_WORKERS=0 gave a gunicorn that listened with no worker to answer (found by a review)."""
    import runpy
    from pathlib import Path

    monkeypatch.setenv("MODERATION_WORKERS", raw)
    conf = Path(__file__).resolve().parent.parent / "webhook" / "gunicorn_conf.py"
    with pytest.raises(SystemExit, match=f"MODERATION_WORKERS must be 1 or more, got '{raw}'"):
        runpy.run_path(str(conf))


def test_a_misspelt_setting_is_named_in_a_warning_at_start(tmp_path, monkeypatch, caplog):
    """MODERATION_CORAL_SECRET (for CORAL_SECRETS) left the setting at its default without a word."""
    import logging

    monkeypatch.setenv("MODERATION_CORAL_SECRET", "s3cret")
    monkeypatch.setenv("MODERATION_DATASETS", "/data")  # read by training, not the service: no warning
    app = Flask("settings-test", instance_path=str(tmp_path), instance_relative_config=True)
    with caplog.at_level(logging.WARNING, logger="webhook.config"):
        load_config(app)
    assert ("MODERATION_CORAL_SECRET is not a setting of the service and is ignored (did you mean "
            "MODERATION_CORAL_SECRETS?)") in caplog.text
    assert "MODERATION_DATASETS" not in caplog.text
