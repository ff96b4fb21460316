"""Speed and memory benchmarks, printed as a table and written to ``docs/benchmarks.md``.

``python -m training.bench`` (``make bench``). The reference peer, alt-profanity-check, is timed in
the same run on the same comments, interleaved with our scorer so both see the same machine load.
Figures are medians of repeated runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from datetime import date
from pathlib import Path

from moderation.scorer import Article, Scorer

from . import corpus
from .bench_scale import keep_section

_MEMORY_PROBE = """
import resource, sys, json
from moderation.scorer import Scorer, Article
s = Scorer.load(sys.argv[1] or None)
texts = json.load(open(sys.argv[2]))
s.add_article(Article("a", "Council approves new cycle lanes", "The council voted to build cycle lanes."))
for i in range(0, len(texts), 512):
    s.score_batch(texts[i:i + 512], ["a"] * len(texts[i:i + 512]))
import psutil
# VmHWM is this process image's own peak; ru_maxrss would also count the parent it was forked from.
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
peak = int(status["VmHWM"].split()[0]) if "VmHWM" in status else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(psutil.Process().memory_info().rss // 1024, peak)
"""


def _comments(n: int) -> tuple[list[str], list[str], list]:
    """n comments (the corpus, repeated) with their article ids, and the articles."""
    articles, comments = corpus.load_corpus(corpus.DATA_DIR)
    texts = comments["text"].tolist()
    ids = comments["article_id"].tolist()
    reps = -(-n // len(texts))
    return (texts * reps)[:n], (ids * reps)[:n], list(articles.itertuples())


def bench_batch(scorer: Scorer, texts, ids, repeats: int) -> float:
    """Median comments per second of ``score_batch`` over all heads including stance."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(0, len(texts), 512):
            scorer.score_batch(texts[i:i + 512], ids[i:i + 512])
        rates.append(len(texts) / (time.perf_counter() - start))
    return statistics.median(rates)


def bench_single(scorer: Scorer, peer, texts, ids) -> dict:
    """Per-call latency of one comment, ours and the peer's, interleaved call by call."""
    ours, theirs = [], []
    for text, aid in zip(texts, ids):
        t0 = time.perf_counter()
        scorer.score(text, aid)
        t1 = time.perf_counter()
        if peer:
            peer([text])
        t2 = time.perf_counter()
        ours.append((t1 - t0) * 1000)
        theirs.append((t2 - t1) * 1000)
    q = statistics.quantiles
    out = {"ours_p50": statistics.median(ours), "ours_p99": q(ours, n=100)[98]}
    if peer:
        out.update(peer_p50=statistics.median(theirs), peer_p99=q(theirs, n=100)[98])
    return out


def bench_peer_batch(peer, texts, repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        peer(texts)
        rates.append(len(texts) / (time.perf_counter() - start))
    return statistics.median(rates)


def rss_mb(model: str | None, texts) -> tuple[float, float]:
    """Resident memory after scoring ``texts`` in a fresh process, and its peak (both MB)."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(texts, fh)
    try:
        out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, model or "", fh.name],
                             capture_output=True, text=True, check=True)
    finally:
        os.unlink(fh.name)
    resident, peak = out.stdout.split()
    return int(resident) / 1024, int(peak) / 1024


def _peer():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from profanity_check import predict_prob
        return predict_prob
    except ImportError:
        return None


def run(model: str | None, n_batch: int, n_single: int, repeats: int) -> list[tuple[str, str, str]]:
    """Run every benchmark; rows of (measure, result, target)."""
    scorer = Scorer.load(model)
    texts, ids, articles = _comments(max(n_batch, n_single))
    for a in articles:
        scorer.add_article(Article(a.id, a.title, a.body))
    peer = _peer()
    scorer.score_batch(texts[:256], ids[:256])  # warm up both
    if peer:
        peer(texts[:256])
    batch = bench_batch(scorer, texts[:n_batch], ids[:n_batch], repeats)
    single = bench_single(scorer, peer, texts[:n_single], ids[:n_single])
    rows = [("batch scoring, all heads + stance (comments/s, 1 process)", f"{batch:,.0f}", ">= 3,000")]
    if peer:
        peer_batch = bench_peer_batch(peer, texts[:n_batch], repeats)
        rows.append(("peer batch scoring, profanity only (comments/s)", f"{peer_batch:,.0f}", "reference"))
    rows.append(("single comment, p50 (ms)", f"{single['ours_p50']:.3f}", "< 2 ms"))
    rows.append(("single comment, p99 (ms)", f"{single['ours_p99']:.3f}", ""))
    if peer:
        rows.append(("peer single call, p50 (ms)", f"{single['peer_p50']:.3f}", "reference"))
        rows.append(("ours / peer, single-call p50", f"{single['ours_p50'] / single['peer_p50']:.2f}", "< 0.5"))
    resident, peak = rss_mb(model, texts[:5000])
    rows.append(("scoring process resident memory after 5,000 comments (MB)", f"{resident:.0f}", "< 300"))
    rows.append(("scoring process peak RSS (MB)", f"{peak:.0f}", "< 300"))
    manifest = scorer.manifest
    if "training_seconds" in manifest:
        rows.append((f"`make train-default` of model {scorer.version} (s, recorded in its manifest)",
                     f"{manifest['training_seconds']:.0f}", "< 600"))
    return rows


def render(rows, n_batch, n_single, repeats) -> str:
    from webhook.loadtest import REPEATS

    lines = ["# Benchmarks", "",
             f"Measured by `make bench` on {date.today()} ({platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}). Batch: {n_batch} corpus comments in chunks of 512, median "
             f"of {repeats} runs. Single: {n_single} calls, ours and alt-profanity-check interleaved call by "
             "call on the same comments. These machines are shared: compare ratios from one run, not "
             "absolute numbers across runs. Service rows: `make serve`'s gunicorn on loopback with an "
             "SQLite file, a second process sending signed `POST /v1/comments` requests open-loop at each fixed "
             f"rate for 10 s, every rate in turn {REPEATS} times, the server left to work off any backlog between runs "
             "(latency counted from when each request was due; `webhook/loadtest.py`). Memory: a fresh "
             "`python` process that loads the model and scores 5,000 comments in chunks of 512; peak is its own "
             "high-water mark (VmHWM).", "",
             "| measure | result | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--output", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--single", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-service", action="store_true", help="skip the gunicorn load test")
    args = parser.parse_args(argv)
    rows = run(args.model, args.batch, args.single, args.repeats)
    if not args.no_service:
        from webhook.loadtest import (
            service_rows,  # the service's load test (issue: webhook)
        )

        rows += service_rows(args.model)
    text = render(rows, args.batch, args.single, args.repeats)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # The scale section comes from `make bench-scale` (a long run): keep it when rewriting the rest.
    previous = args.output.read_text() if args.output.exists() else ""
    args.output.write_text(keep_section(text, previous))
    return 0


if __name__ == "__main__":
    sys.exit(main())
