"""Hashed word and character n-gram features, the shared input of every model head.

Hashing keeps the model file small and independent of a vocabulary; a learned IDF vector and
sub-linear term frequency give TF-IDF weighting. ``transform`` is the hot path of scoring: word
n-grams are hashed in one pass of ``FeatureHasher``, and the hashed character n-grams of each
distinct word are computed once and kept in a bounded per-process table (the first 50,000 words
seen), since readers reuse words far more often than they coin them. The counts are exactly those of hashing ``analyze``'s
feature strings (tested).
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


def _word_ngrams(words: list[str], lo: int, hi: int) -> list[str]:
    return ["w" + " ".join(words[i:i + n]) for n in range(lo, hi + 1) for i in range(len(words) - n + 1)]


# (n_features, char n-gram range) -> {word: hashed column of each of its character n-grams, as int32 bytes}.
_CHAR_TABLES: dict[tuple, dict[str, bytes]] = {}
_CHAR_TABLE_MAX_WORDS = 50_000  # about 10 MB; once full, new words are hashed but not kept


def _char_columns(words_per_text: list[list[str]], hasher: FeatureHasher, lo: int, hi: int) -> list[bytes]:
    """For each word of each text (flattened), the int32 columns of its character n-grams (repeats kept).

    Safe to call from several threads: each call reads the shared table into its own dict.
    """
    table = _CHAR_TABLES.setdefault((hasher.n_features, lo, hi), {})
    known: dict[str, bytes] = {}
    missing: list[str] = []
    for word in {w for words in words_per_text for w in words}:
        cols = table.get(word)
        if cols is None:
            missing.append(word)
        else:
            known[word] = cols
    if missing:
        grams: list[list[str]] = []
        for word in missing:
            feats: list[str] = []
            if word.isalnum() or "'" in word:
                _char_ngrams(word, lo, hi, feats)
            grams.append(feats)
        counts = hasher.transform(grams)
        for k, word in enumerate(missing):
            a, b = counts.indptr[k], counts.indptr[k + 1]
            known[word] = np.repeat(counts.indices[a:b], counts.data[a:b].astype(np.int64)).astype(np.int32).tobytes()
            if len(table) < _CHAR_TABLE_MAX_WORDS:
                table[word] = known[word]
    return [known[w] for words in words_per_text for w in words]


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
        """Hashed feature counts: the same matrix as hashing ``analyze`` of each text."""
        (wlo, whi), (clo, chi) = tuple(self.word_ngrams), tuple(self.char_ngrams)
        hasher = self._hasher()
        words_per_text = [_TOKEN.findall(t) for t in texts]
        if not words_per_text:
            return sp.csr_matrix((0, self.n_features), dtype=np.float32)
        word_part = hasher.transform(_word_ngrams(words, wlo, whi) for words in words_per_text)
        columns = _char_columns(words_per_text, hasher, clo, chi)
        n_texts = len(words_per_text)
        sizes = np.fromiter((len(c) // 4 for c in columns), dtype=np.int64, count=len(columns))
        word_counts = np.fromiter((len(w) for w in words_per_text), dtype=np.int64, count=n_texts)
        totals = np.bincount(np.repeat(np.arange(n_texts), word_counts), weights=sizes, minlength=n_texts)
        indptr = np.zeros(n_texts + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(totals.astype(np.int64))
        indices = np.frombuffer(bytearray(b"".join(columns)), dtype=np.int32)
        char_part = sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                                  shape=(n_texts, self.n_features))
        char_part.sum_duplicates()
        return (word_part + char_part).tocsr()

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
