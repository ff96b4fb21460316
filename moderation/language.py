"""Offline language identification (py3langid's bundled model; no network)."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

__all__ = ["LANGUAGES", "NO_WORDS", "identify_language", "identify_languages"]

# The language given to a text with no letter at all ("+1", "!!!", emoji): ISO 639's "undetermined".
NO_WORDS = "und"

# The languages a news site's readers most often write in; restricting the candidates keeps
# very short English comments ("lol ok") from being read as Turkish or Czech.
LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "ru", "uk", "tr", "ar", "zh", "ja",
             "ko", "sv", "da", "no", "fi", "ro", "el", "cs", "hu", "hi")
_MIN_CONFIDENCE = 0.9
# A text of six words or more is read as the language it was guessed in at a lower confidence:
# "Eres un idiota, vete a la mierda" is Spanish at 0.87 and "Sei un idiota totale e un cretino"
# Italian at 0.71, and both were scored as English. Measured on 30,726 comments and tweets of the
# English training sources (all of validation and 20,000 of training): 59 were read as another
# language, against 56 at 0.9 ("haha zombie week is so real": Dutch, 0.71).
_LONG_TEXT_WORDS = 6
_LONG_TEXT_MIN_CONFIDENCE = 0.7
_LETTER = re.compile(r"[^\W\d_]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
# Scripts written without spaces between words: each character counts as a word.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")
_MIN_SCRIPT_CONFIDENCE = 0.5
_LATIN_SCRIPT = frozenset("en es fr de it pt nl pl tr sv da no fi ro cs hu".split())


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(LANGUAGES))
    # The full 142-language table (27 MB) is only needed to restrict again; we never do.
    ident._full_model = None
    return ident


def _decide(text: str, lang: str, confidence: float, default: str) -> tuple[str, float]:
    if lang == default:
        return lang, float(confidence)
    # Text with letters but no Latin one is not in a Latin-script default language, however short
    # ("مقالة رائعة"); one letter is too little to go on ("π", the shrug's "ツ").
    if (default in _LATIN_SCRIPT and not _LATIN.search(text) and len(_LETTER.findall(text)) >= 2
            and confidence >= _MIN_SCRIPT_CONFIDENCE):
        return lang, float(confidence)
    words = len(text.split()) + len(_UNSPACED.findall(text))
    needed = _LONG_TEXT_MIN_CONFIDENCE if words >= _LONG_TEXT_WORDS else _MIN_CONFIDENCE
    if confidence < needed or words < 3:
        return default, float(confidence)
    return lang, float(confidence)


def identify_language(text: str, default: str = "en") -> tuple[str, float]:
    """ISO 639-1 code and confidence; ``und`` for text without letters.

    A short or uncertain text is given the site's ``default`` language: one-word reactions carry
    too little signal, and calling them foreign would send them all to a moderator. Two exceptions:
    text with two or more letters but no Latin one is not given a Latin-script default ("مقالة رائعة"
    is not English), and in scripts written without spaces (Chinese, Japanese, Thai) each character counts
    as a word.
    """
    if not _LETTER.search(text):
        return NO_WORDS, 0.0
    lang, confidence = _identifier().classify(text)
    return _decide(text, lang, confidence, default)


# Below this many texts, one call per text is faster than the batch walk.
_BATCH_MIN = 16
_BATCH_MAX_CHARS = 1_000


def identify_languages(texts: list[str], default: str = "en") -> list[tuple[str, float]]:
    """``identify_language`` of each text; for a batch, the same answers from one vectorised pass.

    py3langid walks its byte automaton and scores each text on its own; here the automaton steps
    every text of the batch at once (one array operation per byte position), and the naive Bayes
    scores come from one sparse product, as py3langid computes them (tested equal).
    """
    if len(texts) < _BATCH_MIN:
        return [identify_language(t, default) for t in texts]
    # The walk takes one step per byte of the longest text: long texts go one by one.
    with_letters = [i for i, t in enumerate(texts) if len(t) <= _BATCH_MAX_CHARS and _LETTER.search(t)]
    out: list[tuple[str, float]] = [(NO_WORDS, 0.0)] * len(texts)
    for i, text in enumerate(texts):
        if len(text) > _BATCH_MAX_CHARS:
            out[i] = identify_language(text, default)
    if len(with_letters) >= _BATCH_MIN:
        ident = _identifier()
        probs = _batch_probabilities(ident, [texts[i] for i in with_letters])
        best = probs.argmax(axis=1)
        for row, i in enumerate(with_letters):
            out[i] = _decide(texts[i], ident.nb_classes[best[row]], float(probs[row, best[row]]), default)
    else:
        for i in with_letters:
            out[i] = identify_language(texts[i], default)
    return out


@lru_cache(maxsize=1)
def _automaton():
    ident = _identifier()
    moves = np.frombuffer(ident.tk_nextmove, dtype=f"u{ident.tk_nextmove.itemsize}")  # a view, not a copy
    row_base = np.asarray(ident.tk_row, dtype=np.int64) << 8
    output = np.asarray(ident.tk_output, dtype=np.int64)
    return moves, row_base, output


def _batch_probabilities(ident, texts: list[str]) -> np.ndarray:
    """py3langid's normalised class probabilities, (n_texts, n_languages), for texts with letters."""
    moves, row_base, output = _automaton()
    encoded = [ident._encode(t) for t in texts]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    order = np.argsort(-lengths, kind="stable")  # the texts still being read are always a prefix
    width = int(lengths.max())
    data = np.zeros((len(encoded), width), dtype=np.int64)
    for row, i in enumerate(order):
        data[row, :lengths[i]] = np.frombuffer(encoded[i], dtype=np.uint8)
    alive = np.searchsorted(-lengths[order], -np.arange(width), side="left")  # texts longer than each position
    state = np.zeros(len(encoded), dtype=np.int64)
    rows, feats = [], []
    for pos in range(width):
        k = alive[pos]
        state[:k] = moves[row_base[state[:k]] + data[:k, pos]]
        f = output[state[:k]]
        hit = np.flatnonzero(f >= 0)
        rows.append(hit)
        feats.append(f[hit])
    rows_all, feats_all = np.concatenate(rows), np.concatenate(feats)
    used, column = np.unique(feats_all, return_inverse=True)
    counts = sp.csr_matrix((np.ones(len(rows_all), dtype=np.float32), (rows_all, column)),
                           shape=(len(encoded), len(used)))
    counts.sum_duplicates()
    counts.data = np.log1p(counts.data)
    scores = np.asarray(counts @ ident.nb_ptc[used].astype(np.float32)) + ident.nb_pc
    scores[np.diff(counts.indptr) == 0] = 0.0  # no features: py3langid scores 0 (uniform) under norm_probs
    scores *= (1.0 / np.sqrt(np.maximum(lengths[order], 1)))[:, None]
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    scores /= scores.sum(axis=1, keepdims=True)
    for i, j in ident._alias_pairs:  # script aliases share one label, as py3langid folds them
        scores[:, i] += scores[:, j]
        scores[:, j] = 0.0
    result = np.empty_like(scores)
    result[order] = scores
    return result
