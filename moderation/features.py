"""The training side of the text features: learns the IDF vector of ``hashing.HashedTfidf``.

``CommentFeaturizer`` is the scikit-learn estimator stored in model files; scoring runs the same
code through ``hashing.HashedTfidf``, which needs no scikit-learn.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from . import hashing
from .hashing import HashedTfidf, analyze, tokenize

__all__ = ["CommentFeaturizer", "analyze", "tokenize"]


class CommentFeaturizer(TransformerMixin, BaseEstimator):
    """TF-IDF over hashed word n-grams and word-bounded character n-grams of normalised text."""

    def __init__(self, *, n_features=2**18, word_ngrams=(1, 2), char_ngrams=(2, 5), sublinear_tf=True):
        self.n_features = n_features
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.sublinear_tf = sublinear_tf

    def _counts(self, texts) -> sp.csr_matrix:
        return hashing.hashed_counts(texts, self.n_features, self.word_ngrams, self.char_ngrams)

    def fit(self, X, y=None):
        """Learn the IDF vector from a list of normalised texts."""
        counts = self._counts(X)
        df = np.bincount(counts.indices, minlength=self.n_features)
        n = counts.shape[0]
        self.idf_ = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
        return self

    def scoring(self) -> HashedTfidf:
        """The fitted features as the scoring side uses them."""
        return HashedTfidf(self.n_features, self.word_ngrams, self.char_ngrams, self.sublinear_tf, self.idf_)

    def transform(self, X) -> sp.csr_matrix:
        """TF-IDF rows, L2-normalised, for a list of normalised texts."""
        return self.scoring().transform(X)

    def feature_index(self, feats: list[str]) -> np.ndarray:
        """Column index of each feature string (for explanations)."""
        return hashing.feature_columns(feats, self.n_features)
