"""Re-calibrating heads for news comments: the two-parameter fit, and what it changes in a model."""

from __future__ import annotations

import numpy as np
import pytest

from moderation.inference import from_arrays, to_arrays
from moderation.models import DOMAIN_MIN_ROWS, ViolationModel, domain_adjustment
from moderation.persistence import load_components, save_components
from moderation.stance import StanceModel


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _logit(p):
    return np.log(p / (1 - p))


def test_domain_adjustment_recovers_a_known_shift():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.99, 20_000)
    y = rng.uniform(size=p.size) < _sigmoid(1.5 * _logit(p) + 1.0)
    a, b = domain_adjustment(p, y)
    assert a == pytest.approx(1.5, abs=0.1) and b == pytest.approx(1.0, abs=0.1)


def test_domain_adjustment_of_calibrated_rows_is_close_to_identity():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.01, 0.99, 20_000)
    a, b = domain_adjustment(p, rng.uniform(size=p.size) < p)
    assert a == pytest.approx(1.0, abs=0.1) and b == pytest.approx(0.0, abs=0.1)


def test_domain_adjustment_needs_both_classes_and_keeps_the_ranking():
    p = np.linspace(0.01, 0.99, 500)
    few = np.zeros(p.size, int)
    few[-(DOMAIN_MIN_ROWS - 1):] = 1
    assert domain_adjustment(p, few) is None
    reversed_ = (p < 0.5).astype(int)  # higher scores are the negatives: no monotone map fixes that
    assert domain_adjustment(p, reversed_) is None


# A tiny labelled set. In the public sources "rude" comments are attacks three times in five; in
# the site's own comments, nine times in ten.
_RUDE = ["you are a rude idiot", "what a stupid rude clown", "rude moron", "rather rude of you", "a rude reply"]
_CLEAN = ["thanks for the article", "good point about the budget", "i agree", "nice work", "the budget is late"]
_PUBLIC = _RUDE * 40 + _CLEAN * 80
# (Labels by repetition, i // 5, so that every text is sometimes an attack and sometimes not.)
_PUBLIC_Y = [int(i // 5 % 5 < 3) for i in range(200)] + [int(i // 5 % 20 == 0) for i in range(400)]
_DOMAIN = _RUDE * 10 + _CLEAN * 10
_DOMAIN_Y = [int(i // 5 % 10 < 9) for i in range(50)] + [0] * 50


def _model(heads=("personal_attack", "toxicity")) -> ViolationModel:
    targets = np.column_stack([_PUBLIC_Y] * len(heads)).astype(float)
    return ViolationModel(heads=heads, n_features=2**12, C=1.0).fit(_PUBLIC, targets)


def test_adjust_to_domain_maps_only_the_named_heads_curves():
    model = _model()
    before = [model.curve(h) for h in model.heads]
    p_before = model.predict_proba(_DOMAIN)
    targets = np.column_stack([_DOMAIN_Y, _DOMAIN_Y]).astype(float)
    made = model.adjust_to_domain(_DOMAIN, targets, ["personal_attack"])
    assert set(made) == {"personal_attack"} and made["personal_attack"]["rows"] == len(_DOMAIN)
    a, b = made["personal_attack"]["a"], made["personal_attack"]["b"]
    xs, ys = model.curve("personal_attack")
    assert np.array_equal(xs, before[0][0])
    assert np.allclose(ys, _sigmoid(a * _logit(np.clip(before[0][1], 1e-4, 1 - 1e-4)) + b))
    assert np.array_equal(model.curve("toxicity")[1], before[1][1])
    # Scoring uses the new curve (the compiled arrays are rebuilt) and keeps the ranking.
    p_after = model.predict_proba(_DOMAIN)
    assert not np.allclose(p_after[:, 0], p_before[:, 0])
    assert np.array_equal(p_after[:, 1], p_before[:, 1])
    order = np.argsort(p_before[:, 0], kind="stable")
    assert np.all(np.diff(p_after[order, 0]) >= -1e-12)


def test_adjust_to_domain_skips_unknown_labels_and_small_samples():
    model = _model()
    targets = np.full((len(_DOMAIN), 2), np.nan)
    targets[:30, 0] = _DOMAIN_Y[:30]  # 30 known rows, all positive: too few negatives
    assert model.adjust_to_domain(_DOMAIN, targets, ["personal_attack", "toxicity"]) == {}
    assert model.domain_adjustments_ == {}


def test_adjusted_curves_survive_saving_and_loading(tmp_path):
    model = _model()
    model.adjust_to_domain(_DOMAIN, np.column_stack([_DOMAIN_Y, _DOMAIN_Y]).astype(float), ["personal_attack"])
    stance = StanceModel().fit(*_stance_inputs(model), np.array(["favor", "against", "neutral", "unrelated"] * 5))
    save_components(tmp_path, {"violation": model, "stance": stance}, {"model_version": "t"},
                    arrays=to_arrays(model.compiled(), stance.compiled()))
    loaded = load_components(tmp_path)[0]["violation"]
    assert loaded.domain_adjustments_ == model.domain_adjustments_
    assert np.allclose(loaded.predict_proba(_DOMAIN), model.predict_proba(_DOMAIN))
    violation, _ = from_arrays(dict(np.load(tmp_path / "scoring.npz", allow_pickle=False)))
    assert np.allclose(violation.predict_proba(_DOMAIN), model.predict_proba(_DOMAIN))


def _stance_inputs(model):
    comments = [f"comment {i} about the budget" for i in range(20)]
    articles = ["the budget is late"] * 20
    X = model.featurizer_.transform(comments)
    A = model.featurizer_.transform(articles)
    return X, A, [set(c.split()) for c in comments], [set(a.split()) for a in articles]


def test_reliability_table_counts_each_band_and_its_labelled_share():
    import pandas as pd

    from training.evaluate import RELIABILITY_BANDS, reliability_table

    frame = pd.DataFrame({"threat": [0, 0, 1, 1, 1, np.nan]})
    preds = pd.DataFrame({"threat": [0.05, 0.3, 0.3, 0.9, 1.0, 0.9]})
    table = reliability_table(frame, preds, ["threat"]).set_index("band")
    assert len(table) == len(RELIABILITY_BANDS) - 1
    assert table.loc["0.00-0.10", "comments"] == 1 and table.loc["0.00-0.10", "labelled_share"] == 0.0
    assert table.loc["0.20-0.35", "comments"] == 2 and table.loc["0.20-0.35", "labelled_share"] == 0.5
    # 1.0 falls in the top band; the row with no label is left out.
    assert table.loc["0.80-1.00", "comments"] == 2 and table.loc["0.80-1.00", "labelled_share"] == 1.0
    assert table.loc["0.50-0.65", "comments"] == 0 and np.isnan(table.loc["0.50-0.65", "labelled_share"])


def test_balance_group_mentions_reweights_only_clean_group_rows_of_the_identity_heads():
    import pandas as pd

    from moderation.labels import HEADS
    from training.train import GROUP_BALANCED_HEADS, balance_group_mentions

    norm = pd.Series(["xxgroup are vermin", "xxgroup live here", "xxgroup live here too", "you are vermin",
                      "nice day", "lovely day", "fine day", "good day"])
    targets = np.zeros((len(norm), len(HEADS)))
    targets[[0, 3], :] = 1  # one attack among the three rows that name a group, one among the five others
    targets[4, HEADS.index("profanity")] = np.nan
    weights = np.ones(len(norm))
    full = balance_group_mentions(norm, targets, weights, power=1.0)
    for head in HEADS:
        column = full[:, HEADS.index(head)]
        if head in GROUP_BALANCED_HEADS:
            # 1 positive, 2 negatives among group rows; 1 in 5 elsewhere: 1 * (1 - 0.2) / (2 * 0.2) = 2
            assert column.tolist() == [1, 2, 2, 1, 1, 1, 1, 1], head
            y = targets[:, HEADS.index(head)]
            group = norm.str.contains("xxgroup").to_numpy()
            rates = [(column[rows] * y[rows]).sum() / column[rows].sum() for rows in (group, ~group)]
            assert rates[0] == pytest.approx(rates[1])  # the two rates are now equal
        else:
            assert column.tolist() == [1] * len(norm), head
    half = balance_group_mentions(norm, targets, weights, power=0.5)
    assert half[1, HEADS.index("identity_attack")] == pytest.approx(2 ** 0.5)
    assert (balance_group_mentions(norm, targets, weights, power=0.0) == 1).all()


def test_a_head_s_source_weight_scales_the_row_and_keeps_its_group_balance(monkeypatch):
    import pandas as pd

    from moderation.labels import HEADS
    from training import train

    frame = pd.DataFrame({"norm": ["xxgroup are vermin", "xxgroup live here", "you are vermin", "nice day"],
                          "source": ["corpus", "corpus", "corpus", "olid"]})
    for head in HEADS:
        frame[head] = [1.0, 0.0, 1.0, 0.0]
    before = train.training_weights(frame)
    monkeypatch.setattr(train, "HEAD_SOURCE_WEIGHTS", {"identity_attack": {"corpus": 1.0}, "threat": {"olid": 3.0}})
    after = train.training_weights(frame)
    j, t = HEADS.index("identity_attack"), HEADS.index("threat")
    corpus_weight = train.SOURCE_WEIGHTS["corpus"]
    assert before[0, j] == corpus_weight != before[1, j], "the clean group row carries a balance factor"
    assert after[:3, j].tolist() == pytest.approx((before[:3, j] / corpus_weight).tolist()), "scaled, factor kept"
    assert after[3, t] == 3.0 and after[3, j] == before[3, j]


def test_per_head_weights_change_only_their_head():
    rng = np.random.default_rng(0)
    texts = [f"{'awful rude' if i % 3 == 0 else 'kind fine'} words number {i}" for i in range(90)]
    targets = np.array([[float(i % 3 == 0)] * 2 for i in range(90)])
    plain = ViolationModel(heads=("profanity", "toxicity"), n_features=2**12, n_jobs=1).fit(texts, targets)
    weights = np.ones((90, 2))
    weights[:, 1] = rng.uniform(0.2, 5.0, 90)
    mixed = ViolationModel(heads=("profanity", "toxicity"), n_features=2**12, n_jobs=1).fit(
        texts, targets, sample_weight=weights)
    assert np.array_equal(plain.estimators_["profanity"].coef_, mixed.estimators_["profanity"].coef_)
    assert not np.array_equal(plain.estimators_["toxicity"].coef_, mixed.estimators_["toxicity"].coef_)
    with pytest.raises(ValueError, match="sample_weight"):
        ViolationModel(heads=("profanity", "toxicity"), n_features=2**12).fit(texts, targets, np.ones((90, 3)))
