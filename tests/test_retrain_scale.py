"""The big-newsroom path at test size: `moderation score` streams, and its memory does not grow with the input.

The full-size figures (a million comments, retraining on 300,000 rows) come from `make bench-scale`
and are in docs/benchmarks-scale.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

from training.bench_scale import bench_scoring


def test_score_answers_while_its_input_is_still_arriving():
    process = subprocess.Popen([sys.executable, "-m", "moderation.cli", "score", "--input", "-", "--output", "-"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, b"")), daemon=True)
    reader.start()
    try:
        for i in range(1200):
            process.stdin.write(json.dumps({"id": i, "text": f"Comment number {i} about the harbour."}).encode() + b"\n")
        process.stdin.write(b"{not json\n")
        process.stdin.flush()
        deadline = time.monotonic() + 60
        while len(lines) < 512 and time.monotonic() < deadline:
            time.sleep(0.05)
        # The input is still open: two chunks of 512 have been scored and written, not held back.
        assert len(lines) >= 512, f"only {len(lines)} lines out before the input ended"
    finally:
        process.stdin.close()
        process.wait(timeout=60)
        reader.join(timeout=10)
    assert len(lines) == 1200 and json.loads(lines[-1])["id"] == 1199
    assert "1201: skipped: not valid JSON" in process.stderr.read().decode()


def test_scoring_memory_stays_flat_as_the_archive_grows(tmp_path):
    small = bench_scoring(2_000, tmp_path, None)
    big = bench_scoring(20_000, tmp_path, None)
    assert big["peak_rss_mb"] < small["peak_rss_mb"] + 40, (small, big)
    assert big["per_second"] > 200


def test_the_scale_section_is_spliced_into_benchmarks_and_kept_by_bench():
    from training.bench_scale import SECTION_END, SECTION_START, keep_section, splice

    scale = "# Scale benchmarks\n\nintro\n\n## Scoring an archive\n\n| a |\n"
    doc = splice("# Benchmarks\n\n| measure |\n", scale)
    assert doc.startswith("# Benchmarks") and SECTION_START in doc and doc.rstrip().endswith(SECTION_END)
    assert "## Scale: a million comments" in doc and "### Scoring an archive" in doc
    again = splice(doc, scale.replace("intro", "second run"))
    assert again.count(SECTION_START) == 1 and "second run" in again and "intro" not in again
    rewritten = keep_section("# Benchmarks\n\nnew table\n", again)
    assert "new table" in rewritten and "second run" in rewritten and rewritten.count(SECTION_START) == 1
    assert keep_section("# Benchmarks\n", "no section here") == "# Benchmarks\n"
