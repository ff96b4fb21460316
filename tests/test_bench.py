"""training/bench.py on a tiny sample: both comment sets' rows, their lengths, the per-set target
judgement, and a clear "not measured" when the datasets are absent. (`make bench` runs it full size.)"""

import csv

import pytest

from training import bench


@pytest.fixture
def no_memory_probe(monkeypatch):
    """The memory rows come from a fresh process (seconds): stubbed here, their wiring is what is tested."""
    seen = []

    def probe(model, texts):
        seen.append(len(texts))
        return 150.0, 200.0

    monkeypatch.setattr(bench, "rss_mb", probe)
    return seen


def _news_folder(root, n=40):
    folder = root / "arc_stance"
    folder.mkdir(parents=True)
    with open(folder / "arc_bodies.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Body ID", "articleBody"])
        for k in range(n):
            writer.writerow([k, f"Reader comment number {k}. " + "The council should fund the cycle lanes. " * 12])
    return root


def test_the_news_sample_is_fixed_by_its_seed_and_spread_over_the_articles(tmp_path):
    root = _news_folder(tmp_path)
    texts, ids = bench.news_comments(root, 10, ["a1", "a2", "a3"])
    again, _ = bench.news_comments(root, 10, ["a1", "a2", "a3"])
    assert texts == again and len(set(texts)) == 10
    assert ids == ["a1", "a2", "a3"] * 3 + ["a1"]
    with pytest.raises(FileNotFoundError):
        bench.news_comments(tmp_path / "missing", 10, ["a1"])


def test_both_sets_are_measured_and_judged(tmp_path, no_memory_probe):
    result = bench.run(None, 80, 20, 1, datasets=_news_folder(tmp_path), n_news=30)
    names = [name for name, _, _ in result["rows"]]
    for name in ("batch scoring, all heads + stance (comments/s, 1 process)", "single comment, p50 (ms)",
                 "scoring process peak RSS (MB)"):
        assert name in names and bench._NEWS + name in names  # the corpus rows keep their names
    lengths = [row for row in result["rows"] if row[0].startswith("comments measured")]
    assert len(lengths) == 2 and "30 sampled" in lengths[1][0]
    assert int(lengths[1][1].split(" / ")[0].replace(",", "")) > int(lengths[0][1].split(" / ")[0].replace(",", ""))
    assert any(name.startswith(bench._NEWS + "batch job path") for name in names)
    assert any(name.startswith(bench._NEWS + "batch scoring, all heads + stance, `moderation score --jobs 2`")
               for name in names)
    assert no_memory_probe == [bench.MEMORY_COMMENTS] * 2
    assert len(result["targets"]) == len(bench.TARGETS)
    for _, corpus_cell, news_cell in result["targets"]:
        assert corpus_cell.split(" ")[0] in ("met", "**missed**")
        assert news_cell.split(" ")[0] in ("met", "**missed**")
    text = bench.render(result["rows"], 80, 20, 1, targets=result["targets"], target_head=result["target_head"],
                        sets=result["sets"])
    assert "### Targets by comment set" in text and "news comments (median" in text
    assert "News rows: 30 New York Times reader comments" in text


def test_without_the_datasets_the_news_set_says_not_measured(tmp_path, no_memory_probe, monkeypatch):
    monkeypatch.setenv("MODERATION_DATASETS", str(tmp_path / "nowhere"))
    result = bench.run(None, 40, 10, 1, n_news=30, policy_file=None)
    text = bench.render(result["rows"], 40, 10, 1, targets=result["targets"], target_head=result["target_head"],
                        sets=result["sets"])
    assert f"not measured: datasets not found at {tmp_path / 'nowhere'}" in text
    assert not any(name.startswith(bench._NEWS) for name, _, _ in result["rows"])
    assert all(news.startswith("not measured") for _, _, news in result["targets"])
    assert no_memory_probe == [bench.MEMORY_COMMENTS]


def test_length_statistics_of_one_comment_are_its_length():
    assert bench.lengths(["one comment"]) == (11.0, 11.0)
    assert bench.lengths(["ab", "abcd"])[0] == 3


def test_the_batch_target_is_judged_on_the_machines_best():
    """One process or one per core, whichever is faster, both figures shown."""
    m = {"batch": 1_500.0, "jobs": 3_100.0, "single": {"ours_p50": 1.0}, "resident": 200.0, "peak": 220.0}
    assert bench.judge(m)["batch"] == "met (1,500/s in 1 process, 3,100/s with 2)"
    assert bench.judge({**m, "jobs": 2_900.0})["batch"] == "**missed** (1,500/s in 1 process, 2,900/s with 2)"
    del m["jobs"]
    assert bench.judge(m)["batch"] == "**missed** (1,500/s in 1 process)"
