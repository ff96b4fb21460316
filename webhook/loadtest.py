"""Load test: gunicorn on loopback, signed native requests at fixed rates from a second process.

``python -m webhook.loadtest`` prints the rows; ``make bench`` calls :func:`service_rows`. The
sender is open-loop: request ``i`` is due at ``start + i / rate`` whether or not earlier ones have
been answered, and its latency is counted from when it was due, so a slow server cannot hide its
queueing by slowing the sender down. Every request is a new comment, so each one is scored,
decided and durably stored. Traffic never leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import errno
import functools
import json
import os
import random
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from .signing import native_headers

__all__ = ["RATES", "TARGET_P99_MS", "service_rows"]

RATES = (100, 200, 400)
DURATION_S = 10.0
REPEATS = 5
TARGET_P99_MS = 25.0
_SECRET = "loadtest-secret"
_REQUEST_TIMEOUT_S = 5.0
_ROOT = Path(__file__).resolve().parent.parent
# What the requests carry: the project corpus's comments (data/corpus, in a fixed shuffled order: median about
# 114 characters, threads, insults, spam, other languages); these eight where the repository's data is not there.
_FALLBACK_TEXTS = (
    "I think the council got this one right, the new lanes are long overdue.",
    "Nobody cycles on Main Street anyway, this is a waste of money.",
    "What a stupid decision by these idiots at the town hall.",
    "The shops will lose customers if the parking goes, has anyone asked them?",
    "Great reporting, thanks for explaining the budget so clearly.",
    "You clearly didn't read the article, you absolute moron.",
    "My kids could finally ride to school safely. Good news.",
    "The consultation was a sham and everyone knows it.",
)


@functools.lru_cache(maxsize=1)
def _texts() -> tuple[str, ...]:
    files = sorted((_ROOT / "data" / "corpus").glob("comments-*.jsonl"))
    texts = [json.loads(line)["text"] for path in files
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(0).shuffle(texts)
    return tuple(texts) or _FALLBACK_TEXTS


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The sender (runs in its own process) ----------------------------------------------------------------
def _request_bytes(port: int, index: int, run: str) -> bytes:
    texts = _texts()
    text = texts[index % len(texts)]
    body = json.dumps({"id": f"{run}-{index}", "text": text, "article_id": "loadtest-article",
                       "author_id": f"reader-{index % 50}"}).encode()
    headers = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json", "Content-Length": str(len(body)),
               "Connection": "close", **native_headers(_SECRET, body)}
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"POST /v1/comments HTTP/1.1\r\n{head}\r\n".encode() + body


class _Request:
    """One request in flight: its socket, when it was due, what is left to send, what came back."""

    __slots__ = ("answer", "due", "out", "sock")

    def __init__(self, sock: socket.socket, due: float, payload: bytes):
        self.sock, self.due, self.out, self.answer = sock, due, memoryview(payload), bytearray()


def _status(answer: bytes) -> int:
    try:
        return int(answer.split(b"\r\n", 1)[0].split()[1])
    except (IndexError, ValueError):
        return 0


def send(port: int, rate: float, duration: float, run: str) -> dict:
    """Send ``rate * duration`` signed requests open-loop and summarise the answers.

    One thread, non-blocking sockets and one epoll/select loop: the sender shares this machine's
    two cores with the server, so it must cost little per request (an asyncio sender with
    streams cost about 3 ms of CPU per request, half a core at 200 req/s). A request is done when
    the server closes the connection after its answer; latency runs from when it was due.
    """
    count = int(rate * duration)
    payloads = [_request_bytes(port, i, run) for i in range(count)]
    selector = selectors.DefaultSelector()
    results: list[tuple[float, int]] = []
    in_flight: dict[socket.socket, _Request] = {}

    def finish(request: _Request, status: int) -> None:
        selector.unregister(request.sock)
        request.sock.close()
        del in_flight[request.sock]
        results.append(((time.perf_counter() - request.due) * 1000, status))

    start = time.perf_counter() + 0.2
    cpu_before = time.process_time()
    issued = 0
    while issued < count or in_flight:
        now = time.perf_counter()
        while issued < count and start + issued / rate <= now:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            request = _Request(sock, start + issued / rate, payloads[issued])
            issued += 1
            in_flight[sock] = request
            selector.register(sock, selectors.EVENT_WRITE, request)
            if sock.connect_ex(("127.0.0.1", port)) not in (0, errno.EINPROGRESS):
                finish(request, 0)
        wait = (start + issued / rate - now) if issued < count else 0.05
        for key, events in selector.select(timeout=max(0.0, min(wait, 0.05))):
            request = key.data
            try:
                if events & selectors.EVENT_WRITE:
                    request.out = request.out[request.sock.send(request.out):]
                    if not request.out:
                        selector.modify(request.sock, selectors.EVENT_READ, request)
                elif chunk := request.sock.recv(65536):
                    request.answer += chunk
                else:  # the server closed the connection: the answer is complete
                    finish(request, _status(request.answer))
            except OSError:
                finish(request, 0)
        late = time.perf_counter() - _REQUEST_TIMEOUT_S
        for request in [r for r in in_flight.values() if r.due < late]:
            finish(request, 0)
    cpu = time.process_time() - cpu_before
    selector.close()
    elapsed = time.perf_counter() - start
    latencies = sorted(ms for ms, status in results if status == 200)
    errors = sum(1 for _, status in results if status != 200)
    return {"rate": rate, "sent": count, "errors": errors, "seconds": round(elapsed, 2),
            "p50_ms": _quantile(latencies, 0.50), "p99_ms": _quantile(latencies, 0.99),
            "sender_cpu_ms_per_request": round(cpu * 1000 / max(count, 1), 3)}


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


# The server and the measurement ------------------------------------------------------------------------
class _MemoryWatch(threading.Thread):
    """Samples the summed RSS of gunicorn's master and workers; keeps the peak."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self._stop_event = pid, 0, threading.Event()

    def run(self) -> None:
        import psutil

        master = psutil.Process(self.pid)
        while not self._stop_event.wait(0.1):
            try:
                procs = [master, *master.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def _signed_post(port: int, path: str, payload: dict) -> None:
    body = json.dumps(payload).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST",
                                     headers={"Content-Type": "application/json", **native_headers(_SECRET, body)})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 180.0, log: Path | None = None) -> None:
    """Wait until /readyz answers 200, or fail if the server exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"gunicorn exited with status {process.returncode} before it was ready:\n{tail}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"gunicorn was not ready after {timeout:.0f} s")


def start_gunicorn(port: int, folder: Path, model_dir=None, extra_env: dict | None = None) -> subprocess.Popen:
    """Start ``make serve``'s command on a loopback port with a SQLite database in ``folder``."""
    env = {**os.environ, "MODERATION_BIND": f"127.0.0.1:{port}",
           "MODERATION_DATABASE_URL": f"sqlite:///{folder / 'moderation.sqlite'}",
           "MODERATION_SECRETS": _SECRET, "MODERATION_MODEL_DIR": str(model_dir or ""),
           **(extra_env or {})}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # gunicorn_conf.py makes a fresh one
    command = [sys.executable, "-m", "gunicorn", "-c", str(_ROOT / "webhook" / "gunicorn_conf.py"),
               "webhook:create_app()"]
    with open(folder / "gunicorn.log", "wb") as log:  # a file, not a pipe: a full pipe would stall the server
        return subprocess.Popen(command, cwd=_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop_gunicorn(process: subprocess.Popen) -> None:
    """Stop gunicorn gracefully, and make sure no worker outlives it."""
    import psutil

    try:
        workers = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        workers = []
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    _gone, alive = psutil.wait_procs(workers, timeout=10)
    for worker in alive:
        worker.kill()


def _wait_idle(pid: int, timeout: float = 60.0) -> None:
    """Wait until gunicorn's workers have worked off any backlog (under 5% CPU over half a second)."""
    import psutil

    deadline = time.monotonic() + timeout
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    while time.monotonic() < deadline:
        before = sum(sum(p.cpu_times()[:2]) for p in procs)
        time.sleep(0.5)
        if sum(sum(p.cpu_times()[:2]) for p in procs) - before < 0.025:
            return


def measure(model_dir=None, rates=RATES, duration: float = DURATION_S, repeats: int = REPEATS) -> dict:
    """Run the load test ``repeats`` times (each time every rate, in turn); raw results and peak memory.

    Between runs the server is left to work off any backlog, so an overloaded run cannot spill into
    the next one.
    """
    with tempfile.TemporaryDirectory(prefix="moderation-load-") as tmp:
        port = free_port()
        server = start_gunicorn(port, Path(tmp), model_dir)
        try:
            wait_ready(port, server, log=Path(tmp) / "gunicorn.log")
            _signed_post(port, "/v1/articles", {"id": "loadtest-article", "title": "Council approves cycle lanes",
                                                "body": "The council voted to build protected cycle lanes on Main "
                                                        "Street, removing forty parking spaces."})
            watch = _MemoryWatch(server.pid)
            watch.start()
            results = []
            for repeat in range(repeats):
                for rate in rates:
                    command = [sys.executable, "-m", "webhook.loadtest", "--send", str(port), "--rate", str(rate),
                               "--duration", str(duration), "--run", f"r{repeat}-{rate}"]
                    done = subprocess.run(command, cwd=_ROOT, capture_output=True, text=True, check=True,
                                          timeout=duration * 3 + 60)
                    results.append(json.loads(done.stdout))
                    _wait_idle(server.pid)
            peak = watch.stop()
        finally:
            stop_gunicorn(server)
    return {"results": results, "peak_rss_bytes": peak, "workers": int(os.environ.get("MODERATION_WORKERS", "2")),
            "repeats": repeats}


def summarise(results: list[dict]) -> list[dict]:
    """Per rate: the median over runs of p50 and of p99, the p99 range, and errors summed over runs."""
    out = []
    for rate in dict.fromkeys(r["rate"] for r in results):
        runs = [r for r in results if r["rate"] == rate]
        p50s = [r["p50_ms"] for r in runs if r["p50_ms"] is not None]
        p99s = [r["p99_ms"] for r in runs if r["p99_ms"] is not None]
        out.append({"rate": rate, "runs": len(runs), "sent": sum(r["sent"] for r in runs),
                    "errors": sum(r["errors"] for r in runs),
                    "p50_ms": statistics.median(p50s) if p50s else None,
                    "p99_ms": statistics.median(p99s) if p99s else None,
                    "p99_min_ms": min(p99s) if p99s else None, "p99_max_ms": max(p99s) if p99s else None})
    return out


def service_rows(model_dir=None) -> list[tuple[str, str, str]]:
    """(measure, result, target) rows for docs/benchmarks.md."""
    measured = measure(model_dir)
    rows = []
    for r in summarise(measured["results"]):
        rate = int(r["rate"])
        target = f"< {TARGET_P99_MS:.0f} ms" if rate == 200 else "-"
        rows.append((f"service p50 latency at {rate} req/s (median of {r['runs']} runs)", _ms(r["p50_ms"]), "-"))
        rows.append((f"service p99 latency at {rate} req/s (median of {r['runs']} runs; range "
                     f"{_ms(r['p99_min_ms'])} to {_ms(r['p99_max_ms'])})", _ms(r["p99_ms"]), target))
        rows.append((f"service errors at {rate} req/s ({r['sent']} requests over {r['runs']} runs)", str(r["errors"]),
                     "0" if rate == 200 else "-"))
    sender = [r["sender_cpu_ms_per_request"] for r in measured["results"] if "sender_cpu_ms_per_request" in r]
    if sender:
        rows.append(("load sender's own CPU per request (median over runs; it shares the machine)",
                     f"{statistics.median(sender):.2f} ms", "-"))
    mib = measured["peak_rss_bytes"] / 2**20
    rows.append((f"service peak memory (gunicorn master + {measured['workers']} workers)", f"{mib:.0f} MiB", "-"))
    return rows


def _ms(value) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--send", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=float, default=DURATION_S, help=argparse.SUPPRESS)
    parser.add_argument("--run", default="run", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.send:
        print(json.dumps(send(args.send, args.rate, args.duration, args.run)))
        return 0
    rows = service_rows(args.model)
    width = max(len(m) for m, _, _ in rows)
    for measure_, result, target in rows:
        print(f"{measure_:<{width}}  {result:>10}  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
