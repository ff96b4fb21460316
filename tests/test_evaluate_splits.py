"""The validation rows the report and the manifest score: never trained on, no lexicon-made labels,
Jigsaw's natural-prevalence draw told apart; and the manifest's git commit saying when its code differed.

The tests that read the public datasets (``$MODERATION_DATASETS`` or ``../shared/datasets``) skip without them.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from moderation.labels import HEADS
from moderation.normalise import normalise_text
from training import corpus, evaluate, sources, train

ROOT = sources.datasets_dir()
needs_datasets = pytest.mark.skipif(not ROOT.is_dir(),
                                    reason=f"public datasets not found at {ROOT}; set {sources.DATASETS_ENV}")


# Without the datasets --------------------------------------------------------------------------------------

def _frame(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    frame = pd.DataFrame({head: [np.nan] * n for head in HEADS})
    for name, values in columns.items():
        frame[name] = values
    return frame


def test_scored_rows_leave_out_lexicon_profanity_only():
    frame = _frame(profanity=[1.0, 1.0, 0.0, np.nan], toxicity=[1.0, 1.0, 0.0, 1.0],
                   weak_profanity=[True, False, False, False])
    assert train.scored_rows(frame, "profanity").tolist() == [False, True, True, False]
    assert train.scored_rows(frame, "toxicity").tolist() == [True, True, True, True]
    # Frames without the column (the corpus, decisions) are scored on every known label.
    assert train.scored_rows(frame.drop(columns="weak_profanity"), "profanity").tolist() == [True, True, True, False]
    scored = evaluate.scored_labels(frame)
    assert scored["profanity"].isna().tolist() == [True, False, False, True]
    assert scored["toxicity"].tolist() == frame["toxicity"].tolist()
    assert frame["profanity"].notna().sum() == 3  # the input is left alone


def test_manifest_metrics_leave_out_lexicon_profanity():
    # Lexicon-labelled positives the model finds perfectly, annotator-labelled ones it misses: only the latter count.
    frame = _frame(profanity=[1.0] * 20 + [1.0] * 5 + [0.0] * 20, weak_profanity=[True] * 20 + [False] * 25)
    frame["norm"] = [f"text {i}" for i in range(len(frame))]
    scores = np.array([0.99] * 20 + [0.2] * 5 + [0.4] * 20)

    class Model:
        heads = HEADS

        @staticmethod
        def predict_proba(texts):
            assert len(texts) == len(frame)
            return np.repeat(scores[:, None], len(HEADS), axis=1)

    metrics = train.violation_metrics(Model(), frame)["profanity"]
    assert metrics["n"] == 25 and metrics["positives"] == 5
    assert metrics["roc_auc"] == 0.0 and metrics["f1@0.5"] == 0.0


def test_unseen_validation_drops_texts_training_holds():
    train_df = pd.DataFrame({"norm": ["a", "b"], "source": "x"})
    valid_df = pd.DataFrame({"norm": ["b", "c", "c", "a"], "source": ["x", "y", "y", "z"]})
    out = train.unseen_validation(valid_df, train_df)
    assert out["norm"].tolist() == ["c", "c"]  # repeats within validation stay, as train() keeps them
    assert out.attrs["seen_in_training"] == {"x": 1, "z": 1}


# git: a commit whose code did not train the model is marked ----------------------------------------------

def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false",
                           *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_commit_is_marked_dirty_when_training_code_changed(tmp_path):
    repo = tmp_path / "repo"
    for name in train._TRAINING_CODE:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(f"# {name}\n")
    (repo / "README.md").write_text("readme\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "initial")
    head = _git(repo, "rev-parse", "HEAD")
    assert train._git_commit(repo) == head
    (repo / "README.md").write_text("other files may change\n")
    (repo / "notes.txt").write_text("untracked, not training code\n")
    assert train._git_commit(repo) == head
    (repo / "training" / "train.py").write_text("# changed\n")
    assert train._git_commit(repo) == f"{head}-dirty"
    _git(repo, "add", "training/train.py")  # staged but not committed: still not the commit's code
    assert train._git_commit(repo) == f"{head}-dirty"
    _git(repo, "commit", "-q", "-m", "train.py")
    assert train._git_commit(repo) == _git(repo, "rev-parse", "HEAD")
    (repo / "moderation" / "lexicon.py").unlink()
    assert train._git_commit(repo).endswith("-dirty")
    assert train._git_commit(tmp_path / "not-a-repo-at-all") == "unknown"


def test_git_commit_defaults_to_this_checkout():
    commit = train._git_commit()
    assert commit == "unknown" or len(commit.removesuffix("-dirty")) == 40


# With the datasets ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def olid():
    frame = sources.load_olid(ROOT)
    raw = pd.read_csv(ROOT / "olid" / "olid-training-v1.0.tsv", sep="\t", quoting=csv.QUOTE_MINIMAL, dtype=str,
                      keep_default_na=False).set_index("id")
    level_b = raw.loc[frame["item_id"], "subtask_b"].str.strip().to_numpy()
    return frame, level_b


@pytest.fixture(scope="module")
def loaded():
    """The loaders' training and validation frames (corpus included), as train() reads them."""
    return train.load_violation_data(ROOT, corpus.DATA_DIR, use_corpus=True)


@pytest.fixture(scope="module")
def public_valid():
    return evaluate.public_validation(ROOT)


@needs_datasets
def test_weak_profanity_marks_exactly_the_lexicon_labels(olid):
    frame, level_b = olid
    assert frame["weak_profanity"].dtype == bool
    lexicon = (level_b == "TIN") & frame["text"].map(sources.has_swear_word).to_numpy()
    assert (frame["weak_profanity"].to_numpy() == lexicon).all()
    assert 500 < lexicon.sum() < 2_000
    assert (frame.loc[frame["weak_profanity"], "profanity"] == 1).all()
    # What is left is the annotators' word: untargeted profanity (UNT) against not offensive (NOT).
    annotated = frame[frame["profanity"].notna() & ~frame["weak_profanity"]]
    assert set(level_b[annotated.index]) == {"UNT", "NULL"}
    assert (annotated["profanity"] == (level_b[annotated.index] == "UNT")).all()


@needs_datasets
def test_evaluation_columns_reach_the_frames(loaded):
    train_df, valid_df = loaded
    for frame in (train_df, valid_df):
        assert list(frame.columns[:len(HEADS) + 6]) == ["text", *HEADS, "source", "item_id", "split_key",
                                                         *train.EVALUATION_COLUMNS]
        assert frame["weak_profanity"].dtype == bool
        assert set(frame.loc[frame["weak_profanity"], "source"]) == {"olid"}
        jigsaw = frame["source"] == "jigsaw_toxic_sample"
        assert set(frame.loc[jigsaw, "part"]) == {"pool", "random"}
        assert (frame.loc[~jigsaw, "part"] == "").all()
    # The lexicon-labelled rows still train (and still say profane).
    assert train_df["weak_profanity"].sum() > 500
    assert (train_df.loc[train_df["weak_profanity"], "profanity"] == 1).all()


@needs_datasets
def test_spam_is_learnt_from_the_corpus_and_every_public_source_is_its_clean_example(loaded):
    train_df, _ = loaded
    assert train_df["spam"].notna().all()  # every source says something: spam or not
    spam = train_df.loc[train_df["spam"] == 1, "source"]
    assert set(spam) == {"corpus"} and len(spam) > 60
    for source in (*train.SPAM_CLEAN_SOURCES, "nyt_comments"):
        assert (train_df.loc[train_df["source"] == source, "spam"] == 0).all(), source
    # The corpus's spam part trains the spam head alone (train.SPAM_ONLY_PARTS says why).
    part = train_df["item_id"].str.startswith("c-spam-")
    assert part.sum() > 50 and train_df.loc[part, "spam"].notna().all()
    assert train_df.loc[part, [h for h in HEADS if h != "spam"]].isna().all().all()
    hate = train_df["item_id"].str.startswith("c-hate-")  # the hate part: identity_attack (train.PART_HEADS says why)
    assert hate.sum() > 100 and train_df.loc[hate, ["identity_attack", "spam"]].notna().all().all()
    assert train_df.loc[hate, [h for h in HEADS if h not in ("identity_attack", "spam")]].isna().all().all()
    assert train_df.loc[(train_df["source"] == "corpus") & ~part & ~hate, "personal_attack"].notna().all()


@needs_datasets
def test_evaluated_rows_were_never_trained_on(loaded, public_valid):
    from training.train import near_duplicate_key

    train_df, valid_df = loaded
    trained = {near_duplicate_key(normalise_text(t)) for t in train_df["text"]}
    assert not public_valid["text"].map(lambda t: near_duplicate_key(normalise_text(t))).isin(trained).any()
    # Only such rows are left out: every other public validation row is still evaluated.
    public = valid_df[valid_df["source"] != "corpus"]
    seen = public["text"].map(lambda t: near_duplicate_key(normalise_text(t))).isin(trained)
    assert seen.sum() > 200  # 280 when written: the same words under two ids, two sources, other handles or links
    assert sorted(public_valid["item_id"] + "@" + public_valid["source"]) == sorted(
        public.loc[~seen, "item_id"] + "@" + public.loc[~seen, "source"])
    assert sum(public_valid.attrs["seen_in_training"].values()) == seen.sum()
    assert (public_valid["source"] != "corpus").all()


@needs_datasets
@pytest.mark.slow
def test_report_scores_annotators_profanity_and_jigsaw_random_draw(scorer, public_valid, tmp_path):
    report = evaluate.Report(tmp_path)
    evaluate.evaluate_validation(scorer, report, ROOT)
    text = "\n".join(report.lines)
    assert "OLID profanity: annotators' untargeted-profanity label only; lexicon-derived labels left out" in text
    table = pd.DataFrame(report.metrics["validation_by_source"]).set_index(["source", "label"])
    olid = public_valid[public_valid["source"] == "olid"]
    annotated = olid["profanity"].notna() & ~olid["weak_profanity"]
    assert table.loc[("olid", "profanity"), "n"] == annotated.sum()
    assert table.loc[("olid", "profanity"), "positives"] == olid.loc[annotated, "profanity"].sum()
    random = public_valid[(public_valid["source"] == "jigsaw_toxic_sample") & (public_valid["part"] == "random")]
    assert table.loc[(evaluate.JIGSAW_RANDOM, "toxicity"), "n"] == len(random)
    assert table.loc[("jigsaw_toxic_sample", "toxicity"), "n"] > len(random)  # the pooled rows are kept


@needs_datasets
@pytest.mark.slow
def test_stance_report_adds_the_unseen_comment_subset(scorer, tmp_path):
    report = evaluate.Report(tmp_path)
    evaluate.evaluate_stance(scorer, report, ROOT)
    unseen = report.metrics["arc_stance_unseen_comments"]
    trained, valid = train.load_stance_data(ROOT, corpus.DATA_DIR, use_corpus=False)
    seen = {normalise_text(c) for c in trained["comment"]}
    assert unseen["pairs"] == (~valid["comment"].map(normalise_text).isin(seen)).sum()
    assert 0 < unseen["pairs"] < len(valid) / 2
    assert 0 <= unseen["macro_f1"] <= 1
    assert "whose comment never appears in a stance training pair" in "\n".join(report.lines)


@needs_datasets
@pytest.mark.slow
def test_published_news_scores_whole_validation_comments_under_the_policy(scorer, public_valid, tmp_path):
    """The Times' published comments of the validation split, scored whole: the shares held and rejected
    are those of the policy's verdicts on them, and the clause table's shares are of their scores."""
    from moderation.policy import load_policy

    policy = load_policy(corpus.DATA_DIR / "policy.toml")
    report = evaluate.Report(tmp_path)
    evaluate.evaluate_published_news(scorer, report, policy, public_valid, ROOT)
    news = report.metrics["published_news"]
    ids = public_valid.loc[public_valid["source"] == "nyt_comments", "split_key"].unique()
    texts = sources.nyt_comment_texts(ROOT).loc[ids].drop_duplicates().tolist()
    assert news["n"] == len(texts) and 400 < len(texts) < 800  # about 15% of 4,350
    actions = [policy.decide(s).action for s in scorer.score_batch(texts)]
    assert news["held"] == pytest.approx(actions.count("hold") / len(texts))
    assert news["rejected"] == pytest.approx(actions.count("reject") / len(texts))
    # every clause on a head the model has (a model trained before the spam head has no spam clause row)
    assert [row["clause"] for row in news["by_clause"]] == [c.id for c in policy.clauses
                                                           if set(c.labels) <= set(scorer.violation.heads)]
    assert "Published news comments" in "\n".join(report.lines)


def test_spam_alarms_are_the_shares_of_each_public_source_over_the_spam_clause(tmp_path):
    from moderation.policy import load_policy

    policy = load_policy(corpus.DATA_DIR / "policy.toml")
    clause = policy.clause_for("spam")
    valid = pd.DataFrame({"source": ["olid"] * 4 + ["corpus"] * 2 + ["toxic_spans"] * 2})
    preds = pd.DataFrame({"spam": [0.0, clause.hold_at, clause.reject_at, 0.1, 0.99, 0.99, 0.2, 0.3]})
    report = evaluate.Report(tmp_path)
    evaluate.evaluate_spam_alarms(report, policy, valid, preds)
    rows = {r["source"]: r for r in report.metrics["spam_public_alarms"]}
    assert set(rows) == {"olid", "toxic_spans"}  # the corpus labels spam: its test split is scored apart
    assert rows["olid"]["at_or_over_hold_at"] == 0.5 and rows["olid"]["at_or_over_reject_at"] == 0.25
    assert rows["toxic_spans"]["at_or_over_hold_at"] == 0.0
    # a model trained before the spam head: nothing to report
    empty = evaluate.Report(tmp_path)
    evaluate.evaluate_spam_alarms(empty, policy, valid, preds.drop(columns="spam"))
    assert "spam_public_alarms" not in empty.metrics


def test_the_report_reads_a_model_without_the_spam_head(tmp_path):
    """Older models (registry versions, a --no-corpus model) have no spam score: the tables and plots that
    read every head leave it out instead of failing."""
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame({h: rng.integers(0, 2, n).astype(float) for h in HEADS})
    preds = pd.DataFrame({h: rng.random(n) for h in HEADS if h != "spam"})
    table = evaluate.sliced_table(frame, preds, {"all": np.ones(n, bool)}, labels=HEADS)
    assert set(table["label"]) == set(HEADS) - {"spam"}
    rows = evaluate._source_rows("corpus", frame, preds)
    assert {r["label"] for r in rows} == set(HEADS) - {"spam"}
    assert evaluate._plot_pr_and_calibration(frame, preds, tmp_path, "old model")


def test_a_head_no_row_teaches_both_ways_is_left_out_of_the_model():
    """Trained without the corpus (the only source of spam), the model has every head but spam; only spam."""
    texts = [f"you are an idiot number {i}" for i in range(30)] + [f"a fine point about the budget {i}" for i in range(30)]
    frame = pd.DataFrame({"text": texts, "norm": texts, "source": "olid"})
    for head in HEADS:
        frame[head] = [1.0] * 30 + [0.0] * 30
    frame["spam"] = 0.0
    model = train.fit_violation(frame)
    assert model.heads == tuple(h for h in HEADS if h != "spam")
    scores = model.predict_proba(["you are an idiot"])
    assert scores.shape == (1, len(HEADS) - 1)
    # Any other head without both kinds of row is still an error, not a model quietly missing it.
    frame["threat"] = 0.0
    with pytest.raises(ValueError, match="threat"):
        train.fit_violation(frame)


def test_behaviour_cases_of_a_head_a_model_lacks_read_as_unflagged(tmp_path):
    """An older model has no spam score: the spam cases count as scored 0 (it flags no advert), in the
    report and in a comparison of models, instead of failing."""
    from types import SimpleNamespace

    from training import compare

    cases = pd.read_json(Path(__file__).resolve().parent.parent / "data" / "behaviour" / "cases.jsonl", lines=True)
    assert {"spam_lookalike", "spam_advert"} <= set(cases["category"])

    class OldScorer:
        def score_batch(self, texts):
            return [SimpleNamespace(scores={h: 0.0 for h in HEADS if h != "spam"}) for _ in texts]

    report = evaluate.Report(tmp_path)
    scored = evaluate.evaluate_behaviour(OldScorer(), report)
    spam = scored[scored["label"] == "spam"]
    assert (spam["score"] == 0.0).all() and spam["passed"].tolist() == (spam["expect"] == "low").tolist()
    result = compare._behaviour(OldScorer(), compare.EvalSet("behaviour cases", "behaviour", cases))
    assert result["pass_rate"]["spam"] == float((cases[cases["label"] == "spam"]["expect"] == "low").mean())


def test_near_duplicates_share_a_key_and_other_texts_do_not():
    from training.train import near_duplicate_key

    same = ["@user @user you are great url!!", "rt @user: you are great http://t.co/x", "you are #great."]
    assert len({near_duplicate_key(normalise_text(t)) for t in same}) == 1
    assert near_duplicate_key("you are great") != near_duplicate_key("you are not great")
    assert near_duplicate_key("rtl and urls are words") == "rtl and urls are words"
