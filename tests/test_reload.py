"""Hot reload: the service follows the registry's LIVE file without a restart, in every worker.

In process (a Flask app on a registry) and against the real thing: `make serve`'s gunicorn with two
workers, requests sent continuously while a version is promoted, rolled back, and a tampered
version is named live.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from training.registry import LIVE_FILE, Registry, write_atomic
from webhook.loadtest import free_port, start_gunicorn, stop_gunicorn, wait_ready
from webhook.signing import native_headers

from .model_helpers import copy_version
from .webhook_helpers import ATTACK, SECRETS, signed_post

pytest_plugins = ["tests.webhook_fixtures"]


def _version_copy(registry: Registry, name: str, tamper: bool = False) -> str:
    return copy_version(registry.version_dir(name), name, f"2026-11-23T10:00:{len(registry.versions()):02d}Z", tamper)


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Registry:
    """A registry whose live version is ``v-a``, with ``v-b`` (a candidate) and ``v-bad`` (tampered)."""
    reg = Registry(tmp_path_factory.mktemp("reload") / "registry")
    for name in ("v-a", "v-b"):
        _version_copy(reg, name)
    _version_copy(reg, "v-bad", tamper=True)
    reg.set_live("v-a", "init", "test", "first")
    return reg


def _reset(registry: Registry) -> None:
    if registry.live() != "v-a":
        registry.set_live("v-a", "promote", "test", "reset")


# In process ------------------------------------------------------------------------------------------
def _wait_for_version(client, version: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get("/readyz").get_json()["model_version"] == version:
            return
        time.sleep(0.05)
    raise AssertionError(f"the app never switched to {version}")


def test_the_app_follows_promotion_and_rollback_between_requests(make_app, registry, monkeypatch):
    from webhook import service as service_module

    checked = []  # each model the worker swaps in is checked against the policies' labels
    monkeypatch.setattr(service_module, "warn_unscored_labels", lambda scorer, policies: checked.append(scorer.version))
    _reset(registry)
    app = make_app(SCORER=None, REGISTRY=str(registry.root), RELOAD_INTERVAL=0)
    client = app.test_client()
    assert client.get("/readyz").get_json()["model_version"] == "v-a"
    registry.set_live("v-b", "promote", "test", "better")
    _wait_for_version(client, "v-b")
    verdict = signed_post(client, "/v1/comments", {"id": "r-1", "text": ATTACK}).get_json()
    assert verdict["model_version"] == "v-b"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'moderation_model_info{model_version="v-b"} 1.0' in metrics
    assert 'moderation_model_info{model_version="v-a"} 0.0' in metrics
    assert 'moderation_model_reloads_total{model_version="v-b",result="loaded"} 1.0' in metrics
    registry.rollback("test", "worse on the site")
    _wait_for_version(client, "v-a")
    assert checked == ["v-a", "v-b", "v-a"]  # at start, then on each swap


def test_a_tampered_version_is_refused_and_the_old_model_stays(make_app, registry):
    _reset(registry)
    app = make_app(SCORER=None, REGISTRY=str(registry.root), RELOAD_INTERVAL=0)
    client = app.test_client()
    write_atomic(registry.root / LIVE_FILE, "v-bad\n")  # past `make promote`, which would refuse it
    client.get("/healthz")
    app.extensions["moderation"].watcher.wait()
    for _ in range(3):
        assert client.get("/readyz").get_json()["model_version"] == "v-a"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'moderation_model_reloads_total{model_version="v-bad",result="refused"} 1.0' in metrics
    assert signed_post(client, "/v1/comments", {"id": "r-2", "text": ATTACK}).get_json()["model_version"] == "v-a"
    _reset(registry)


def test_promote_refuses_a_version_that_fails_its_checks(registry):
    from training.registry import RegistryError

    with pytest.raises(RegistryError, match="fails its checks"):
        registry.set_live("v-bad", "promote", "test", "")
    assert registry.live() != "v-bad"


def test_without_a_registry_the_service_never_reloads(app):
    assert app.extensions["moderation"].watcher is None


# Against gunicorn with two workers -------------------------------------------------------------------
class _Traffic:
    """Two threads posting signed comments without pause; every answer's status and model version kept,
    with the time its request was sent (a thread can append an answer well after the server sent it,
    so "answers after a point" is decided by when the request left, not by the list's length)."""

    def __init__(self, port: int):
        self.port, self.answers, self.stop = port, [], threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(2)]

    def _run(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            body = json.dumps({"id": f"t{n}-{i}", "text": ATTACK}).encode()
            request = urllib.request.Request(f"http://127.0.0.1:{self.port}/v1/comments", data=body, method="POST",
                                             headers={"Content-Type": "application/json",
                                                      **native_headers(SECRETS[0], body)})
            sent = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    self.answers.append((response.status, json.loads(response.read())["model_version"], sent))
            except urllib.error.HTTPError as error:
                self.answers.append((error.code, None, sent))
            except OSError as error:
                self.answers.append((0, repr(error), sent))

    def versions_sent_after(self, moment: float) -> set:
        """The model versions that answered requests sent after ``moment`` (``time.monotonic()``)."""
        return {v for _, v, sent in list(self.answers) if sent > moment}

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


def _metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def _gauge(text: str, version: str) -> float | None:
    match = re.search(rf'^moderation_model_info\{{model_version="{re.escape(version)}"\}} (\S+)$', text, re.MULTILINE)
    return float(match.group(1)) if match else None


def _wait_all_workers(port: int, new: str, old: str, timeout: float = 90.0) -> None:
    """Until every worker scores with ``new``: the gauge is the max over workers, so ``old`` reads 0."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = _metrics(port)
        if _gauge(text, new) == 1.0 and _gauge(text, old) in (0.0, None):
            return
        time.sleep(0.2)
    raise AssertionError(f"not every worker switched from {old} to {new}:\n" + "\n".join(
        line for line in _metrics(port).splitlines() if "model" in line))


@pytest.fixture
def server(tmp_path, registry):
    _reset(registry)
    port = free_port()
    process = start_gunicorn(port, tmp_path, None, {
        "MODERATION_REGISTRY": str(registry.root), "MODERATION_RELOAD_INTERVAL": "0.2",
        "MODERATION_SECRETS": SECRETS[0], "MODERATION_WORKERS": "2"})
    try:
        wait_ready(port, process, log=tmp_path / "gunicorn.log")
        yield port, Path(tmp_path / "gunicorn.log")
    finally:
        stop_gunicorn(process)
        _reset(registry)


def test_gunicorn_workers_follow_promote_rollback_and_refuse_a_tampered_version(server, registry):
    port, log = server
    with _Traffic(port) as traffic:
        time.sleep(1)
        registry.set_live("v-b", "promote", "test", "better")
        _wait_all_workers(port, "v-b", "v-a")
        promoted_at = time.monotonic()
        time.sleep(1)
        assert traffic.versions_sent_after(promoted_at) == {"v-b"}

        registry.rollback("test", "worse on the site")
        _wait_all_workers(port, "v-a", "v-b")
        rolled_back_at = time.monotonic()

        write_atomic(registry.root / LIVE_FILE, "v-bad\n")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _metrics(port).count('model_version="v-bad",result="refused"') == 0:
            time.sleep(0.2)
        time.sleep(2)
        text = _metrics(port)
    refused = re.findall(r'moderation_model_reloads_total\{model_version="v-bad",result="refused"\} (\S+)', text)
    assert refused and float(refused[0]) >= 1.0
    assert _gauge(text, "v-a") == 1.0 and _gauge(text, "v-b") == 0.0 and _gauge(text, "v-bad") is None
    assert traffic.versions_sent_after(rolled_back_at) == {"v-a"}
    statuses = [s for s, _, _ in traffic.answers]
    assert len(statuses) > 50 and set(statuses) == {200}, [a for a in traffic.answers if a[0] != 200][:5]
    assert "refused, keeping the current model" in log.read_text()
