"""The fast featurizer gives exactly the counts of hashing ``analyze``'s feature strings."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sklearn.feature_extraction import FeatureHasher

from moderation import features
from moderation.features import CommentFeaturizer, analyze
from moderation.normalise import normalise_text

TEXTS = [
    "", "!!!", "ok", "you are an idiot", "aaaaaaa aaaaaaa aaaaaaa", "don't you dare, mr. o'brien",
    "héllo wörld straße", "the the the the", "a b c d e f g", "f*ck this sh1t", "<b>bold</b> &amp; more",
    "Someone should shoot that judge. The judge gave him a suspended sentence.", "x" * 300,
    "¿qué pasa? 你好 мир", "12 345 6789", "the council voted 7-2 to close the library on sundays",
]


def _reference(featurizer: CommentFeaturizer, texts: list[str]):
    hasher = FeatureHasher(n_features=featurizer.n_features, input_type="string", alternate_sign=False,
                           dtype=np.float32)
    return hasher.transform(analyze(t, word_ngrams=tuple(featurizer.word_ngrams),
                                    char_ngrams=tuple(featurizer.char_ngrams)) for t in texts)


@pytest.mark.parametrize("params", [{}, {"n_features": 2**10}, {"word_ngrams": (1, 3), "char_ngrams": (3, 4)}])
def test_counts_equal_hashing_the_feature_strings(params):
    featurizer = CommentFeaturizer(**params)
    texts = [normalise_text(t) for t in TEXTS]
    features._CHAR_TABLES.clear()
    for _ in range(2):  # a cold table, then a warm one
        got = featurizer._counts(texts)
        want = _reference(featurizer, texts)
        assert got.shape == want.shape
        assert abs(got - want).max() == 0 if want.nnz else got.nnz == 0


def test_the_word_table_is_bounded(monkeypatch):
    monkeypatch.setattr(features, "_CHAR_TABLE_MAX_WORDS", 5)
    features._CHAR_TABLES.clear()
    featurizer = CommentFeaturizer()
    texts = [f"word{i} other{i} third{i}" for i in range(10)]
    got = featurizer._counts(texts)
    assert abs(got - _reference(featurizer, texts)).max() == 0
    assert all(len(table) <= 5 for table in features._CHAR_TABLES.values())


def test_no_texts_give_an_empty_matrix():
    assert CommentFeaturizer()._counts([]).shape == (0, 2**18)


def test_threads_sharing_the_table_get_the_same_counts(monkeypatch):
    monkeypatch.setattr(features, "_CHAR_TABLE_MAX_WORDS", 50)  # full early: later words are hashed each time
    featurizer = CommentFeaturizer()
    batches = [[f"thread {k} comment {i} about harbour{i % 7}" for i in range(40)] for k in range(4)]
    wants = [_reference(featurizer, b) for b in batches]
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for _ in range(20):
                assert abs(featurizer._counts(batches[k]) - wants[k]).max() == 0
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
