"""Stance of a comment toward the article it is posted under.

The comment's own words say whether it agrees ("exactly", "nonsense", "well said"); how much of the
article it talks about says whether it is on topic at all. The model is one multinomial
``LogisticRegression`` over the comment's text features plus a small block of comment-article
relatedness features, so it can judge articles (and claims) it has never seen.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from .inference import CompiledStance, content_words, relatedness_features, row_cosines
from .labels import STANCES

__all__ = ["StanceModel", "content_words", "relatedness_features", "row_cosines"]


class StanceModel(BaseEstimator):
    """favor / against / neutral / unrelated, from comment features and relatedness to the article."""

    def __init__(self, *, C=1.0, relatedness_scale=3.0):
        self.C = C
        self.relatedness_scale = relatedness_scale

    def _design(self, X_comment, X_article, comment_words, article_words):
        dense = relatedness_features(X_comment, X_article, comment_words, article_words)
        return sp.hstack([X_comment, sp.csr_matrix(dense * self.relatedness_scale)], format="csr")

    def fit(self, X_comment, X_article, comment_words, article_words, y, sample_weight=None):
        """Fit on row-aligned comment and article feature matrices, word sets and stance labels."""
        unknown = set(y) - set(STANCES)
        if unknown:
            raise ValueError(f"unknown stance labels {sorted(unknown)}; expected {STANCES}")
        Z = self._design(X_comment, X_article, comment_words, article_words)
        y = np.asarray(y)
        # One binary liblinear classifier per stance: about ten times faster to train than a
        # multinomial lbfgs fit on this many hashed features, and no worse on unseen claims.
        self.classifiers_ = []
        for stance in STANCES:
            clf = LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear")
            clf.fit(Z, (y == stance).astype(int), sample_weight=sample_weight)
            clf.coef_ = clf.coef_.astype(np.float32)  # what scoring uses: half the file, same scores
            self.classifiers_.append(clf)
        return self

    def compiled(self) -> CompiledStance:
        """The fitted classifiers stacked for scoring (what ``scoring.npz`` stores)."""
        if getattr(self, "_stacked", None) is None:
            W = np.column_stack([clf.coef_.ravel() for clf in self.classifiers_]).astype(np.float32)
            b = np.array([clf.intercept_[0] for clf in self.classifiers_], dtype=np.float32)
            self._stacked = CompiledStance(W, b, self.relatedness_scale)
        return self._stacked

    def predict_proba(self, X_comment, X_article, comment_words, article_words, *, cosines=None) -> np.ndarray:
        """Probabilities (n_pairs, 4) in the order of ``STANCES`` (one-vs-rest, normalised)."""
        return self.compiled().predict_proba(X_comment, X_article, comment_words, article_words, cosines=cosines)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_stacked", None)
        return state
