"""The violation model: one calibrated linear head per label over shared text features.

Each head is a scikit-learn ``LogisticRegression`` trained on all the rows whose source labels
that head (a NaN target means "this source does not say"), and calibrated with isotonic regression
on out-of-fold scores: the same fit on each of ``calibration_folds`` folds scores the rows it left
out, so the head learns from every row and its curve is still fitted on scores of unseen rows (as
scikit-learn's ``CalibratedClassifierCV(ensemble=False)`` does). The fits run in ``n_jobs`` threads:
liblinear releases the GIL. :meth:`ViolationModel.adjust_to_domain` can then re-calibrate heads for
news comments: where the public sources' prevalence and noise make a mixed curve under-confident on
in-domain text, a two-parameter logistic fit on in-domain comments the heads never saw maps the
curve's values to in-domain probabilities. Scoring uses :meth:`ViolationModel.compiled` (``inference.py``):
every head's weights stacked into one matrix and the calibration curves as arrays.
"""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from .features import CommentFeaturizer
from .inference import CompiledViolation
from .labels import HEADS

__all__ = ["ViolationModel", "domain_adjustment"]

# The fewest in-domain positives and negatives a head needs for a domain adjustment.
DOMAIN_MIN_ROWS = 20
_EPS = 1e-4


def _logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def domain_adjustment(probabilities, y) -> tuple[float, float] | None:
    """``(a, b)`` such that ``sigmoid(a * logit(p) + b)`` is the in-domain probability of a comment whose
    mixed-calibration probability is ``p`` (Platt scaling on the calibrated logit); None when there
    are too few positives or negatives, or the fit would reverse the ranking."""
    y = np.asarray(y, dtype=int)
    if min(int(y.sum()), int(len(y) - y.sum())) < DOMAIN_MIN_ROWS:
        return None
    fit = LogisticRegression(C=1e4).fit(_logit(probabilities)[:, None], y)
    a, b = float(fit.coef_[0, 0]), float(fit.intercept_[0])
    return (a, b) if a > 0 else None


class ViolationModel(BaseEstimator):
    """Multi-label violation scorer with calibrated probabilities and token-level evidence."""

    def __init__(self, *, heads=HEADS, n_features=2**18, C=4.0, calibration_folds=3, n_jobs=2,
                 random_state=0):
        self.heads = heads
        self.n_features = n_features
        self.C = C
        self.calibration_folds = calibration_folds
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit_head(self, X, y, weights):
        clf = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000, solver="liblinear",
                                 random_state=self.random_state)
        return clf.fit(X, y, sample_weight=weights)

    def fit(self, texts, targets, sample_weight=None):
        """Fit on normalised texts and a (n_texts, n_heads) array with NaN for unknown labels.

        ``sample_weight`` is one weight per text, or a (n_texts, n_heads) array of each head's own.
        """
        targets = np.asarray(targets, dtype=float)
        if targets.shape != (len(texts), len(self.heads)):
            raise ValueError(f"targets must have shape ({len(texts)}, {len(self.heads)}), got {targets.shape}")
        weights = np.ones(len(texts)) if sample_weight is None else np.asarray(sample_weight, float)
        if weights.ndim == 1:
            weights = np.broadcast_to(weights[:, None], targets.shape)
        if weights.shape != targets.shape:
            raise ValueError(f"sample_weight must have shape ({len(texts)},) or {targets.shape}, got {weights.shape}")
        self.featurizer_ = CommentFeaturizer(n_features=self.n_features).fit(texts)
        X = self.featurizer_.transform(texts)
        self.estimators_, self.calibrators_, self.domain_adjustments_ = {}, {}, {}
        known, folds = {}, {}
        for j, head in enumerate(self.heads):
            known[head] = np.flatnonzero(~np.isnan(targets[:, j]))
            y = targets[known[head], j].astype(int)
            if len(np.unique(y)) < 2:
                raise ValueError(f"head {head!r} needs positive and negative examples")
            split = StratifiedKFold(n_splits=self.calibration_folds, shuffle=True, random_state=self.random_state)
            folds[head] = [None, *split.split(known[head], y)]  # None: the head's own fit, on every row
        tasks = [(head, fold) for head in self.heads for fold in folds[head]]

        def fit(head, fold):
            rows = known[head] if fold is None else known[head][fold[0]]
            j = self.heads.index(head)
            return self._fit_head(X[rows], targets[rows, j].astype(int), weights[rows, j])

        fitted = iter(Parallel(n_jobs=self.n_jobs, prefer="threads")(delayed(fit)(*task) for task in tasks))
        for j, head in enumerate(self.heads):
            rows = known[head]
            clf = next(fitted)
            out_of_fold = np.empty(len(rows))
            for _, left_out in folds[head][1:]:
                out_of_fold[left_out] = next(fitted).decision_function(X[rows[left_out]])
            clf.coef_ = clf.coef_.astype(np.float32)  # what scoring uses: half the file, same scores
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
            iso.fit(out_of_fold, targets[rows, j], sample_weight=weights[rows, j])
            self.estimators_[head], self.calibrators_[head] = clf, iso
        self._compiled = None
        return self

    def compiled(self) -> CompiledViolation:
        """The fitted heads stacked for scoring (what ``scoring.npz`` stores): W is (n_features, n_heads),
        so a comment costs one feature extraction and one product, whatever the number of heads."""
        if getattr(self, "_compiled", None) is None:
            W = np.stack([self.estimators_[h].coef_.ravel() for h in self.heads], axis=1).astype(np.float32)
            b = np.array([self.estimators_[h].intercept_[0] for h in self.heads], dtype=np.float32)
            curves = [self.curve(h) for h in self.heads]
            self._compiled = CompiledViolation(self.heads, self.featurizer_.scoring(), W, b, curves)
        return self._compiled

    def adjust_to_domain(self, texts, targets, heads) -> dict:
        """Re-calibrate ``heads`` on in-domain normalised texts the model was not trained on, with
        ``targets`` shaped as in :meth:`fit`; returns the adjustments made, by head (a head with too
        few known in-domain positives or negatives keeps its curve)."""
        targets = np.asarray(targets, dtype=float)
        X = self.featurizer_.transform(texts)
        for head in heads:
            j = self.heads.index(head)
            known = ~np.isnan(targets[:, j])
            if not known.any():
                continue
            p = self.calibrators_[head].predict(self.estimators_[head].decision_function(X[known]))
            adjust = domain_adjustment(p, targets[known, j])
            if adjust is not None:
                self.domain_adjustments_[head] = {"a": round(adjust[0], 6), "b": round(adjust[1], 6),
                                                  "rows": int(known.sum()), "positives": int(targets[known, j].sum())}
        self._compiled = None
        return dict(self.domain_adjustments_)

    def curve(self, head: str) -> tuple[np.ndarray, np.ndarray]:
        """A head's calibration curve (scores, probabilities): the isotonic fit, its values mapped to
        in-domain probabilities where the head has a domain adjustment."""
        iso = self.calibrators_[head]
        adjust = getattr(self, "domain_adjustments_", {}).get(head)
        if adjust is None:
            return iso.X_thresholds_, iso.y_thresholds_
        return iso.X_thresholds_, 1 / (1 + np.exp(-(adjust["a"] * _logit(iso.y_thresholds_) + adjust["b"])))

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_compiled", None)
        return state

    # Scoring is the compiled model's: one implementation for training-time and scoring-time use.
    def decision_function(self, X) -> np.ndarray:
        return self.compiled().decision_function(X)

    def predict_proba_features(self, X) -> np.ndarray:
        return self.compiled().predict_proba_features(X)

    def predict_proba(self, texts) -> np.ndarray:
        return self.compiled().predict_proba(texts)

    def driving_head(self, head: str, probabilities: dict[str, float]) -> str:
        return self.compiled().driving_head(head, probabilities)

    def token_contributions(self, text: str, heads, row=None) -> tuple[list, np.ndarray]:
        return self.compiled().token_contributions(text, heads, row=row)
