"""The violation model: one calibrated linear head per label over shared text features.

Each head is a scikit-learn ``LogisticRegression`` trained only on the rows whose source labels
that head (a NaN target means "this source does not say"), then calibrated with isotonic
regression on a held-out fold. Scoring uses :meth:`ViolationModel.compiled` (``inference.py``):
every head's weights stacked into one matrix and the calibration curves as arrays.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from .features import CommentFeaturizer
from .inference import CompiledViolation
from .labels import HEADS

__all__ = ["ViolationModel"]


class ViolationModel(BaseEstimator):
    """Multi-label violation scorer with calibrated probabilities and token-level evidence."""

    def __init__(self, *, heads=HEADS, n_features=2**18, C=4.0, calibration_size=0.2,
                 random_state=0):
        self.heads = heads
        self.n_features = n_features
        self.C = C
        self.calibration_size = calibration_size
        self.random_state = random_state

    def fit(self, texts, targets, sample_weight=None):
        """Fit on normalised texts and a (n_texts, n_heads) array with NaN for unknown labels."""
        targets = np.asarray(targets, dtype=float)
        if targets.shape != (len(texts), len(self.heads)):
            raise ValueError(f"targets must have shape ({len(texts)}, {len(self.heads)}), got {targets.shape}")
        weights = np.ones(len(texts)) if sample_weight is None else np.asarray(sample_weight, float)
        self.featurizer_ = CommentFeaturizer(n_features=self.n_features).fit(texts)
        X = self.featurizer_.transform(texts)
        self.estimators_, self.calibrators_ = {}, {}
        for j, head in enumerate(self.heads):
            known = np.flatnonzero(~np.isnan(targets[:, j]))
            y = targets[known, j].astype(int)
            if len(np.unique(y)) < 2:
                raise ValueError(f"head {head!r} needs positive and negative examples")
            fit_rows, cal_rows = train_test_split(known, test_size=self.calibration_size, stratify=y,
                                                  random_state=self.random_state)
            clf = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000, solver="liblinear")
            clf.fit(X[fit_rows], targets[fit_rows, j].astype(int), sample_weight=weights[fit_rows])
            clf.coef_ = clf.coef_.astype(np.float32)  # what scoring uses: half the file, same scores
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
            iso.fit(clf.decision_function(X[cal_rows]), targets[cal_rows, j], sample_weight=weights[cal_rows])
            self.estimators_[head], self.calibrators_[head] = clf, iso
        self._compiled = None
        return self

    def compiled(self) -> CompiledViolation:
        """The fitted heads stacked for scoring (what ``scoring.npz`` stores): W is (n_features, n_heads),
        so a comment costs one feature extraction and one product, whatever the number of heads."""
        if getattr(self, "_compiled", None) is None:
            W = np.stack([self.estimators_[h].coef_.ravel() for h in self.heads], axis=1).astype(np.float32)
            b = np.array([self.estimators_[h].intercept_[0] for h in self.heads], dtype=np.float32)
            curves = [(self.calibrators_[h].X_thresholds_, self.calibrators_[h].y_thresholds_)
                      for h in self.heads]
            self._compiled = CompiledViolation(self.heads, self.featurizer_.scoring(), W, b, curves)
        return self._compiled

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
