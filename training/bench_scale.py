"""Scale benchmarks for a big newsroom, written to ``docs/benchmarks-scale.md`` (``make bench-scale``).

1. Scoring an archive: a synthetic archive of N comments (default 1,000,000: the corpus's comments
   repeated with perturbations, under the corpus's articles) is scored by the real command,
   ``moderation score --input FILE --articles FILE --output FILE``, which streams in chunks of 512.
   Measured: wall time, throughput, and the peak resident memory of that process, at N and at N/10:
   bounded memory means the two peaks are about the same.
2. Retraining on a few hundred thousand examples: the violation heads fitted on M rows (default
   300,000: the default-model sources, or the corpus when the datasets are absent, repeated with
   perturbed copies), in a child process. Measured: normalisation and fitting time, peak memory.

Peak memory is the child's own high-water mark (``VmHWM``, read while it runs), so each figure is
one process's: ``ru_maxrss`` from ``wait4`` would also count the parent the child was forked from.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from . import corpus

_FILLERS = ("honestly", "to be fair", "as usual", "again", "if you ask me", "frankly", "in my view", "lol", "tbh",
            "seriously", "well", "yes", "no", "anyway", "imo")


def _perturb(text: str, rng: random.Random) -> str:
    """A near-copy: a filler word added, a word dropped or the case changed, so the texts differ."""
    words = text.split()
    roll = rng.random()
    if roll < 0.4:
        words.insert(rng.randrange(len(words) + 1), rng.choice(_FILLERS))
    elif roll < 0.6 and len(words) > 3:
        del words[rng.randrange(len(words))]
    elif roll < 0.7:
        return text.upper()
    return " ".join(words)


def write_archive(path: Path, n: int, seed: int = 0) -> Path:
    """``n`` comments as JSONL, streamed to ``path``; returns the articles file written next to it."""
    articles, comments = corpus.load_corpus(corpus.DATA_DIR)
    rows = list(comments[["text", "article_id"]].itertuples(index=False))
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            text, article_id = rows[i % len(rows)]
            fh.write(json.dumps({"id": f"arc-{i}", "text": _perturb(text, rng), "article_id": article_id,
                                 "author_id": f"reader-{i % 50_000}"}) + "\n")
    articles_path = path.with_name("articles.jsonl")
    with open(articles_path, "w", encoding="utf-8") as fh:
        for a in articles.itertuples():
            fh.write(json.dumps({"id": a.id, "title": a.title, "body": a.body}) + "\n")
    return articles_path


class _PeakWatch(threading.Thread):
    """Reads a running child's ``VmHWM`` (its own peak resident memory) until it exits."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.path, self.peak_kb = Path(f"/proc/{pid}/status"), 0

    def run(self) -> None:
        while True:
            try:
                for line in self.path.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            except (OSError, ValueError, IndexError):
                return  # the child has exited (or its status is gone)
            time.sleep(0.05)


def _wait_with_peak(process: subprocess.Popen) -> tuple[int, float]:
    """Wait for a child; its exit status and own peak RSS in MB."""
    watch = _PeakWatch(process.pid)
    watch.start()
    _pid, status, usage = os.wait4(process.pid, 0)
    watch.join()
    peak_kb = watch.peak_kb or usage.ru_maxrss  # no /proc: fall back to ru_maxrss (may count the parent)
    return status, peak_kb / 1024


def _run_child(command: list[str], log: Path) -> tuple[float, float]:
    """Run a command (stderr to ``log``); its wall seconds and its own peak RSS in MB."""
    started = time.perf_counter()
    with open(log, "wb") as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        status, peak = _wait_with_peak(process)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed: {log.read_text(errors='replace')[-2000:]}")
    return wall, peak


def bench_scoring(n: int, folder: Path, model: str | None) -> dict:
    """Score a synthetic archive of ``n`` comments with ``moderation score``; throughput and peak memory."""
    archive = folder / f"archive-{n}.jsonl"
    started = time.perf_counter()
    articles = write_archive(archive, n)
    written = time.perf_counter() - started
    out = folder / f"scored-{n}.jsonl"
    command = [sys.executable, "-m", "moderation.cli", "score", "--input", str(archive), "--articles", str(articles),
               "--output", str(out)]
    if model:
        command += ["--model", model]
    wall, rss = _run_child(command, folder / f"score-{n}.log")
    lines = sum(1 for _ in open(out, "rb"))
    size = archive.stat().st_size
    archive.unlink()
    out.unlink()
    if lines != n:
        raise RuntimeError(f"scored {lines} lines of {n}")
    return {"n": n, "seconds": wall, "per_second": n / wall, "peak_rss_mb": rss, "archive_mb": size / 2**20,
            "write_seconds": written}


_TRAIN_CHILD = """
import json, sys
from training.bench_scale import train_rows
print(json.dumps(train_rows(int(sys.argv[1]))))
"""


def train_rows(m: int, seed: int = 0) -> dict:
    """In this process: build ``m`` training rows, normalise them and fit the violation heads; timings."""
    import pandas as pd

    from moderation.normalise import normalise_text

    from . import sources
    from .train import fit_violation, load_violation_data

    rng = random.Random(seed)
    started = time.perf_counter()
    root = sources.datasets_dir()
    if root.is_dir():
        base, _ = load_violation_data(root, corpus.DATA_DIR, use_corpus=True)
        origin = "default-model sources and corpus"
    else:
        _, comments = corpus.load_corpus(corpus.DATA_DIR)
        base = corpus.violation_frame(comments[~comments["test"]])
        origin = "corpus only (no public datasets found)"
    copies = [base]
    while sum(len(c) for c in copies) < m:
        extra = base.copy()
        extra["text"] = [_perturb(t, rng) for t in extra["text"]]
        copies.append(extra)
    frame = pd.concat(copies, ignore_index=True).iloc[:m].reset_index(drop=True)
    loaded = time.perf_counter()
    frame["norm"] = [normalise_text(t) for t in frame["text"]]
    normalised = time.perf_counter()
    fit_violation(frame)
    fitted = time.perf_counter()
    return {"rows": len(frame), "origin": origin, "base_rows": len(base), "load_seconds": loaded - started,
            "normalise_seconds": normalised - loaded, "fit_seconds": fitted - normalised}


def bench_training(m: int) -> dict:
    """Fit the violation heads on ``m`` rows in a child process; its timings and peak memory."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", _TRAIN_CHILD, str(m)], stdout=subprocess.PIPE)
    output_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: output_chunks.append(process.stdout.read()), daemon=True)
    reader.start()  # a full pipe would stall the child
    status, peak = _wait_with_peak(process)
    reader.join()
    output = b"".join(output_chunks).decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"training on {m} rows failed with status {status}")
    return {**json.loads(output.strip().splitlines()[-1]), "seconds": time.perf_counter() - started,
            "peak_rss_mb": peak}


def render(scoring: list[dict], training: dict | None, note: str) -> str:
    lines = ["# Scale benchmarks", "",
             f"Measured by `make bench-scale` (`python -m training.bench_scale`) on {date.today()} "
             f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}), one process each, "
             "on a machine shared with other work: read the figures as orders of magnitude. " + note, "",
             "## Scoring an archive with `moderation score` (streams in chunks of 512)", "",
             "Synthetic archive: the corpus's comments repeated with small perturbations, each under its corpus "
             "article (all heads and stance). Peak RSS is the scoring process's own.", "",
             "| comments | archive (MB) | wall (s) | comments/s | peak RSS (MB) |", "|---|---|---|---|---|"]
    lines += [f"| {r['n']:,} | {r['archive_mb']:.0f} | {r['seconds']:.0f} | {r['per_second']:,.0f} | "
              f"{r['peak_rss_mb']:.0f} |" for r in scoring]
    if len(scoring) > 1:
        small, big = scoring[0], scoring[-1]
        lines += ["", f"Memory is bounded: {big['n'] // small['n']}x the comments, peak RSS "
                  f"{big['peak_rss_mb']:.0f} MB against {small['peak_rss_mb']:.0f} MB."]
    if training:
        t = training
        lines += ["", "## Retraining the violation heads on a few hundred thousand rows", "",
                  f"{t['rows']:,} rows: the {t['origin']} ({t['base_rows']:,} rows) repeated with perturbed copies; "
                  "the same `fit_violation` as `make train` (hashed n-grams, one calibrated head per label), in a "
                  "child process.",
                  "", "| rows | load + build (s) | normalise (s) | fit (s) | total (s) | peak RSS (MB) |",
                  "|---|---|---|---|---|---|",
                  f"| {t['rows']:,} | {t['load_seconds']:.0f} | {t['normalise_seconds']:.0f} | {t['fit_seconds']:.0f} | "
                  f"{t['seconds']:.0f} | {t['peak_rss_mb']:.0f} |"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1_000_000, help="archive size to score")
    parser.add_argument("--rows", type=int, default=300_000, help="training rows (0: skip training)")
    parser.add_argument("--model", default=None)
    parser.add_argument("--output", type=Path, default=Path("docs/benchmarks-scale.md"))
    parser.add_argument("--note", default="", help="a sentence added to the report's introduction")
    parser.add_argument("--summary", type=Path, default=Path("docs/benchmarks.md"),
                        help="also put the figures in this document's scale section (empty: do not)")
    args = parser.parse_args(argv)
    scoring = []
    with tempfile.TemporaryDirectory(prefix="moderation-scale-") as tmp:
        for n in sorted({max(args.comments // 10, 1), args.comments}):
            print(f"[bench-scale] scoring {n:,} comments", file=sys.stderr, flush=True)
            scoring.append(bench_scoring(n, Path(tmp), args.model))
            print(f"[bench-scale] {scoring[-1]}", file=sys.stderr, flush=True)
    training = None
    if args.rows:
        print(f"[bench-scale] training on {args.rows:,} rows", file=sys.stderr, flush=True)
        training = bench_training(args.rows)
        print(f"[bench-scale] {training}", file=sys.stderr, flush=True)
    text = render(scoring, training, args.note)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    if args.summary:
        args.summary.write_text(splice(args.summary.read_text() if args.summary.exists() else "", text))
    return 0


SECTION_START = "<!-- bench-scale: written by `make bench-scale`, kept by `make bench` -->"
SECTION_END = "<!-- /bench-scale -->"


def splice(document: str, report: str) -> str:
    """``document`` with its scale section replaced by (or appended as) ``report`` under a level-2 heading."""
    body = report.replace("# Scale benchmarks", "## Scale: a million comments, retraining on 300,000 rows", 1)
    body = body.replace("\n## ", "\n### ").replace("### Scale: a million", "## Scale: a million", 1)
    section = f"{SECTION_START}\n{body.strip()}\n{SECTION_END}\n"
    return keep_section(document.split(SECTION_START)[0].rstrip() + "\n\n", section)


def keep_section(new_document: str, old_document_or_section: str) -> str:
    """``new_document`` followed by the scale section found in ``old_document_or_section``, if any."""
    start, end = old_document_or_section.find(SECTION_START), old_document_or_section.find(SECTION_END)
    if start < 0 or end < 0:
        return new_document
    return new_document.rstrip() + "\n\n" + old_document_or_section[start:end + len(SECTION_END)] + "\n"


if __name__ == "__main__":
    sys.exit(main())
