"""Compare a candidate model with the live one on the same fixed evaluation sets, and judge it.

The sets are fixed so that two models are always measured on the same rows: the public sources'
validation splits (when the datasets are present), the corpus's article-disjoint test split (labels
and stance), ARC's claim-disjoint stance validation, the hand-written behaviour cases, and the
moderators' decisions held out by time (the most recent 20% of ``make data``'s export, never trained on).

A *gate* is one (set, label, metric) that both models are judged on: ROC AUC and F1 at 0.5 per head
on the violation sets (when the set has at least ``MIN_CLASS`` positives and negatives for it),
stance macro-F1 on the stance sets, and the pass rate per label of the behaviour cases. The
candidate is promotable when no gate is worse than live by more than the tolerance. Retraining
reshuffles the calibration folds, so on small sets F1 moves by a few examples from one run to the
next: a drop beyond the tolerance counts as worse only when a paired bootstrap over the set's rows
(200 resamples) puts the difference below zero with 95% confidence. Drops within that noise are
listed in the report, but do not block.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, roc_auc_score

from moderation.labels import HEADS, STANCES
from moderation.normalise import normalise
from moderation.scorer import Article, Scorer

from . import corpus, sources
from .decisions import read_decisions
from .evaluate import label_metrics, plot_confusion, plot_pr_and_calibration, public_validation, score_texts, slices
from .registry import write_atomic
from .train import load_stance_data, scored_rows, stance_inputs

__all__ = ["MIN_CLASS", "EvalSet", "compare", "discard_comparison", "fixed_sets", "judge", "measure"]

MIN_CLASS = 5  # positives and negatives a set needs before a label's metrics gate a promotion
BOOTSTRAP = 200  # paired resamples behind each gate's confidence bound


def _log(message: str) -> None:
    print(f"[evaluate] {message}", file=sys.stderr, flush=True)


@dataclass
class EvalSet:
    """One fixed evaluation set: ``violation`` rows with head columns, ``stance`` pairs or ``behaviour`` cases."""

    name: str
    kind: str
    frame: pd.DataFrame
    articles: list[Article] = field(default_factory=list)


def fixed_sets(datasets_root: Path | None = None, decisions: Path | None = None,
               data_dir: Path = corpus.DATA_DIR) -> list[EvalSet]:
    """The evaluation sets every comparison uses; public ones only when the datasets are present."""
    out = []
    root = sources.datasets_dir(datasets_root)
    if root.is_dir():
        # As the report has it: rows training saw left out, OLID's lexicon-derived profanity not scored.
        out.append(EvalSet("public validation", "violation", public_validation(root, data_dir)))
    else:
        _log(f"no public datasets at {root}: their validation splits are left out")
    articles, comments = corpus.load_corpus(data_dir)
    test = comments[comments["test"]].reset_index(drop=True)
    frame = corpus.violation_frame(test)
    frame["article_id"], frame["parent_id"], frame["stance"] = test["article_id"], test["parent_id"], test["stance"]
    out.append(EvalSet("corpus test", "violation", frame,
                       [Article(a.id, a.title, a.body) for a in articles[articles["test"]].itertuples()]))
    if root.is_dir():
        _, pairs = load_stance_data(root, data_dir, use_corpus=False)
        out.append(EvalSet("ARC stance validation", "stance", pairs))
    out.append(EvalSet("behaviour cases", "behaviour", pd.read_json(data_dir / "behaviour" / "cases.jsonl", lines=True)))
    held = read_decisions(decisions, "heldout") if decisions else []
    if held:
        frame = pd.DataFrame({"text": [r["text"] for r in held]})
        for head in HEADS:
            frame[head] = [np.nan if r.get(head) is None else float(r[head]) for r in held]
        out.append(EvalSet("held-out decisions", "violation", frame))
    return out


# Measuring one model -------------------------------------------------------------------------------
def _violation(scorer: Scorer, s: EvalSet) -> dict:
    for article in s.articles:
        scorer.add_article(article)
    ids = s.frame.get("article_id")
    preds = score_texts(scorer, s.frame["text"], ids)
    masks = slices(s.frame["text"].reset_index(drop=True), s.frame.get("parent_id"))
    labels = {}
    for label in HEADS:
        if label not in s.frame or label not in preds:  # a model trained before the head existed
            continue
        labels[label] = {}
        for slice_name, mask in masks.items():
            known = mask & scored_rows(s.frame, label)
            y = s.frame.loc[known, label].astype(int)
            if known.sum() == 0:
                continue
            m = label_metrics(y, preds.loc[known, label])
            m["negatives"] = int(m["n"] - m["positives"])
            m["caught"] = float((preds.loc[known, label][y == 1] >= 0.5).mean()) if m["positives"] else None
            labels[label][slice_name] = {k: (float(v) if v is not None else None) for k, v in m.items()}
    out = {"labels": labels, "_preds": preds}
    if "stance" in s.frame and s.articles:
        f1 = f1_score(s.frame["stance"], preds["stance"].fillna("unrelated"), labels=list(STANCES), average=None,
                      zero_division=0)
        out["stance_macro_f1"] = float(f1.mean())
    return out


def _stance(scorer: Scorer, s: EvalSet) -> dict:
    comments = [normalise(t).text for t in s.frame["comment"]]
    articles = [normalise(t).text for t in s.frame["article"]]
    inputs = stance_inputs(scorer.violation.featurizer_, comments, articles)
    pred = np.array(STANCES)[scorer.stance.predict_proba(*inputs).argmax(axis=1)]
    f1 = f1_score(s.frame["stance"], pred, labels=list(STANCES), average=None, zero_division=0)
    return {"stance_macro_f1": float(f1.mean()), "_pred": pred}


def _behaviour(scorer: Scorer, s: EvalSet) -> dict:
    scores = scorer.score_batch(s.frame["text"].tolist())
    # A model without a case's head (one from before the spam head) flags nothing for it: it scores 0.
    value = np.array([sc.scores.get(label, 0.0) for sc, label in zip(scores, s.frame["label"])])
    passed = np.where(s.frame["expect"] == "high", value >= 0.5, value < 0.5)
    rates = {label: float(passed[(s.frame["label"] == label).to_numpy()].mean()) for label in s.frame["label"].unique()}
    return {"pass_rate": rates, "passed": int(passed.sum()), "cases": len(passed), "_passed": passed}


def measure(scorer: Scorer, sets: list[EvalSet]) -> dict:
    """Metrics of one model on every set (keys starting with ``_`` hold predictions for plots)."""
    kinds = {"violation": _violation, "stance": _stance, "behaviour": _behaviour}
    out = {}
    for s in sets:
        _log(f"model {scorer.version}: {s.name} ({len(s.frame):,} rows)")
        out[s.name] = kinds[s.kind](scorer, s)
    return out


# Judging --------------------------------------------------------------------------------------------
def _f1(y, p):
    pred = p >= 0.5
    tp = (pred & (y == 1)).sum(axis=-1)
    return np.where(pred.sum(axis=-1) + (y == 1).sum(axis=-1) > 0,
                    2 * tp / np.maximum(pred.sum(axis=-1) + (y == 1).sum(axis=-1), 1), 0.0)


def _auc(y, p):
    return roc_auc_score(y, p) if 0 < y.sum() < len(y) else np.nan


def _macro_f1(y, p):
    return float(f1_score(y, p, labels=list(STANCES), average=None, zero_division=0).mean())


def _upper_delta(metric, y, live, cand, rng) -> float:
    """One-sided 95% upper bound of ``metric(cand) - metric(live)`` by paired bootstrap over rows."""
    n = len(y)
    deltas = []
    for _ in range(BOOTSTRAP):
        idx = rng.integers(0, n, n)
        deltas.append(metric(y[idx], cand[idx]) - metric(y[idx], live[idx]))
    deltas = np.asarray(deltas, dtype=float)
    deltas = deltas[~np.isnan(deltas)]
    return float(np.percentile(deltas, 95)) if len(deltas) else 0.0


def gates(sets: list[EvalSet], live: dict, candidate: dict, tolerance: float) -> list[dict]:
    """Every (set, label, metric) both models are judged on: values, difference, its bootstrap bound, verdict."""
    rows = []
    rng = np.random.default_rng(0)

    def add(set_name, label, metric, fn, y, p_live, p_cand, positives=None, exact=False):
        a, b = fn(y, p_live), fn(y, p_cand)
        if np.isnan(a) or np.isnan(b):
            return
        # ``exact``: the hand-written behaviour cases are what the model must do, not a sample of it, and a
        # bootstrap over a label's 8 to 60 cases puts a loss of one or two at "within noise" (its bound is 0).
        upper = None if b >= a else float(b - a) if exact else _upper_delta(fn, y, p_live, p_cand, rng)
        rows.append({"set": set_name, "label": label, "metric": metric, "live": round(float(a), 4),
                     "candidate": round(float(b), 4), "delta": round(float(b - a), 4),
                     "delta_upper95": None if upper is None else round(upper, 4), "n": len(y),
                     "positives": positives, "worse": bool(b < a - tolerance and upper is not None and upper < 0)})

    for s in sets:
        lm, cm = live[s.name], candidate[s.name]
        if s.kind == "violation":
            for label in lm["labels"]:
                if label not in cm["labels"]:  # a head only one of the two models has is not compared
                    continue
                known = scored_rows(s.frame, label)
                y = s.frame.loc[known, label].astype(int).to_numpy()
                if y.sum() < MIN_CLASS or len(y) - y.sum() < MIN_CLASS:
                    continue
                p_live, p_cand = lm["_preds"].loc[known, label].to_numpy(), cm["_preds"].loc[known, label].to_numpy()
                add(s.name, label, "roc_auc", _auc, y, p_live, p_cand, int(y.sum()))
                add(s.name, label, "f1", _f1, y, p_live, p_cand, int(y.sum()))
            if "stance_macro_f1" in lm:
                y = s.frame["stance"].to_numpy()
                add(s.name, "stance", "macro_f1", _macro_f1, y, lm["_preds"]["stance"].fillna("unrelated").to_numpy(),
                    cm["_preds"]["stance"].fillna("unrelated").to_numpy())
        elif s.kind == "stance":
            add(s.name, "stance", "macro_f1", _macro_f1, s.frame["stance"].to_numpy(), lm["_pred"], cm["_pred"])
        elif s.kind == "behaviour":
            for label in lm["pass_rate"]:
                mask = (s.frame["label"] == label).to_numpy()
                ones = np.ones(int(mask.sum()))
                add(s.name, label, "pass_rate", _pass_rate, ones, lm["_passed"][mask].astype(float),
                    cm["_passed"][mask].astype(float), exact=True)
    return rows


def head_gates(live_heads, candidate_heads) -> list[dict]:
    """A gate per head the live model has and the candidate lacks, always worse: promoting it would silence
    every policy clause on that head (a candidate trained without the corpus has no spam head)."""
    return [{"set": "model heads", "label": h, "metric": "head present", "live": 1.0, "candidate": 0.0, "delta": -1.0,
             "delta_upper95": -1.0, "n": 0, "positives": None, "worse": True}
            for h in live_heads if h not in candidate_heads]


def new_heads(live_heads, candidate_heads) -> list[str]:
    """Heads only the candidate has: no gate can compare them, so the report names them."""
    return [h for h in candidate_heads if h not in live_heads]


def _pass_rate(_y, passed):
    return float(np.mean(passed))


def judge(gate_rows: list[dict], tolerance: float) -> dict:
    """The verdict over gate rows at ``tolerance``: promotable, and which gates and labels got worse.

    A gate is worse when the candidate is below live by more than the tolerance *and* the drop is
    more than noise: the paired bootstrap's 95% upper bound of the difference is below zero.
    """
    worse = [dict(g, worse=True) for g in gate_rows if g["candidate"] < g["live"] - tolerance
             and g.get("delta_upper95") is not None and g["delta_upper95"] < 0]
    return {"promotable": not worse, "tolerance": tolerance, "worse": worse,
            "worse_labels": sorted({g["label"] for g in worse})}


# The comparison: metrics, report, plots ----------------------------------------------------------------
def _plot_gates(rows: list[dict], out: Path, live: str, candidate: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = list(dict.fromkeys(r["set"] for r in rows))
    fig, axes = plt.subplots(len(sets), 1, figsize=(11, 2.6 * len(sets)), squeeze=False)
    for ax, set_name in zip(axes[:, 0], sets):
        part = [r for r in rows if r["set"] == set_name]
        x = np.arange(len(part))
        ax.bar(x - 0.2, [r["live"] for r in part], 0.4, label=f"live {live}", color="#999999")
        ax.bar(x + 0.2, [r["candidate"] for r in part], 0.4, label=f"candidate {candidate}",
               color=["#c0392b" if r["worse"] else "#2e86c1" for r in part])
        ax.set_xticks(x, [f"{r['label']}\n{r['metric']}" for r in part], fontsize=7)
        ax.set_ylim(0, 1.05)
        ax.set_title(set_name, fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    name = "comparison.png"
    fig.savefig(out / name, dpi=80)
    plt.close(fig)
    return name


def _table(frame: pd.DataFrame) -> list[str]:
    if frame.empty:
        return ["(none)", ""]
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        lines.append("| " + " | ".join(_fmt(row[c]) for c in cols) + " |")
    return [*lines, ""]


def _fmt(value) -> str:
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:.3f}"
    return "" if value is None else str(value)


def _slice_rows(metrics: dict, model: str) -> list[dict]:
    rows = []
    for set_name, m in metrics.items():
        for label, by_slice in m.get("labels", {}).items():
            for slice_name, v in by_slice.items():
                rows.append({"model": model, "set": set_name, "label": label, "slice": slice_name, "n": int(v["n"]),
                             "positives": int(v["positives"]), "roc_auc": v.get("roc_auc", np.nan),
                             "f1": v["f1"], "caught": np.nan if v.get("caught") is None else v["caught"]})
    return rows


def _public(metrics: dict) -> dict:
    return {s: {k: v for k, v in m.items() if not k.startswith("_")} for s, m in metrics.items()}


def discard_comparison(out: Path) -> None:
    """Remove an earlier evaluation's verdict (comparison.json, README.md) and plots from ``out``: from the moment a
    new evaluation starts, the old one says nothing `make promote` may act on, even if the new one never ends."""
    for stale in (out / "comparison.json", out / "README.md", *out.glob("*.png")):
        stale.unlink(missing_ok=True)


def compare(live: Scorer, candidate: Scorer, sets: list[EvalSet], out: Path, tolerance: float, *,
            decisions_sha256: str | None = None) -> dict:
    """Measure both models, write ``out``/README.md, comparison.json and plots; return the comparison.

    ``decisions_sha256``: the hash of the decisions export whose held-out rows are among ``sets`` (None: no
    export), recorded so that `make promote` refuses once the export has changed. comparison.json is
    written last, whole (renamed into place): it exists only for an evaluation that finished.
    """
    out.mkdir(parents=True, exist_ok=True)
    discard_comparison(out)
    lm, cm = measure(live, sets), measure(candidate, sets)
    rows = gates(sets, lm, cm, tolerance) + head_gates(live.violation.heads, candidate.violation.heads)
    verdict = judge(rows, tolerance)
    result = {"live": live.version, "candidate": candidate.version, "tolerance": tolerance,
              "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
              "sets": [s.name for s in sets], "decisions_sha256": decisions_sha256, "gates": rows, "verdict": verdict,
              "new_heads": new_heads(live.violation.heads, candidate.violation.heads),
              "metrics": {"live": _public(lm), "candidate": _public(cm)}}
    plots = [_plot_gates(rows, out, live.version, candidate.version)]
    for s in sets:
        if s.kind == "violation" and s.name != "held-out decisions":
            plots += plot_pr_and_calibration(s.frame.reset_index(drop=True), cm[s.name]["_preds"], out,
                                             f"candidate {s.name}")
        if s.kind == "stance":
            plots.append(plot_confusion(s.frame["stance"], cm[s.name]["_pred"], out, f"candidate {s.name}"))
    (out / "README.md").write_text(_report(result, sets, lm, cm, plots))
    write_atomic(out / "comparison.json", json.dumps(result, indent=2, default=float) + "\n")
    return result


def verdict_line(result: dict) -> str:
    """The one-line verdict ``make evaluate`` prints."""
    v = result["verdict"]
    if v["promotable"]:
        return (f"PROMOTABLE: candidate {result['candidate']} is not worse than live {result['live']} by more "
                f"than {v['tolerance']} on any of {len(result['gates'])} gates")
    worst = ", ".join(f"{g['label']} ({g['set']}, {g['metric']} {g['live']:.3f} -> {g['candidate']:.3f})"
                      for g in v["worse"])
    return f"NOT PROMOTABLE: worse than live beyond {v['tolerance']}: {worst}"


def _report(result: dict, sets, lm, cm, plots) -> str:
    lines = [f"# Candidate {result['candidate']} against live {result['live']}", "",
             f"Written by `make evaluate` at {result['evaluated_at']}; tolerance {result['tolerance']}.", "",
             f"**{verdict_line(result)}**", "", "## Gates", "",
             "Each gate is a metric both models are measured on. `delta_upper95`: the paired bootstrap's 95% "
             "upper bound of candidate minus live (given for drops; for the behaviour cases, the drop itself). "
             "`worse`: below live by more than the tolerance, and the bound is below zero; a larger drop whose "
             "bound is not is noise of a small set. The behaviour cases are not a sample: a pass rate that "
             "drops by more than the tolerance is worse.", ""]
    lines += _table(pd.DataFrame(result["gates"]))
    if result.get("new_heads"):
        lines += [f"Heads only the candidate has, so no gate compares them (read their rows below before "
                  f"promoting): {', '.join(result['new_heads'])}.", ""]
    lines += [f"![live and candidate per gate]({plots[0]})", "", "## Per label and slice", "",
              "`caught`: share of the positives scoring 0.5 or more.", ""]
    frame = pd.DataFrame(_slice_rows(lm, "live") + _slice_rows(cm, "candidate"))
    if not frame.empty:
        frame = frame[frame["n"] >= 20].sort_values(["set", "label", "slice", "model"])
        lines += _table(frame)
    for s in sets:
        if s.kind == "behaviour":
            lines += ["## Behaviour cases", "",
                      f"Passed: live {lm[s.name]['passed']} of {lm[s.name]['cases']}, candidate "
                      f"{cm[s.name]['passed']} of {cm[s.name]['cases']}.", ""]
            changed = s.frame[lm[s.name]["_passed"] != cm[s.name]["_passed"]].assign(
                candidate_passes=cm[s.name]["_passed"][lm[s.name]["_passed"] != cm[s.name]["_passed"]])
            lines += ["Cases whose result changed:", "", *_table(changed[["category", "label", "expect",
                                                                          "candidate_passes", "text"]])]
    lines += ["## Plots (candidate)", ""] + [f"![{p}]({p})" for p in plots[1:]]
    return "\n".join(lines) + "\n"
