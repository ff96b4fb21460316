"""Learning from decisions: the scripted scenario of issue 6, end to end through the retraining loop.

A site's moderators reject comments that call other readers "snargles" (a local slur the default
model has never seen) and approve ordinary disagreement, in the review queue (``review.actions``),
which stores each decision as labels in the service's database; ``make data`` exports them, ``make train`` trains a candidate,
``make evaluate`` compares it with live, ``make promote`` makes it live, and the live model then
catches new, unseen examples of the pattern while no standard evaluation set got worse.

To keep CI fast, both the live baseline and the candidate are trained with ``--public-rows 0``
(the corpus, plus the decisions for the candidate): the comparison stays fair, and the baseline's
promotion is a logged override. The shipped default model is the registry's first live version,
and the test checks that it misses the pattern too.

The promotion tolerance is 0.08 here, not the default 0.01: a model trained on the corpus alone
moves in F1 at 0.5 by its calibration seed alone, most on the public validation sets it was not
trained for (measured with the locl part in the corpus: seeds 0 to 3 of the baseline give
toxicity F1 0.652, 0.625, 0.605 and 0.618 and identity_attack F1 0.109, 0.106, 0.116 and 0.063
there; earlier, personal_attack F1 0.819, 0.789 and 0.805 on the corpus test split), so a
tighter tolerance would judge the seed, not the decisions.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from moderation.scorer import Scorer
from review import actions as review_actions
from review import queue as review_queue
from training import retrain
from training.registry import Registry
from webhook import db

from .retrain_scenario import APPROVED, NEW_CLEAN, NEW_PATTERN, REJECTED
from .webhook_helpers import PERSPECTIVE_KEY, signed_post

pytest_plugins = ["tests.webhook_fixtures"]
pytestmark = pytest.mark.slow  # two trainings and two evaluations: one to two minutes on two cores

SITE = "harbour-gazette"
SUBSET_TOLERANCE = "0.08"


def _run(registry, *args) -> int:
    return retrain.main(["--registry", str(registry), *args])


def _pattern_scores(scorer: Scorer, texts) -> np.ndarray:
    return np.array([s.scores["personal_attack"] for s in scorer.score_batch(texts)])


def _feed_decisions(app, client) -> int:
    """The comments reach the service; moderators decide them in the review queue; one Perspective feedback."""
    decisions = [(t, "reject") for t in REJECTED] + [(t, "approve") for t in APPROVED]
    random.Random(6).shuffle(decisions)
    ids = [f"hg-{i:04d}" for i in range(len(decisions))]
    for start in range(0, len(decisions), 100):
        batch = [{"id": i, "text": t, "author_id": f"reader-{n % 17}"}
                 for n, (i, (t, _)) in enumerate(zip(ids[start:start + 100], decisions[start:start + 100]))]
        response = signed_post(client, "/v1/comments/batch", {"site_id": SITE, "comments": batch})
        assert response.status_code == 200, response.get_data(as_text=True)
    svc = app.extensions["moderation"]
    with app.app_context():
        review_queue.sync(svc, 0.1)
        for comment_id, (_, decision) in zip(ids, decisions):
            with db.connect(svc.engine) as conn:
                item = db.review_item(conn, SITE, comment_id)
            review_actions.decide(svc.engine, item, decision, "mod-ana", "ABUSIVE" if decision == "reject" else None)
    body = {"comment": {"text": "What a sn4rgle thing to say about the lifeboat crew."}, "communityId": SITE,
            "attributeScores": {"INSULT": {"summaryScore": {"value": 0.95}}}}
    response = client.post(f"/v1alpha1/comments:suggestscore?key={PERSPECTIVE_KEY}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return len(decisions) + 1


def test_the_loop_learns_a_local_slur_from_moderators_decisions(tmp_path, make_app, sqlite_url, capsys, monkeypatch):
    monkeypatch.setenv("MODERATION_PROMOTE_TOLERANCE", SUBSET_TOLERANCE)
    registry = Registry(tmp_path / "registry")

    # The shipped default model becomes the first live version, and it misses the pattern.
    assert _run(registry.root, "init") == 0
    default = Scorer.load(registry.version_dir(registry.live()))
    assert (_pattern_scores(default, NEW_PATTERN) < 0.5).mean() >= 0.9

    # CI stand-in for the default model: the same data subset as the candidate, made live by override.
    assert _run(registry.root, "train", "--public-rows", "0", "--no-decisions") == 0
    baseline = registry.candidate()
    assert _run(registry.root, "promote", "--force", "--reason", "CI baseline: subset-trained stand-in") == 0
    assert registry.live() == baseline and registry.history()[-1]["action"] == "override"
    # A small corpus-only model flags a few short jibes by their shape ("Found you, X."), not the word.
    baseline_caught = (_pattern_scores(Scorer.load(registry.version_dir(baseline)), NEW_PATTERN) >= 0.5).mean()
    assert baseline_caught <= 0.4

    # Moderators decide; `make data` exports their decisions, the newest 20% held out.
    app = make_app(sqlite_url)
    fed = _feed_decisions(app, app.test_client())
    assert _run(registry.root, "data", "--database", sqlite_url, "--no-public-overlap") == 0
    rows = [json.loads(line) for line in (registry.data_dir / "decisions.jsonl").read_text().splitlines()]
    assert len(rows) == fed and sum(r["split"] == "heldout" for r in rows) == -(-fed // 5)
    assert "training rows written: 135" in (registry.data_dir / "REPORT.md").read_text()

    # `make train`, `make evaluate`, `make promote`.
    assert _run(registry.root, "train", "--public-rows", "0") == 0
    candidate = registry.candidate()
    assert candidate not in (None, baseline) and registry.live() == baseline
    capsys.readouterr()
    assert _run(registry.root, "evaluate") == 0
    printed = capsys.readouterr().out
    comparison = json.loads((registry.version_dir(candidate) / "evaluation" / "comparison.json").read_text())
    assert comparison["verdict"]["promotable"], printed
    assert "PROMOTABLE" in printed and "NOT PROMOTABLE" not in printed
    sets = {g["set"] for g in comparison["gates"]}
    assert {"corpus test", "behaviour cases", "held-out decisions"} <= sets
    held = [g for g in comparison["gates"] if g["set"] == "held-out decisions" and g["label"] == "personal_attack"]
    assert held and all(g["candidate"] > g["live"] for g in held)
    assert list((registry.version_dir(candidate) / "evaluation").glob("*.png"))
    assert _run(registry.root, "promote") == 0
    assert registry.live() == candidate and registry.history()[-1]["action"] == "promote"

    # The promoted model catches new examples of the pattern and leaves ordinary comments alone.
    live = Scorer.load(registry.version_dir(registry.live()))
    caught = (_pattern_scores(live, NEW_PATTERN) >= 0.5).mean()
    assert caught >= 0.9 and caught - baseline_caught >= 0.5
    assert (_pattern_scores(live, NEW_CLEAN) < 0.4).all()
    card = (registry.version_dir(candidate) / "MODEL_CARD.md").read_text()
    assert "decisions" in card and "held-out decisions" in card

    # And `make rollback` returns to the baseline, logged.
    assert _run(registry.root, "rollback", "--reason", "test") == 0
    assert registry.live() == baseline and registry.history()[-1]["action"] == "rollback"
