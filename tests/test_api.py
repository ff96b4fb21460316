"""The public API the service builds on: load, score one, score a batch, explain."""

import moderation
from moderation import Article, Scorer, load_policy
from moderation.labels import POLICY_LABELS, STANCES

from .conftest import ROOT


def test_public_names_resolve_and_unknown_names_fail():
    assert moderation.Scorer is Scorer
    try:
        moderation.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("unknown attribute did not raise")


def test_score_one_batch_and_explain(scorer):
    scorer.add_article(Article("api-1", "Council approves cycle lanes on Main Street",
                               "The council voted 7-2 to build protected cycle lanes on Main Street. "
                               "Supporters say it will make the road safer."))
    one = scorer.score("Great decision, the lanes will make Main Street safer.", article_id="api-1")
    assert set(POLICY_LABELS) <= set(one.scores) and one.stance in STANCES and one.language == "en"
    batch = scorer.score_batch(["Great decision, the lanes will make Main Street safer.", "Nice."], ["api-1", None])
    assert batch[0].scores == one.scores and batch[1].stance is None
    html = "Read it again, <i>you</i> absolute m0ron."
    score = scorer.score(html)
    evidence = scorer.explain(html, score=score, min_score=0.3)
    assert evidence and all(html[e.begin:e.end] == e.text for e in evidence)
    assert any("m0ron" in e.text for e in evidence if e.label == "personal_attack")
    verdict = load_policy(ROOT / "data" / "policy.toml").decide(score, evidence)
    assert verdict.action in ("hold", "reject")
