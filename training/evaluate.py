"""Evaluate a model directory and write a Markdown report with plots, plus the model card.

``python -m training.evaluate --model DIR --report docs/evaluation`` (``make evaluate-default``). Reads the
validation splits carved by ``training.train`` from the public sources, the corpus's fixed
article-disjoint test split, the behaviour cases in ``data/behaviour/cases.jsonl`` and identity-term
probes, and reports per label, per slice and for stance.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, confusion_matrix, f1_score, precision_recall_curve, roc_auc_score

from moderation.labels import HEADS, POLICY_LABELS, STANCES
from moderation.normalise import Normalised, mask_given_names, mask_group_words, normalise, normalise_text, read_innocent_senses
from moderation.policy import load_policy
from moderation.scorer import Article, Scorer

from . import corpus, sources
from .train import load_stance_data, scored_rows, stance_inputs, violation_splits

DATA = corpus.DATA_DIR
IDENTITY_GROUPS = """muslim jewish christian catholic hindu sikh buddhist atheist mormon gay lesbian bisexual
transgender trans queer black white asian latino hispanic mexican african chinese indian arab
immigrant refugee deaf blind disabled autistic female male elderly nigerian polish somali
pakistani romani native""".split()
_IDENTITY = re.compile(r"\b(?:" + "|".join(IDENTITY_GROUPS + ["muslims", "jews", "gays", "immigrants",
                       "refugees", "women", "men", "blacks", "asians", "christians", "migrants"]) + r")\b", re.I)
PROBE_TEMPLATES = [
    "I am a {g} person.",
    "My neighbour is {g} and she runs the corner shop.",
    "The {g} community held a festival in the park this weekend.",
    "Being {g} is part of who I am.",
    "Our new headteacher is {g}.",
    "Several {g} families spoke at the council meeting.",
    "As a {g} reader I found this article informative.",
]


def _log(message: str) -> None:
    print(f"[evaluate] {message}", file=sys.stderr, flush=True)


@dataclass
class Report:
    """Sections of Markdown and the metrics behind them."""

    directory: Path
    lines: list[str] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def table(self, frame: pd.DataFrame) -> None:
        cols = list(frame.columns)
        self.add("| " + " | ".join(cols) + " |", "|" + "---|" * len(cols))
        for _, row in frame.iterrows():
            self.add("| " + " | ".join(_fmt(row[c]) for c in cols) + " |")
        self.add("")


def _fmt(value) -> str:
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:.3f}"
    return str(value)


def label_metrics(y, p, threshold=0.5) -> dict:
    """ROC AUC, average precision, F1, precision and recall at a threshold."""
    y = np.asarray(y).astype(int)
    p = np.asarray(p)
    out = {"n": len(y), "positives": int(y.sum())}
    if 0 < y.sum() < len(y):
        out.update(roc_auc=roc_auc_score(y, p), avg_precision=average_precision_score(y, p))
    pred = p >= threshold
    tp = int((pred & (y == 1)).sum())
    out.update(precision=tp / max(pred.sum(), 1), recall=tp / max(y.sum(), 1),
               f1=f1_score(y, pred, zero_division=0))
    return out


def _score_texts(scorer: Scorer, texts, article_ids=None) -> pd.DataFrame:
    scores = []
    texts = list(texts)
    ids = list(article_ids) if article_ids is not None else [None] * len(texts)
    for start in range(0, len(texts), 2000):
        scores += scorer.score_batch(texts[start:start + 2000], ids[start:start + 2000])
    frame = pd.DataFrame([s.scores for s in scores])
    frame["stance"] = [s.stance for s in scores]
    frame["language"] = [s.language for s in scores]
    frame["_score"] = scores
    return frame


def score_texts(scorer: Scorer, texts, article_ids=None) -> pd.DataFrame:
    """Scores of many texts in chunks: one column per score, plus ``stance``, ``language``, ``_score``."""
    return _score_texts(scorer, texts, article_ids)


def plot_pr_and_calibration(frame: pd.DataFrame, preds: pd.DataFrame, out: Path, title: str) -> list[str]:
    """Precision-recall and calibration curves per head, saved as a PNG in ``out``; the file names."""
    return _plot_pr_and_calibration(frame, preds, out, title)


def plot_confusion(y, pred, out: Path, title: str) -> str:
    """A stance confusion matrix saved as a PNG in ``out``; the file name."""
    return _plot_confusion(y, pred, out, title)


def _obfuscated(text: str) -> bool:
    # a name or group word read as its placeholder, or a swear word read in its innocent sense, is not obfuscation
    named = mask_given_names(Normalised.of(text)).text
    plain = " ".join(re.sub(r"<[^>]+>", " ", named).lower().split())
    plain = read_innocent_senses(mask_group_words(Normalised.of(plain))).text
    return normalise(text).text != plain and bool(re.search(r"[*@$!0-9]|\w[ .]\w[ .]\w|(\w)\1\1", text))


def slices(texts: pd.Series, parent: pd.Series | None = None) -> dict[str, np.ndarray]:
    """Boolean masks of the report's slices."""
    out = {"all": np.ones(len(texts), bool),
           "identity mentions": texts.str.contains(_IDENTITY).to_numpy(),
           "short (<= 60 chars)": (texts.str.len() <= 60).to_numpy(),
           "obfuscated": texts.map(_obfuscated).to_numpy()}
    if parent is not None:
        out["replies"] = parent.notna().to_numpy()
    return out


def sliced_table(frame: pd.DataFrame, preds: pd.DataFrame, masks: dict, labels=POLICY_LABELS) -> pd.DataFrame:
    """Per label and slice: ROC AUC, AP and F1 on rows that label it."""
    rows = []
    for label in labels:
        if label not in preds:  # a head the model lacks (spam, for a model trained before it)
            continue
        for name, mask in masks.items():
            known = mask & frame[label].notna().to_numpy()
            if known.sum() < 20:
                continue
            m = label_metrics(frame.loc[known, label], preds.loc[known, label])
            rows.append({"label": label, "slice": name, **{k: m.get(k, np.nan) for k in
                         ("n", "positives", "roc_auc", "avg_precision", "precision", "recall", "f1")}})
    return pd.DataFrame(rows)


def _plot_pr_and_calibration(frame, preds, out: Path, title: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for label in HEADS:
        if label not in preds:
            continue
        known = frame[label].notna().to_numpy()
        y = frame.loc[known, label].astype(int).to_numpy()
        if y.sum() == 0 or y.sum() == len(y):
            continue
        p = preds.loc[known, label].to_numpy()
        prec, rec, _ = precision_recall_curve(y, p)
        axes[0].plot(rec, prec, label=f"{label} (AP {average_precision_score(y, p):.2f})")
        bins = np.linspace(0, 1, 11)
        idx = np.clip(np.digitize(p, bins) - 1, 0, 9)
        mean_p = [p[idx == b].mean() for b in range(10) if (idx == b).sum() >= 10]
        frac = [y[idx == b].mean() for b in range(10) if (idx == b).sum() >= 10]
        axes[1].plot(mean_p, frac, marker="o", label=label)
    axes[0].set(xlabel="recall", ylabel="precision", title=f"Precision-recall: {title}")
    axes[1].plot([0, 1], [0, 1], "k--", lw=0.8)
    axes[1].set(xlabel="predicted probability", ylabel="observed frequency", title=f"Calibration: {title}")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    name = f"pr-calibration-{re.sub(r'[^a-z]+', '-', title.lower()).strip('-')}.png"
    fig.savefig(out / name, dpi=90)
    plt.close(fig)
    names.append(name)
    return names


def _plot_confusion(y, pred, out: Path, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = confusion_matrix(y, pred, labels=list(STANCES))
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(4), STANCES, rotation=30)
    ax.set_yticks(range(4), STANCES)
    for i in range(4):
        for j in range(4):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    name = f"stance-confusion-{re.sub(r'[^a-z]+', '-', title.lower()).strip('-')}.png"
    fig.savefig(out / name, dpi=90)
    plt.close(fig)
    return name


JIGSAW = "jigsaw_toxic_sample"
JIGSAW_RANDOM = "jigsaw_toxic_sample, random draw only (natural prevalence)"


def public_validation(root: Path, data_dir: Path = DATA) -> pd.DataFrame:
    """The public sources' validation rows that training never saw, as ``train.train`` left them
    (``train.violation_splits``: by item id, less every row whose normalised text is a training row's).

    Training is taken as the default model's (public sources and the corpus's training split); rows
    trained on by a model that also read exported decisions are not known here.
    """
    _, valid = violation_splits(root, data_dir, use_corpus=True)
    seen = {k: v for k, v in valid.attrs.get("seen_in_training", {}).items() if k != "corpus"}
    out = valid[valid["source"] != "corpus"].reset_index(drop=True)
    out.attrs["seen_in_training"] = seen
    return out


def scored_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose labels evaluation must not score (``train.scored_rows``) are NaN."""
    out = frame.copy()
    for head in HEADS:
        out.loc[~scored_rows(frame, head), head] = np.nan
    return out


def _counts(by_source: dict) -> str:
    total = sum(by_source.values())
    return f"{total:,} rows" + (" (" + ", ".join(f"{k} {v:,}" for k, v in sorted(by_source.items())) + ")"
                                if total else "")


def _source_rows(source: str, part: pd.DataFrame, preds: pd.DataFrame) -> list[dict]:
    rows = []
    for label in HEADS:
        if label not in preds:
            continue
        known = part[label].notna()
        if known.sum() >= 20 and 0 < part.loc[known, label].sum() < known.sum():
            m = label_metrics(part.loc[known, label], preds.loc[part.index[known], label])
            rows.append({"source": source, "label": label, "n": m["n"], "positives": m["positives"],
                         "roc_auc": m["roc_auc"], "avg_precision": m["avg_precision"],
                         "precision": m["precision"], "recall": m["recall"], "f1": m["f1"]})
    return rows


def evaluate_validation(scorer: Scorer, report: Report, root: Path, policy=None) -> None:
    """Public-source validation splits: per label, per source and per slice."""
    valid = public_validation(root)
    weak = valid["weak_profanity"].to_numpy(bool)
    scored = scored_labels(valid)
    preds = _score_texts(scorer, valid["text"])
    report.add("## Validation splits of the public sources", "",
               "Carved by hash of each source's item id (15%), less every row whose normalised text, or the "
               "same words under other handles, links or punctuation (retweets, templated messages), is also a "
               "training row's (training leaves them out of its validation too: "
               f"{_counts(valid.attrs.get('seen_in_training', {}))} here), so no row below was trained on; "
               "closer paraphrases are not removed. The sources' official test splits are held by the data "
               "owners and are not used here. These are development figures: source weights, class balance "
               "and the corpus parts trained on were each chosen among a few options by comparing them on "
               "these splits, so they flatter the model by about the gaps between those options (0.003-0.01 "
               "of OLID macro-F1; README).", "",
               f"OLID profanity: annotators' untargeted-profanity label only; lexicon-derived labels left out "
               f"({int(weak.sum())} targeted-insult tweets that training marks profane because they hold a word "
               "of our profanity lexicon, which the scorer also reads: scoring them would test the lexicon "
               "against itself). Targeted insults without such a word carry no profanity label either way.", "",
               "Jigsaw: half its validation rows come from stratified pools (three of abusive comments, two of "
               f"clean ones), so their share of abuse is set by the sampling. The rows \"{JIGSAW_RANDOM}\" are "
               "its random draw alone, at the natural share: read precision, F1 and average precision there. "
               "ROC AUC depends on the mix too (which abusive and clean comments the pools hold), so the pooled "
               "figure is neither the pools' nor the random draw's; the 95% intervals below are a bootstrap "
               "over the pooled rows.", "")
    rows = []
    for source, part in scored.groupby("source"):
        rows += _source_rows(source, part, preds)
        if source == JIGSAW:
            rows += _source_rows(JIGSAW_RANDOM, part[part["part"] == "random"], preds)
    table = pd.DataFrame(rows)
    report.table(table)
    report.metrics["validation_by_source"] = table.to_dict("records")
    report.add("### Slices (all public validation rows)", "")
    sl = sliced_table(scored, preds, slices(valid["text"]))
    report.table(sl)
    report.metrics["validation_slices"] = sl.to_dict("records")
    # Offensive-vs-not on tweets (OLID): any of our three labels against OFF/NOT.
    olid = valid[valid["source"] == "olid"]
    if len(olid):
        y = olid["toxicity"].astype(int)
        p = preds.loc[olid.index, list(POLICY_LABELS)].max(axis=1) >= 0.5
        report.metrics["olid_offensive_macro_f1"] = f1_score(y, p, average="macro")
        lo, hi = bootstrap_interval(lambda idx: f1_score(y.to_numpy()[idx], p.to_numpy()[idx], average="macro"), len(y))
        report.metrics["olid_offensive_macro_f1_95"] = [lo, hi]
        report.add(f"OLID offensive-vs-not macro-F1 (any policy label >= 0.5): "
                   f"**{report.metrics['olid_offensive_macro_f1']:.3f}** on {len(olid)} validation tweets "
                   f"(95% bootstrap interval {lo:.3f} to {hi:.3f}).", "")
    jigsaw = scored[scored["source"] == JIGSAW]
    lines = []
    for label in POLICY_LABELS:
        known = jigsaw[label].notna().to_numpy()
        y_j = jigsaw.loc[known, label].astype(int).to_numpy()
        s_j = preds.loc[jigsaw.index[known], label].to_numpy()
        if 0 < y_j.sum() < len(y_j):
            auc = roc_auc_score(y_j, s_j)
            lo, hi = bootstrap_interval(lambda idx, y=y_j, s=s_j: roc_auc_score(y[idx], s[idx]), len(y_j))
            report.metrics.setdefault("jigsaw_auc_95", {})[label] = [auc, lo, hi]
            lines.append(f"{label} {auc:.3f} ({lo:.3f} to {hi:.3f}; {int(y_j.sum())} positives)")
    if lines:
        report.add("Jigsaw ROC AUC with 95% bootstrap intervals (pooled rows): " + ", ".join(lines) + ".", "")
    for name in _plot_pr_and_calibration(scored, preds, report.directory, "public validation"):
        report.add(f"![precision-recall and calibration]({name})", "")
    if policy is not None:
        evaluate_spam_alarms(report, policy, valid, preds)
        evaluate_published_news(scorer, report, policy, valid, root)


def bootstrap_interval(metric, n: int, resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of ``metric(indices)`` over ``resamples`` draws of ``n`` rows with replacement
    (draws where the metric is undefined, one class only, are skipped)."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        try:
            values.append(metric(rng.integers(0, n, n)))
        except ValueError:
            continue
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    return (float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))) if len(values) else (np.nan, np.nan)


def evaluate_spam_alarms(report: Report, policy, valid: pd.DataFrame, preds: pd.DataFrame) -> None:
    """The share of each public source's validation texts the spam clause would hold or reject: none labels
    spam, and nearly none is, so every one is (almost surely) a false alarm."""
    clause = policy.clause_for("spam")
    if clause is None or "spam" not in preds:
        return
    rows = [{"source": source, "n": len(part), "at_or_over_hold_at": float((preds.loc[part.index, "spam"]
                                                                            >= clause.hold_at).mean()),
             "at_or_over_reject_at": float((preds.loc[part.index, "spam"] >= clause.reject_at).mean())}
            for source, part in valid.groupby("source") if source != "corpus"]
    report.metrics["spam_public_alarms"] = rows
    report.add("### Spam alarms on the public sources", "",
               "No public source labels spam (the corpus is the only one; its test split is scored below), and "
               "these texts (tweets, Wikipedia talk, Civil Comments, generated statements, the Times' published "
               "comments) hold next to none: the share at or over the `" + clause.id + "` clause's thresholds "
               f"(hold {clause.hold_at}, reject {clause.reject_at}) is the share of false alarms. In-sample: the "
               "example policy's spam hold line (0.6 rather than 0.5) was chosen on these validation rows.", "")
    report.table(pd.DataFrame(rows))


NYT = "nyt_comments"


def evaluate_published_news(scorer: Scorer, report: Report, policy, valid: pd.DataFrame, root: Path) -> None:
    """Comments a newsroom's moderators published (the ARC data's New York Times comments, validation
    split): the share the example policy would not approve. Nearly all should be approved."""
    ids = valid.loc[valid["source"] == NYT, "split_key"].drop_duplicates()
    if not len(ids):
        return
    # Each comment once (a few texts appear under two Body IDs), as the Times published it.
    texts = sources.nyt_comment_texts(root).loc[ids].drop_duplicates()
    preds = _score_texts(scorer, texts)
    actions = pd.Series([policy.decide(s).action for s in preds["_score"]])
    # A clause on a head the model does not have (spam, for a model trained before it) is left out.
    rows = [{"clause": c.id, "labels": ", ".join(c.labels), "hold_at": c.hold_at,
             "at_or_over_hold_at": float((preds[list(c.labels)].max(axis=1) >= c.hold_at).mean())}
            for c in policy.clauses if set(c.labels) <= set(preds.columns)]
    held, rejected = float((actions == "hold").mean()), float((actions == "reject").mean())
    report.metrics["published_news"] = {"n": len(texts), "held": held, "rejected": rejected, "by_clause": rows}
    report.add("## Published news comments (New York Times, ARC data)", "",
               f"{len(texts):,} reader comments the Times published (its moderators approve every comment before it "
               "appears, under standards that forbid personal attacks, vulgarity and hate), the validation split "
               f"of source `{NYT}`. Under `data/policy.toml` **{held:.1%}** would be held and **{rejected:.1%}** "
               "rejected. A few deserve it (sharp words about public figures pass the Times' standards, not our "
               "guideline), but most such holds are false alarms a moderator must clear. Share at or over each "
               "clause's `hold_at`:", "")
    report.table(pd.DataFrame(rows))


RELIABILITY_BANDS = (0.0, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 1.0)


def reliability_table(frame: pd.DataFrame, preds: pd.DataFrame, labels) -> pd.DataFrame:
    """Per label and score band: how many comments scored in it, and the share that carry the label."""
    rows = []
    for label in labels:
        known = frame[label].notna().to_numpy()
        y = frame.loc[known, label].to_numpy(dtype=float)
        p = preds[label].to_numpy()[known]
        band = np.clip(np.searchsorted(RELIABILITY_BANDS, p, side="right") - 1, 0, len(RELIABILITY_BANDS) - 2)
        for b in range(len(RELIABILITY_BANDS) - 1):
            inside = band == b
            rows.append({"label": label, "band": f"{RELIABILITY_BANDS[b]:.2f}-{RELIABILITY_BANDS[b + 1]:.2f}",
                         "comments": int(inside.sum()),
                         "labelled_share": float(y[inside].mean()) if inside.any() else float("nan")})
    return pd.DataFrame(rows)


def evaluate_corpus(scorer: Scorer, report: Report, policy) -> None:
    """The corpus's fixed article-disjoint test split: labels, stance, expected action."""
    articles, comments = corpus.load_corpus(DATA)
    test = comments[comments["test"]].reset_index(drop=True)
    for a in articles[articles["test"]].itertuples():
        scorer.add_article(Article(a.id, a.title, a.body))
    preds = _score_texts(scorer, test["text"], test["article_id"])
    frame = corpus.violation_frame(test)
    report.add("## In-domain: the corpus's article-disjoint test split", "",
               f"{len(test)} comments under {articles['test'].sum()} articles that training never saw. Not a sealed "
               "test: which corpus parts to train on or hold out, and the word lists for insults aimed at things "
               "(read while writing the `idea` part), were chosen by comparing figures on this split, so it "
               "flatters the model somewhat (README).", "")
    masks = slices(test["text"], test["parent_id"])
    masks.update({f"part {part} (held out whole)": (test["part"] == part).to_numpy() for part in corpus.TEST_PARTS})
    sl = sliced_table(frame, preds, masks, labels=HEADS)
    report.table(sl)
    report.metrics["corpus_test"] = sl.to_dict("records")
    reliability = reliability_table(frame, preds, POLICY_LABELS)
    report.metrics["corpus_test_reliability"] = reliability.to_dict("records")
    report.add("Reliability on these comments: of the comments whose score fell in each band, the share that "
               "carry the label (a calibrated score matches its band; where the share is higher, the model is "
               "under-confident on news comments).", "")
    report.table(reliability)
    f1 = f1_score(test["stance"], preds["stance"], labels=list(STANCES), average=None, zero_division=0)
    report.metrics["corpus_stance_macro_f1"] = float(f1.mean())
    report.add(f"Stance macro-F1: **{f1.mean():.3f}** (" + ", ".join(
        f"{s} {v:.2f}" for s, v in zip(STANCES, f1)) + ")", "")
    report.add(f"![corpus stance]({_plot_confusion(test['stance'], preds['stance'], report.directory, 'corpus test')})", "")
    actions = [policy.decide(s).action for s in preds["_score"]]
    acc = float(np.mean(np.array(actions) == test["action"].to_numpy()))
    report.metrics["corpus_action_accuracy"] = acc
    cm = pd.crosstab(test["action"].rename("expected"), pd.Series(actions, name="verdict"))
    report.add(f"Verdict under `data/policy.toml` equals the labelled action for **{acc:.1%}** of comments.", "")
    report.table(cm.reset_index())
    clause = policy.clause_for("spam")
    if clause is not None and "spam" in preds:
        y, p = test["spam"].to_numpy(bool), preds["spam"].to_numpy()
        spam = {"n": len(y), "spam": int(y.sum()), "held_or_rejected": int((p[y] >= clause.hold_at).sum()),
                "rejected": int((p[y] >= clause.reject_at).sum()),
                "false_alarms_held_or_rejected": int((p[~y] >= clause.hold_at).sum()),
                "false_alarms_rejected": int((p[~y] >= clause.reject_at).sum())}
        report.metrics["corpus_spam"] = spam
        report.add(f"Spam: of the {spam['spam']} spam comments, the `{clause.id}` clause holds or rejects "
                   f"{spam['held_or_rejected']} (rejects {spam['rejected']}); of the {len(y) - spam['spam']:,} others "
                   f"it holds or rejects {spam['false_alarms_held_or_rejected']} "
                   f"(rejects {spam['false_alarms_rejected']}).", "")


def evaluate_stance(scorer: Scorer, report: Report, root: Path) -> None:
    """Claim-disjoint stance validation on the ARC pairs (and corpus validation articles)."""
    train, valid = load_stance_data(root, DATA, use_corpus=False)
    valid["norm_comment"] = [normalise(t).text for t in valid["comment"]]
    valid["norm_article"] = [normalise(t).text for t in valid["article"]]
    inputs = stance_inputs(scorer.violation.featurizer_, valid["norm_comment"].tolist(), valid["norm_article"].tolist())
    pred = np.array(STANCES)[scorer.stance.predict_proba(*inputs).argmax(axis=1)]
    f1 = f1_score(valid["stance"], pred, labels=list(STANCES), average=None, zero_division=0)
    related = valid["stance"] != "unrelated"
    f1_rel = f1_score(valid.loc[related, "stance"], pred[related.to_numpy()], labels=["favor", "against", "neutral"],
                      average="macro", zero_division=0)
    # The split is by claim: a comment is paired with several claims (all but one "unrelated"), so most
    # validation comments were trained on, paired with a training claim.
    trained = set(normalise(t).text for t in train["comment"].unique())
    unseen = ~valid["norm_comment"].isin(trained).to_numpy()
    f1_unseen = f1_score(valid.loc[unseen, "stance"], pred[unseen], labels=list(STANCES), average=None,
                         zero_division=0)
    report.metrics["arc_stance_macro_f1"] = float(f1.mean())
    report.metrics["arc_stance_unseen_comments"] = {"pairs": int(unseen.sum()), "macro_f1": float(f1_unseen.mean())}
    counts = valid.loc[unseen, "stance"].value_counts()
    report.add("## Stance on unseen claims (ARC, claim-disjoint validation)", "",
               f"{len(valid)} pairs on {valid['claim_id'].nunique()} claims never trained on (their comments "
               f"may have been: {len(valid) - int(unseen.sum())} of the pairs have a comment that training also "
               "read, paired with another claim). Macro-F1 "
               f"**{f1.mean():.3f}** (" + ", ".join(f"{s} {v:.2f}" for s, v in zip(STANCES, f1)) +
               f"); favor/against/neutral macro-F1 on related pairs only: {f1_rel:.3f}.", "",
               f"Subset: the {int(unseen.sum())} validation pairs whose comment never appears in a stance "
               "training pair (training still reads most ARC comments without their stance: the text features' "
               "weights are learnt from them, and four violation heads take them as clean examples) ("
               + ", ".join(f"{s} {int(counts.get(s, 0))}" for s in STANCES) + f"): macro-F1 {f1_unseen.mean():.3f} ("
               + ", ".join(f"{s} {v:.2f}" for s, v in zip(STANCES, f1_unseen)) + "); few pairs, read it loosely.", "",
               f"![arc stance]({_plot_confusion(valid['stance'], pred, report.directory, 'arc validation')})", "")


def evaluate_behaviour(scorer: Scorer, report: Report) -> pd.DataFrame:
    """The hand-written behaviour cases: does each label score fall on the expected side of 0.5?"""
    cases = pd.read_json(DATA / "behaviour" / "cases.jsonl", lines=True)
    scores = scorer.score_batch(cases["text"].tolist())
    # A model without a case's head (one from before the spam head) flags nothing for it: it scores 0.
    cases["score"] = [s.scores.get(lab, 0.0) for s, lab in zip(scores, cases["label"])]
    cases["passed"] = np.where(cases["expect"] == "high", cases["score"] >= 0.5, cases["score"] < 0.5)
    summary = cases.groupby("category").agg(cases=("passed", "size"), passed=("passed", "sum"))
    summary["accuracy"] = summary["passed"] / summary["cases"]
    report.add("## Behaviour cases (`data/behaviour/cases.jsonl`)", "",
               "Hand-written minimum-functionality cases; a case passes when its label's score is on the "
               "expected side of 0.5.", "")
    report.table(summary.reset_index())
    failed = cases[~cases["passed"]]
    if len(failed):
        report.add("Failing cases:", "")
        report.table(failed[["category", "label", "expect", "score", "text"]])
    report.metrics["behaviour"] = summary.reset_index().to_dict("records")
    return cases


def _flagged(scores) -> list[bool]:
    """Whether any policy label scores 0.5 or more: how a functional case is read."""
    return [max(s.scores[label] for label in POLICY_LABELS) >= 0.5 for s in scores]


def _halves(cases: pd.DataFrame, column: str) -> dict[str, float]:
    """The mean of ``column`` over the hateful cases and over the others."""
    return {name: float(cases.loc[cases["hateful"] == hateful, column].mean())
            for name, hateful in (("hateful", True), ("non_hateful", False))}


def evaluate_functional(scorer: Scorer, report: Report) -> pd.DataFrame:
    """Our functional probes (templates x identity groups): accuracy on the hateful and non-hateful halves."""
    spec = json.loads((DATA / "behaviour" / "functional.json").read_text())
    rows = [{**case, "group": g, "text": case["template"].format(g=g)} for case in spec["cases"] for g in spec["groups"]]
    cases = pd.DataFrame(rows)
    scores = scorer.score_batch(cases["text"].tolist())
    flagged = np.array(_flagged(scores))
    cases["passed"] = np.where(cases["hateful"], flagged, ~flagged)
    halves = _halves(cases, "passed")
    report.metrics["functional"] = {"accuracy": float(cases["passed"].mean()), **halves}
    by = cases.groupby(["hateful", "functionality"]).agg(cases=("passed", "size"), accuracy=("passed", "mean"))
    report.add("## Functional probes (`data/behaviour/functional.json`)", "",
               f"{len(spec['cases'])} templates we wrote x {len(spec['groups'])} identity groups. {spec['about']}", "",
               f"Accuracy **{cases['passed'].mean():.1%}**: hateful half {halves['hateful']:.1%}, non-hateful half "
               f"{halves['non_hateful']:.1%}. Group words are read as one placeholder (README), so every group "
               f"scores alike and the {len(cases)} cases are {cases['text'].map(normalise_text).nunique()} distinct "
               f"inputs to the model: read these as {len(spec['cases'])} template results "
               f"({int(cases.groupby('template')['passed'].mean().round().sum()) if 'template' in cases else '?'} "
               "passed), not as many independent cases. Two spelling-variation templates were added after the "
               "step that reads slips of abusive words (README).", "")
    report.table(by.reset_index().sort_values(["hateful", "accuracy"]))
    # The same sentences with the group changed: a fair model scores them alike.
    groups = cases.pivot_table(index="group", columns="hateful", values="passed", aggfunc="mean")
    groups = groups.rename(columns={True: "hateful_accuracy", False: "non_hateful_accuracy"}).reset_index()
    report.metrics["functional"]["by_group"] = groups.to_dict("records")
    report.add("By group (the same templates for every group):", "")
    report.table(groups.sort_values("non_hateful_accuracy"))
    return cases


def evaluate_blind_probes(scorer: Scorer, report: Report, policy) -> None:
    """Functional cases and neutral identity mentions written blind (``data/behaviour/functional_blind.jsonl``,
    ``identity_blind.jsonl``): how the model does on hate-speech tests nobody tuned it on."""
    cases = pd.read_json(DATA / "behaviour" / "functional_blind.jsonl", lines=True)
    scores = scorer.score_batch(cases["text"].tolist())
    cases["passed"] = np.array(_flagged(scores)) == cases["hateful"]
    cases["held_right"] = np.array([policy.decide(s).action != "approve" for s in scores]) == cases["hateful"]
    halves, held = _halves(cases, "passed"), _halves(cases, "held_right")
    identity = pd.read_json(DATA / "behaviour" / "identity_blind.jsonl", lines=True)
    id_scores = scorer.score_batch(identity["text"].tolist())
    identity["action"] = [policy.decide(s).action for s in id_scores]
    not_approved = identity[identity["action"] != "approve"]
    report.metrics["functional_blind"] = {"accuracy": float(cases["passed"].mean()), **halves,
                                          "policy_accuracy": float(cases["held_right"].mean()),
                                          "policy_hateful": held["hateful"], "policy_non_hateful": held["non_hateful"]}
    report.metrics["identity_blind_flag_rate"] = len(not_approved) / len(identity)
    by = cases.groupby(["hateful", "functionality"]).agg(cases=("passed", "size"), accuracy=("passed", "mean"))
    report.add("## Hate-speech tests written blind (`data/behaviour/functional_blind.jsonl`, `identity_blind.jsonl`)", "",
               f"{len(cases)} functional cases in the style of published functional test suites ({int(cases['hateful'].sum())} "
               f"hateful, {int((~cases['hateful']).sum())} not: counter-speech, negated hate, abuse of things and of "
               f"people who are no group, non-hateful profanity) and {len(identity)} neutral or positive sentences naming "
               f"{identity['group'].nunique()} groups, written on 2026-12-07 by a helper that saw neither the model, "
               "its data nor our own probes. Nothing was trained on them, but three later steps were made after they showed "
               "failures (masked slurs and misspelt group words read as the words, and the derogation rule's negated "
               "opinion verbs: README), so those kinds of case are no longer unseen. A functional case passes when any "
               "policy label "
               "scores >= 0.5 for a hateful one and none does for the others, as our own probes are read.", "",
               f"Functional accuracy **{cases['passed'].mean():.1%}**: hateful half {halves['hateful']:.1%}, non-hateful "
               f"half {halves['non_hateful']:.1%} (our own, in-sample probes above read higher). Under the example "
               f"policy (held or rejected counts as flagged): {cases['held_right'].mean():.1%}, hateful "
               f"{held['hateful']:.1%}, non-hateful {held['non_hateful']:.1%}. The non-hateful half counts abuse of "
               "people and things and non-hateful profanity as passes only when unflagged, though our policy flags "
               "them as profanity or personal attacks.", "")
    report.table(by.reset_index().sort_values(["hateful", "accuracy"]))
    report.add(f"Neutral identity sentences not approved under the example policy: **{len(not_approved)} of "
               f"{len(identity)}** ({len(not_approved) / len(identity):.1%}; target at most 10%).", "")
    if len(not_approved):
        report.table(not_approved[["group", "action", "text"]])


def evaluate_homonyms(scorer: Scorer, report: Report, policy) -> None:
    """Everyday words that are, hold or resemble swear words and insults (``data/behaviour/homonyms.jsonl``):
    the share of innocent comments the example policy does not approve, and of abusive ones it does."""
    cases = pd.read_json(DATA / "behaviour" / "homonyms.jsonl", lines=True)
    scores = scorer.score_batch(cases["text"].tolist())
    cases["action"] = [policy.decide(s).action for s in scores]
    innocent = cases[cases["set"] == "innocent"]
    abusive = cases[cases["set"] == "abusive"]
    flagged = innocent[innocent["action"] != "approve"]
    missed = abusive[abusive["action"] == "approve"]
    report.metrics["homonyms"] = {"innocent": len(innocent), "innocent_not_approved": len(flagged),
                                  "abusive": len(abusive), "abusive_approved": len(missed)}
    report.add("## Innocent words that look like abuse (`data/behaviour/homonyms.jsonl`)", "",
               f"{len(innocent)} innocent comments holding everyday words that are, hold or resemble swear words "
               f"and insults (a bastard file, a literal pig, Scunthorpe, rats in the shed) and {len(abusive)} abusive "
               "ones using the same kinds of words, written by a helper that saw neither the model nor its word "
               "lists. Under the example policy, innocent comments not approved: "
               f"**{len(flagged)} of {len(innocent)}**; abusive comments approved: **{len(missed)} of {len(abusive)}**.", "")
    if len(flagged):
        report.add("Innocent comments held or rejected:", "")
        report.table(flagged[["word", "action", "text"]])
    if len(missed):
        report.add("Abusive comments approved:", "")
        report.table(missed[["word", "label", "text"]])


def evaluate_identity_probes(scorer: Scorer, report: Report, policy) -> None:
    """Neutral identity-term sentences: the share the example policy would not approve."""
    texts = [t.format(g=g) for t in PROBE_TEMPLATES for g in IDENTITY_GROUPS]
    scores = scorer.score_batch(texts)
    flagged = np.array([policy.decide(s).action != "approve" for s in scores])
    by_group = pd.DataFrame({"group": [g for _ in PROBE_TEMPLATES for g in IDENTITY_GROUPS], "flagged": flagged,
                             "incitement": [s.scores["incitement"] for s in scores]})
    worst = by_group.groupby("group").agg(flagged=("flagged", "mean"), mean_incitement=("incitement", "mean"))
    worst = worst.sort_values("mean_incitement", ascending=False).head(8).reset_index()
    report.metrics["identity_probe_flag_rate"] = float(flagged.mean())
    report.add("## Identity-term probes", "",
               f"{len(texts)} neutral sentences ({len(PROBE_TEMPLATES)} templates x {len(IDENTITY_GROUPS)} "
               f"groups; {len({normalise_text(t) for t in texts})} distinct inputs once group words are read as one "
               f"placeholder). Not approved under the example policy: **{flagged.mean():.1%}**. In-sample: the "
               "weight given to clean comments that name a group was tuned until none of these was held "
               "(README), so this shows the tuning held, not how other neutral sentences fare. Groups with the "
               "highest mean incitement score:", "")
    report.table(worst)


def write_model_card(scorer: Scorer, report: Report, card: Path) -> None:
    """The model card: data and licences, metrics, limitations; written next to the model files."""
    m = scorer.manifest
    lic = {s.name: s.licence for s in sources.SOURCES.values()}
    used = m.get("training_data", {}).get("sources", [])
    lines = [f"# Model card: moderation {m.get('model_version')}", "",
             "Linear models over hashed word and character n-grams of normalised text: one calibrated "
             f"logistic-regression head per label ({', '.join(scorer.violation.heads)}) and a one-vs-rest "
             "logistic stance model (favor, against, neutral, unrelated) that also reads comment-article "
             "relatedness.", "",
             "## Training data", "", "| source | licence | rows used |", "|---|---|---|"]
    rows = m.get("training_data", {}).get("rows", {})
    by_source = m.get("training_data", {}).get("rows_by_source", {})
    for s in used:
        counts = [f"{by_source[kind][s]:,} {kind}" for kind in ("violation", "stance") if s in by_source.get(kind, {})]
        where = " (train split)" if s == "corpus" else ""
        lines.append(f"| {s} | {lic.get(s, 'project corpus, written by us (data/README.md)')} | "
                     f"{', '.join(counts) + where if counts else 'see manifest'} |")
    lines += ["", f"Violation rows: {rows.get('violation')}; stance pairs: {rows.get('stance')}. File hashes "
              "are in `manifest.json`.", "", "## Metrics", "",
              "Full report: `docs/evaluation/README.md` (from `make evaluate-default`). Headlines:", ""]
    for key in ("olid_offensive_macro_f1", "arc_stance_macro_f1", "corpus_stance_macro_f1",
                "corpus_action_accuracy", "identity_probe_flag_rate"):
        if key in report.metrics:
            lines.append(f"- {key.replace('_', ' ')}: {report.metrics[key]:.3f}")
    if "functional" in report.metrics:
        f = report.metrics["functional"]
        lines.append(f"- functional probes accuracy: {f['accuracy']:.3f} (hateful half {f['hateful']:.3f}, "
                     f"non-hateful half {f['non_hateful']:.3f})")
    if "functional_blind" in report.metrics:
        f = report.metrics["functional_blind"]
        lines.append(f"- functional cases written blind (nothing tuned on them): accuracy {f['accuracy']:.3f} (hateful "
                     f"half {f['hateful']:.3f}, non-hateful half {f['non_hateful']:.3f}); neutral identity sentences "
                     f"written blind, not approved: {report.metrics['identity_blind_flag_rate']:.3f}")
    if "published_news" in report.metrics:
        news = report.metrics["published_news"]
        lines.append(f"- published New York Times comments (validation split, {news['n']:,}) the example policy "
                     f"would hold: {news['held']:.3f}, reject: {news['rejected']:.3f}")
    lines += ["", "Per label on the corpus test split (all comments):", "",
              "| label | ROC AUC | AP | F1@0.5 |", "|---|---|---|---|"]
    for r in report.metrics.get("corpus_test", []):
        if r["slice"] == "all":
            lines.append(f"| {r['label']} | {_fmt(r['roc_auc'])} | {_fmt(r['avg_precision'])} | {_fmt(r['f1'])} |")
    adjusted = m.get("domain_adjustments") or {}
    if adjusted:
        lines += ["", "Re-calibrated for news comments (`ViolationModel.adjust_to_domain`) on the corpus's validation "
                  "articles, which training never saw: probability = sigmoid(a * logit(p) + b), p the pooled "
                  "curve's value.", "", "| head | a | b | comments | positives |", "|---|---|---|---|---|"]
        lines += [f"| {h} | {v['a']:.3f} | {v['b']:.3f} | {v['rows']} | {v['positives']} |"
                  for h, v in sorted(adjusted.items())]
    lines += ["", "## Known limitations", "",
              "- English only: other languages are detected and reported, and the example policy holds them.",
              "- Bag-of-n-grams: it sees words, not meaning. Negation, quotation (counter-speech) and sarcasm "
              "are only partly handled; see the behaviour table in the report.",
              "- Training text is mostly Wikipedia talk pages, tweets and Civil Comments; tweets carry a known "
              "dialect bias (Davidson et al.), down-weighted but not removed.",
              "- Words naming a protected group (`lexicon.GROUP_WORDS`) are read as one placeholder word, so the "
              "groups on that list score alike; a group named in other words, misspelt or by a slur is read as "
              "those words, with whatever the training data taught about them.",
              "- Insult words aimed at things (\"a stupid plan\", \"this law is insane\") are read as criticism, "
              "not personal attacks, by a rule at scoring time (`moderation/targets.py`) with fixed word lists: "
              "a noun outside them, or an insult without such a word, is read as the model learnt it.",
              "- Stance is learnt from one-sentence claims and our corpus; long articles and subtle stance are hard.",
              *(["- Spam is learnt from our corpus's spam comments alone (no public source labels it), a few "
                 "hundred at most: kinds it has not seen pass, readers quoting a scam text to warn others or "
                 "giving a charity's donation page can be rejected as spam, and its scores take only a handful "
                 "of values."] if "spam" in scorer.violation.heads else []),
              "- Probabilities are calibrated on out-of-fold scores of the pooled training data (three folds)" + (
                  " (and, for the heads in the table above, re-calibrated on our corpus)" if adjusted else "") +
              ", whose share of abuse is higher than on a typical news site: thresholds belong in the site's "
              "policy, tuned on its own data.", ""]
    card.write_text("\n".join(lines))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--report", type=Path, default=Path("docs/evaluation"))
    parser.add_argument("--datasets", type=Path, default=None)
    parser.add_argument("--policy", type=Path, default=DATA / "policy.toml")
    args = parser.parse_args(argv)
    scorer = Scorer.load(args.model)
    policy = load_policy(args.policy)
    args.report.mkdir(parents=True, exist_ok=True)
    report = Report(args.report)
    report.add(f"# Evaluation of model {scorer.version}", "",
               "Written by `make evaluate-default` (`python -m training.evaluate`); every number below comes from it.", "")
    root = sources.datasets_dir(args.datasets)
    if root.is_dir():
        _log("public validation splits")
        evaluate_validation(scorer, report, root, policy)
        evaluate_stance(scorer, report, root)
    else:
        report.add(f"Public datasets not found at {root}: validation sections skipped.", "")
    _log("corpus test split")
    evaluate_corpus(scorer, report, policy)
    evaluate_behaviour(scorer, report)
    evaluate_functional(scorer, report)
    evaluate_identity_probes(scorer, report, policy)
    evaluate_blind_probes(scorer, report, policy)
    evaluate_homonyms(scorer, report, policy)
    (args.report / "README.md").write_text("\n".join(report.lines) + "\n")
    (args.report / "metrics.json").write_text(json.dumps(report.metrics, indent=2, default=float) + "\n")
    model_dir = Path(scorer.directory)
    write_model_card(scorer, report, model_dir / "MODEL_CARD.md")
    _log(f"wrote {args.report}/README.md and {model_dir}/MODEL_CARD.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
