"""The real thing: `make serve`'s gunicorn command in a subprocess on a free loopback port."""

import json
import socket
import threading
import urllib.error
import urllib.request

import pytest

from webhook.loadtest import free_port, start_gunicorn, stop_gunicorn, wait_ready
from webhook.signing import hmac_hex

from .webhook_helpers import CORAL_SECRETS, coral_fixture

pytest_plugins = ["tests.webhook_fixtures"]


def _get(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.status, response.read()


def _post(port: int, path: str, body: bytes, headers: dict):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory, model):
    folder = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    process = start_gunicorn(port, folder, model.directory, {"MODERATION_CORAL_SECRETS": CORAL_SECRETS[0]})
    try:
        wait_ready(port, process, log=folder / "gunicorn.log")
        yield port, folder
    finally:
        stop_gunicorn(process)


def test_gunicorn_starts_and_is_ready(server, model):
    port, _ = server
    status, body = _get(port, "/readyz")
    answer = json.loads(body)
    assert status == 200 and answer["status"] == "ready" and answer["model_version"] == model.version


def test_gunicorn_answers_a_coral_request(server):
    port, _ = server
    body, signature = coral_fixture("new-reply-attack")
    status, answer = _post(port, "/coral/moderate", body, {"X-Coral-Signature": signature})
    assert status == 200 and json.loads(answer)["status"] in ("SYSTEM_WITHHELD", "REJECTED")
    clean, clean_signature = coral_fixture("edit-clean")
    assert _post(port, "/coral/moderate", clean, {"X-Coral-Signature": clean_signature}) == (204, b"")
    assert _post(port, "/coral/moderate", body, {"X-Coral-Signature": "sha256=00"})[0] == 401


def _post_chunked(port: int, path: str, body: bytes, headers: dict):
    """POST ``body`` with Transfer-Encoding: chunked, reading the answer while the body is still going out."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": "127.0.0.1", "Transfer-Encoding": "chunked",
                                                      "Content-Type": "application/json", **headers}.items())

        def send():
            try:
                sock.sendall(f"POST {path} HTTP/1.1\r\n{head}\r\n".encode())
                for i in range(0, len(body), 65536):
                    part = body[i:i + 65536]
                    sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                sock.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the server answered (413) and closed before reading it all

        sender = threading.Thread(target=send)
        sender.start()
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        sender.join()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def test_gunicorn_refuses_a_chunked_body_over_the_limit_instead_of_cutting_it(server):
    request = json.loads(coral_fixture("new-reply-attack")[0])
    request["comment"]["body"] = "word " * 600_000  # 3 MB, over the default 2 MB limit
    big = json.dumps(request).encode()
    status, answer = _post_chunked(server[0], "/coral/moderate", big, {"X-Coral-Signature": _sign(big)})
    assert status == 413 and json.loads(answer)["error"]["code"] == "payload_too_large"
    body, signature = coral_fixture("new-reply-attack")
    status, answer = _post_chunked(server[0], "/coral/moderate", body, {"X-Coral-Signature": signature})
    assert status == 200 and json.loads(answer)["status"] in ("SYSTEM_WITHHELD", "REJECTED")


def _sign(body: bytes) -> str:
    return f"sha256={hmac_hex(CORAL_SECRETS[0], body)}"


def test_gunicorn_workers_share_their_metrics(server):
    port, _ = server
    for _ in range(4):
        _get(port, "/healthz")
    text = _get(port, "/metrics")[1].decode()
    assert 'moderation_requests_total{method="GET",route="/healthz",status="200"} 4.0' in text


def test_gunicorn_does_not_start_without_a_model(tmp_path):
    port = free_port()
    process = start_gunicorn(port, tmp_path, tmp_path / "no-model")
    try:
        with pytest.raises(RuntimeError, match="exited"):
            wait_ready(port, process, timeout=120, log=tmp_path / "gunicorn.log")
        assert "could not be loaded" in (tmp_path / "gunicorn.log").read_text()
    finally:
        stop_gunicorn(process)


def test_load_test_summary_takes_medians_over_runs_and_sums_errors():
    from webhook.loadtest import summarise

    runs = [{"rate": 200, "sent": 2000, "errors": e, "p50_ms": p50, "p99_ms": p99}
            for e, p50, p99 in ((0, 8.0, 20.0), (1, 9.0, 40.0), (0, 7.0, 18.0))]
    runs.append({"rate": 400, "sent": 4000, "errors": 4000, "p50_ms": None, "p99_ms": None})
    by_rate = {r["rate"]: r for r in summarise(runs)}
    assert by_rate[200] == {"rate": 200, "runs": 3, "sent": 6000, "errors": 1, "p50_ms": 8.0, "p99_ms": 20.0,
                            "p99_min_ms": 18.0, "p99_max_ms": 40.0}
    assert by_rate[400]["p99_ms"] is None and by_rate[400]["errors"] == 4000


def test_load_sender_gets_answers_from_gunicorn(server):
    from webhook.loadtest import send

    result = send(server[0], rate=50, duration=0.4, run="sender-test")
    assert result["sent"] == 20 and result["errors"] == 0
    assert 0 < result["p50_ms"] <= result["p99_ms"] < 5000
    assert result["sender_cpu_ms_per_request"] > 0


def test_load_sender_counts_refused_connections_as_errors():
    from webhook.loadtest import send

    result = send(free_port(), rate=50, duration=0.2, run="nobody-listens")
    assert result == {**result, "sent": 10, "errors": 10, "p50_ms": None, "p99_ms": None}
