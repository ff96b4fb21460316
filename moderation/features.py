"""Hashed word and character n-gram features, the shared input of every model head.

Hashing keeps the model file small and independent of a vocabulary; a learned IDF vector and
sub-linear term frequency give TF-IDF weighting. ``transform`` is the hot path of scoring, so it
avoids per-call validation and builds the sparse matrix in one pass of ``FeatureHasher``.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import FeatureHasher
from sklearn.preprocessing import normalize

__all__ = ["CommentFeaturizer", "analyze", "tokenize"]

_TOKEN = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")


def tokenize(text: str) -> list[re.Match]:
    """Word and punctuation tokens of a normalised text, as matches (so offsets are known)."""
    return list(_TOKEN.finditer(text))


def _char_ngrams(word: str, lo: int, hi: int, out: list[str]) -> None:
    padded = f" {word} "
    size = len(padded)
    for n in range(lo, hi + 1):
        if size < n:
            break
        out.extend(["c" + padded[i:i + n] for i in range(size - n + 1)])


def analyze(text: str, *, word_ngrams: tuple[int, int] = (1, 2), char_ngrams: tuple[int, int] = (2, 5),
            with_tokens: bool = False):
    """Feature strings of one normalised text; with ``with_tokens``, each with its token index."""
    words = [m.group(0) for m in _TOKEN.finditer(text)]
    feats: list[str] = []
    owners: list[tuple[int, ...]] = []
    lo, hi = word_ngrams
    for n in range(lo, hi + 1):
        for i in range(len(words) - n + 1):
            feats.append("w" + " ".join(words[i:i + n]))
            if with_tokens:
                owners.append(tuple(range(i, i + n)))
    clo, chi = char_ngrams
    for i, word in enumerate(words):
        start = len(feats)
        if word.isalnum() or "'" in word:
            _char_ngrams(word, clo, chi, feats)
        if with_tokens:
            owners.extend([(i,)] * (len(feats) - start))
    return (feats, owners) if with_tokens else feats


class CommentFeaturizer(TransformerMixin, BaseEstimator):
    """TF-IDF over hashed word n-grams and word-bounded character n-grams of normalised text."""

    def __init__(self, *, n_features=2**18, word_ngrams=(1, 2), char_ngrams=(2, 5), sublinear_tf=True):
        self.n_features = n_features
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.sublinear_tf = sublinear_tf

    def _hasher(self) -> FeatureHasher:
        return FeatureHasher(n_features=self.n_features, input_type="string", alternate_sign=False,
                             dtype=np.float32)

    def _counts(self, texts) -> sp.csr_matrix:
        wn, cn = tuple(self.word_ngrams), tuple(self.char_ngrams)
        return self._hasher().transform(analyze(t, word_ngrams=wn, char_ngrams=cn) for t in texts)

    def fit(self, X, y=None):
        """Learn the IDF vector from a list of normalised texts."""
        counts = self._counts(X)
        df = np.bincount(counts.indices, minlength=self.n_features)
        n = counts.shape[0]
        self.idf_ = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
        return self

    def transform(self, X) -> sp.csr_matrix:
        """TF-IDF rows, L2-normalised, for a list of normalised texts."""
        return self.weight(self._counts(X))

    def weight(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Apply sub-linear TF, IDF and L2 normalisation to hashed counts."""
        if self.sublinear_tf:
            np.log(counts.data, out=counts.data)
            counts.data += 1
        counts.data *= self.idf_[counts.indices]
        return normalize(counts, copy=False)

    def feature_index(self, feats: list[str]) -> np.ndarray:
        """Column index of each feature string (for explanations)."""
        return self._hasher().transform([[f] for f in feats]).indices
