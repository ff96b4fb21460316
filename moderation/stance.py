"""Stance of a comment toward the article it is posted under.

The comment's own words say whether it agrees ("exactly", "nonsense", "well said"); how much of the
article it talks about says whether it is on topic at all. The model is one multinomial
``LogisticRegression`` over the comment's text features plus a small block of comment-article
relatedness features, so it can judge articles (and claims) it has never seen.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from .labels import STANCES

__all__ = ["StanceModel", "content_words", "relatedness_features", "row_cosines"]

_WORD = re.compile(r"[a-z][a-z']{2,}")
_STOP = frozenset(
    """the and for are but not you all any can had her was one our out has him his how its may new now
    see two who did get let say she too use that with have this will your from they been were said
    what when than them then there their would could should about which into more some such only
    other also just like very after most over even much these those many being because does doesn
    don't isn't it's i'm that's here where while why who's yes yet our ours own same so than""".split()
)
_COS_BINS = np.array([0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45])


def content_words(text: str) -> set[str]:
    """Lower-case content words of a normalised text (no stop words, three letters or more)."""
    return {w for w in _WORD.findall(text) if w not in _STOP}


def row_cosines(X_comment, X_article) -> np.ndarray:
    """Cosine of each pair of row-aligned, L2-normalised TF-IDF rows."""
    return np.asarray(X_comment.multiply(X_article).sum(axis=1)).ravel()


def relatedness_features(X_comment, X_article, comment_words, article_words, cosines=None) -> np.ndarray:
    """Dense relatedness block, one row per (comment, article) pair.

    Columns: cosine of the TF-IDF rows, one-hot bins of that cosine, the share of the comment's
    content words found in the article, the number of shared content words (log), and the comment
    length (log). ``cosines``, when the caller has them, stand in for ``X_article``.
    """
    cos = row_cosines(X_comment, X_article) if cosines is None else np.asarray(cosines, dtype=float)
    bins = (cos[:, None] >= _COS_BINS[None, :]).astype(float)
    shared = np.array([len(c & a) for c, a in zip(comment_words, article_words)], float)
    size = np.array([max(len(c), 1) for c in comment_words], float)
    return np.column_stack([cos, bins, shared / size, np.log1p(shared), np.log1p(size)])


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
            self.classifiers_.append(clf)
        return self

    def predict_proba(self, X_comment, X_article, comment_words, article_words, *, cosines=None) -> np.ndarray:
        """Probabilities (n_pairs, 4) in the order of ``STANCES`` (one-vs-rest, normalised).

        ``cosines`` (comment-article TF-IDF cosines, e.g. from articles kept in memory) may replace
        ``X_article``, which is then not read.
        """
        dense = relatedness_features(X_comment, X_article, comment_words, article_words, cosines)
        if getattr(self, "_stacked", None) is None:  # one product for all four classifiers
            W = np.column_stack([clf.coef_.ravel() for clf in self.classifiers_])
            b = np.array([clf.intercept_[0] for clf in self.classifiers_])
            self._stacked = (W, b)
        W, b = self._stacked
        # The same as the design matrix times W, without building the design matrix.
        n_text = X_comment.shape[1]
        scores = np.asarray(X_comment @ W[:n_text]) + (dense * self.relatedness_scale) @ W[n_text:] + b
        P = 1.0 / (1.0 + np.exp(-scores))
        return P / np.maximum(P.sum(axis=1, keepdims=True), 1e-12)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_stacked", None)
        return state
