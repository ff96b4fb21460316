"""The scoring side of the models: plain arrays and the arithmetic scoring needs, no scikit-learn.

Training fits scikit-learn estimators (``models.ViolationModel``, ``stance.StanceModel``) and
stores them as skops files, the full record of what was learnt. Scoring needs only their
weights, so training also writes those as ``scoring.npz``, arrays that load with
``allow_pickle=False`` (no code runs on load), and a scoring process never imports scikit-learn
or skops: about 130 MB less resident memory and a faster start. ``CompiledViolation`` and
``CompiledStance`` are that arithmetic; the estimators use the same objects for their own
predictions, so there is one implementation of it (tested equal to scikit-learn's).
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

from .errors import ModelError
from .hashing import HashedTfidf, Reading, token_columns, tokenize, unpack_word_columns, word_columns_packed
from .labels import HEADS, STANCES
from .lexicon import INNOCENT_SENSES, PROFANITY, SLURS
from .normalise import NAME_PLACEHOLDER

__all__ = ["ARRAY_NAMES", "LEXICON", "LEXICON_HEADS", "LEXICON_WEIGHT", "READ_ALONE", "SENTENCE_HEADS", "SLUR_HEADS",
           "CompiledStance", "CompiledViolation",
           "check_arrays", "content_words", "from_arrays", "relatedness_features", "row_cosines", "to_arrays"]

FORMAT = 1  # bump when the arrays' meaning changes

_WORD = re.compile(r"[a-z][a-z']{2,}")

# A comment is also read sentence by sentence for these heads: one abusive sentence among neutral
# ones is diluted in the whole comment's bag of n-grams ("The council met on Tuesday. You are an
# idiot."). The score moves halfway from the whole comment's towards its worst sentence's, never
# down. On the public validation splits this raised OLID macro-F1 from 0.718 to 0.732 and the
# Jigsaw profanity and personal-attack AUCs by about 0.005; the incitement heads are left out, since
# for them the sentence maximum lowered AUC (a quoted or conditional threat reads as one).
SENTENCE_HEADS = ("profanity", "personal_attack", "toxicity")
SENTENCE_WEIGHT = 0.5
# Profanity is a property of words: one swear word makes a comment profane however long it is, yet in
# a long comment its n-grams are a small share of the L2-normalised row ("should deport the f*ckers the
# day they're convicted, not after three years of free bed and board." scored 0.23, "the fuckers" 0.99).
# So each word of the profanity lexicon a comment holds is also read alone, through the same weights,
# and the score moves halfway towards the worst such word's. Scoring the shipped model this way moved
# OLID macro-F1 from 0.741 to 0.746, Jigsaw profanity AUC from 0.952 to 0.954 and the corpus test
# split's profanity F1 from 0.840 to 0.901 (verdict accuracy 74.3% to 75.8%). Moving all the way
# scored the same on OLID and the corpus but lowered Jigsaw profanity AUC to 0.950.
LEXICON_HEADS = ("profanity",)
LEXICON = PROFANITY - INNOCENT_SENSES  # "Dick Smith", "the cock crowed": only the whole comment decides
LEXICON_WEIGHT = 0.5
# A slur (``lexicon.SLURS``) is read alone the same way, for identity attack: "This street used to be nice
# before the niggers moved in." scored 0.39 for it, the word alone 1.00. Only the slurs the model learnt
# from its data move a score (the word alone scores what the weights give it: "kike" alone 0.04).
SLUR_HEADS = ("identity_attack",)
# The insult words (``lexicon.INSULTS``) read alone for personal attack the same way were tried (2026-12-07, model
# 20261207-22634c4f) and not kept: OLID macro-F1 0.745 -> 0.746, but Jigsaw personal-attack AUC 0.938 -> 0.933
# and the blind homonyms' innocent comments held 10 -> 13 of 100 (a pig farm, a birthday clown, garbage bins).
# Every word scoring reads alone, and the heads each word list moves.
READ_ALONE = LEXICON | SLURS
_ALONE = ((LEXICON, LEXICON_HEADS), (SLURS, SLUR_HEADS))
_STOP = frozenset(
    """the and for are but not you all any can had her was one our out has him his how its may new now
    see two who did get let say she too use that with have this will your from they been were said
    what when than them then there their would could should about which into more some such only
    other also just like very after most over even much these those many being because does doesn
    don't isn't it's i'm that's here where while why who's yes yet our ours own same so than""".split()
) | {NAME_PLACEHOLDER}  # a name in both comment and article is not a sign of the same topic
_COS_BINS = np.array([0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45])
# The columns of relatedness_features: the cosine, its bins, the share and number of shared words, the length.
_RELATEDNESS_COLUMNS = 1 + len(_COS_BINS) + 3


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


class CompiledViolation:
    """Calibrated violation heads: one sparse-dense product, then each head's isotonic curve."""

    def __init__(self, heads, featurizer: HashedTfidf, W: np.ndarray, b: np.ndarray, curves):
        self.heads = tuple(heads)
        self.featurizer_ = featurizer
        self.W = np.asarray(W, dtype=np.float32)  # (n_features, n_heads)
        self.b = np.asarray(b, dtype=np.float32)
        self.curves = [(np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)) for xs, ys in curves]
        # The sentences' rows are scored for SENTENCE_HEADS alone, with those heads' columns as one array of
        # their own: the product's time follows the columns read for each feature (about 0.4 of all seven's
        # time for three on news comments; each head's scores the same, bit for bit, tested).
        self._sentence: tuple = ()
        self._sentence_weights()

    def _sentence_weights(self) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
        """(sentence heads, their columns of W, of b): made again whenever ``W``, ``b`` or ``heads`` has been
        replaced since (a copy of the model given other heads); one tuple, swapped whole."""
        made = self._sentence
        if not made or made[0] is not self.W or made[1] is not self.b or made[2] != self.heads:
            heads = tuple(h for h in SENTENCE_HEADS if h in self.heads)
            cols = [self.heads.index(h) for h in heads]
            made = self._sentence = (self.W, self.b, self.heads, heads, np.ascontiguousarray(self.W[:, cols]),
                                     self.b[cols])
        return made[3:]

    @property
    def sentence_heads(self) -> tuple[str, ...]:
        """The heads of SENTENCE_HEADS this model has, in that order."""
        return self._sentence_weights()[0]

    def decision_function(self, X) -> np.ndarray:
        """Raw linear scores, (n_rows, n_heads), for a feature matrix."""
        return np.asarray(X @ self.W) + self.b

    def sentence_decision_function(self, X) -> np.ndarray:
        """``decision_function``'s columns of ``sentence_heads`` alone, (n_rows, len(sentence_heads))."""
        _, W, b = self._sentence_weights()
        return np.asarray(X @ W) + b

    def predict_proba_features(self, X) -> np.ndarray:
        """Calibrated probabilities, (n_rows, n_heads), for a feature matrix."""
        D = self.decision_function(X)
        out = np.empty_like(D, dtype=float)
        for j, (xs, ys) in enumerate(self.curves):
            out[:, j] = np.interp(D[:, j], xs, ys)
        return self._or_consistent(out)

    def predict_proba(self, texts) -> np.ndarray:
        """Calibrated probabilities, (n_texts, n_heads), for normalised texts (each read whole)."""
        return self.predict_proba_features(self.featurizer_.transform(texts))

    def predict_proba_comments(self, reading: Reading) -> np.ndarray:
        """Comment scores from a :class:`~moderation.hashing.Reading` of the comments (their TF-IDF rows,
        their sentences', their lexicon words'): each of :data:`SENTENCE_HEADS` moves from the whole
        comment's score towards its worst sentence's, then each of :data:`LEXICON_HEADS` towards its
        worst profanity word's and each of :data:`SLUR_HEADS` towards its worst slur's, never down (the
        reading's words: those of :data:`READ_ALONE` its texts hold)."""
        P = self.predict_proba_features(reading.whole)
        if reading.sentences is not None and reading.sentences.shape[0]:
            heads, W, b = self._sentence_weights()
            self._move_towards_worst(P, heads, SENTENCE_WEIGHT, np.asarray(reading.sentences @ W) + b, heads,
                                     reading.sentence_owner, np.arange(reading.sentences.shape[0]))
        if reading.words is not None and reading.words.shape[0]:
            Q = self.decision_function(reading.words)  # once for every word list's heads
            for words, heads in _ALONE:
                listed = np.fromiter((w in words for w in reading.word_names), dtype=bool, count=len(reading.word_names))
                pairs = reading.word_pairs[listed[reading.word_pairs[:, 1]]]
                if len(pairs):
                    self._move_towards_worst(P, heads, LEXICON_WEIGHT, Q, self.heads, pairs[:, 0], pairs[:, 1])
            P = self._or_consistent(P)  # incitement again, from the moved identity attack
        return P

    def _move_towards_worst(self, P, heads, weight, Q, q_heads, owner, row_of) -> None:
        # Part k of comment owner[k] has the linear scores Q[row_of[k]], whose columns are ``q_heads``'; each head's
        # score moves ``weight`` of the way towards its worst part's, never down.
        for head in heads:
            if head not in self.heads:
                continue
            j = self.heads.index(head)
            xs, ys = self.curves[j]
            worst = np.zeros(P.shape[0])
            np.maximum.at(worst, owner, np.interp(Q[row_of, q_heads.index(head)], xs, ys))
            P[:, j] = np.maximum(P[:, j], P[:, j] + weight * (worst - P[:, j]))

    def _or_consistent(self, P: np.ndarray) -> np.ndarray:
        # incitement is defined as threat OR identity_attack, and every source that labels it labels
        # both parts, so its probability is the larger of theirs. The separately trained mixed head
        # scored no better on validation (AUC 0.917 against 0.919 for the union) and flagged neutral
        # identity mentions ("My best friend is Jewish.") that neither part flags; it is kept in the
        # model file for comparison only.
        heads = list(self.heads)
        if {"incitement", "threat", "identity_attack"} <= set(heads):
            i, t, a = heads.index("incitement"), heads.index("threat"), heads.index("identity_attack")
            P[:, i] = np.maximum(P[:, t], P[:, a])
        return P

    def driving_head(self, head: str, probabilities: dict[str, float]) -> str:
        """The head whose weights explain ``head``'s score: for incitement, its strongest part."""
        if head == "incitement" and {"threat", "identity_attack"} <= set(self.heads):
            parts = {h: probabilities.get(h, 0.0) for h in ("threat", "identity_attack")}
            return max(parts, key=parts.get)
        return head

    def token_contributions(self, text: str, heads, row=None) -> tuple[list, np.ndarray]:
        """Each token of a normalised text with its share of each head's linear score.

        Returns the tokens and a (n_tokens, len(heads)) array. A feature's weighted value times the
        head's coefficient is shared equally between the tokens it spans (a word bigram: two) and
        between its occurrences (it is counted once in the feature row). ``row``: the text's feature
        row when the caller already has it.
        """
        heads = [heads] if isinstance(heads, str) else list(heads)
        f = self.featurizer_
        tokens = tokenize(text)
        # A long comment repeats its words: each distinct word's own columns come once from the
        # featurizer's per-word table and its share is reckoned once, rather than hashing every feature
        # string of every occurrence (tested equal to doing so).
        tc = token_columns([m.group(0) for m in tokens], f.n_features, f.word_ngrams, f.char_ngrams, f.seeds)
        cols = np.concatenate([tc.word_columns, *tc.longer.values(), tc.group_columns])
        if not len(cols):
            return tokens, np.zeros((len(tokens), len(heads)))
        n_words, n_own = len(tc.words), len(tc.word_columns)
        occurs = np.bincount(tc.word_of_token, minlength=n_words)
        share = self._occurrence_shares(cols, np.concatenate([occurs[tc.word_of_column], np.ones(len(cols) - n_own)]),
                                        heads, row)
        by_word = np.zeros((n_words, len(heads)))
        for j in range(len(heads)):
            by_word[:, j] = np.bincount(tc.word_of_column, weights=share[:n_own, j], minlength=n_words)
        contrib = by_word[tc.word_of_token]
        start = n_own
        for k, kgrams in tc.longer.items():
            part = share[start:start + len(kgrams)] / k
            for offset in range(k):  # k-gram i spans tokens i .. i + k - 1
                contrib[offset:offset + len(kgrams)] += part
            start += len(kgrams)
        np.add.at(contrib, tc.group_tokens, share[start:start + len(tc.group_columns)])  # "g <word>": the word
        return tokens, contrib

    def _occurrence_shares(self, cols, times, heads, row) -> np.ndarray:
        """Each listed feature column's value times each head's coefficient, shared between its occurrences in
        the text (the column occurs ``times`` times where listed): (len(cols), len(heads))."""
        distinct, inverse = np.unique(cols, return_inverse=True)
        seen = np.bincount(inverse, weights=times)
        if row is None:  # the text's counts are at hand: weighted, they are its row (what transform gives)
            row = self.featurizer_.weight(sp.csr_matrix(
                (seen.astype(np.float32), distinct.astype(np.int32), [0, len(distinct)]),
                shape=(1, self.featurizer_.n_features)))
        value = row.data[np.searchsorted(row.indices, distinct)].astype(np.float64)
        coef = self.W[distinct][:, [self.heads.index(h) for h in heads]].astype(np.float64)
        return ((value / seen)[:, None] * coef)[inverse]


class CompiledStance:
    """favor / against / neutral / unrelated: four one-vs-rest linear scores over text and relatedness."""

    def __init__(self, W: np.ndarray, b: np.ndarray, relatedness_scale: float):
        self.W = np.asarray(W, dtype=np.float32)  # (n_features + relatedness columns, 4)
        self.b = np.asarray(b, dtype=np.float32)
        self.relatedness_scale = float(relatedness_scale)

    def predict_proba(self, X_comment, X_article, comment_words, article_words, *, cosines=None) -> np.ndarray:
        """Probabilities (n_pairs, 4) in the order of ``STANCES`` (one-vs-rest, normalised).

        ``cosines`` (comment-article TF-IDF cosines, e.g. from articles kept in memory) may replace
        ``X_article``, which is then not read.
        """
        dense = relatedness_features(X_comment, X_article, comment_words, article_words, cosines)
        # The same as the design matrix (text features, then the scaled relatedness block) times W.
        n_text = X_comment.shape[1]
        scores = (np.asarray(X_comment @ self.W[:n_text], dtype=np.float64)
                  + (dense * self.relatedness_scale) @ self.W[n_text:] + self.b)
        P = 1.0 / (1.0 + np.exp(-scores))
        return P / np.maximum(P.sum(axis=1, keepdims=True), 1e-12)


def to_arrays(violation: CompiledViolation, stance: CompiledStance, seed_words=()) -> dict[str, np.ndarray]:
    """The arrays of ``scoring.npz``: plain numbers and strings, nothing that needs pickle. ``seed_words``
    (the training data's most common words) are shipped with their hashed columns, which a process that
    loads the model looks up (``HashedTfidf.seeds``) instead of hashing them at its first comments; the words
    are one UTF-8 text, a word a line (a token never holds white space), which loads faster than an array of
    fixed-width strings."""
    f = violation.featurizer_
    lengths = np.array([len(xs) for xs, _ in violation.curves], dtype=np.int64)
    seeds = {}
    if len(seed_words):
        words = [str(w) for w in seed_words]
        if any(not w or any(c.isspace() for c in w) for w in words):
            raise ValueError("a shipped word is empty or holds white space: not a token")
        packed, counts = word_columns_packed(words, f.n_features, f.word_ngrams, f.char_ngrams)
        seeds = {"seed_words": np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
                 "seed_lengths": counts, "seed_columns": packed}
    return {**seeds,
        "format": np.array(FORMAT), "heads": np.array(violation.heads),
        "n_features": np.array(f.n_features), "word_ngrams": np.array(f.word_ngrams),
        "char_ngrams": np.array(f.char_ngrams), "sublinear_tf": np.array(f.sublinear_tf), "idf": f.idf_,
        "violation_W": violation.W, "violation_b": violation.b, "curve_lengths": lengths,
        "curve_x": np.concatenate([xs for xs, _ in violation.curves]),
        "curve_y": np.concatenate([ys for _, ys in violation.curves]),
        "stance_W": stance.W, "stance_b": stance.b, "relatedness_scale": np.array(stance.relatedness_scale),
    }


def from_arrays(arrays) -> tuple[CompiledViolation, CompiledStance]:
    """The scoring models from ``scoring.npz``'s arrays (see :func:`to_arrays`), checked first
    (:func:`check_arrays`)."""
    check_arrays(arrays)
    featurizer = HashedTfidf(int(arrays["n_features"]), arrays["word_ngrams"], arrays["char_ngrams"],
                             bool(arrays["sublinear_tf"]), arrays["idf"])
    ends = np.cumsum(arrays["curve_lengths"])
    xs, ys = np.split(arrays["curve_x"], ends[:-1]), np.split(arrays["curve_y"], ends[:-1])
    violation = CompiledViolation([str(h) for h in arrays["heads"]], featurizer, arrays["violation_W"],
                                  arrays["violation_b"], list(zip(xs, ys)))
    stance = CompiledStance(arrays["stance_W"], arrays["stance_b"], float(arrays["relatedness_scale"]))
    if "seed_words" in arrays:
        featurizer.seeds = unpack_word_columns(_seed_words(arrays), arrays["seed_columns"], arrays["seed_lengths"])
    return violation, stance


_SEED_ARRAYS = ("seed_words", "seed_lengths", "seed_columns")
_ARRAY_NAMES = ("format", "heads", "n_features", "word_ngrams", "char_ngrams", "sublinear_tf", "idf", "violation_W",
                "violation_b", "curve_lengths", "curve_x", "curve_y", "stance_W", "stance_b", "relatedness_scale")
# Every array scoring reads, the optional shipped words included: what a scoring process loads.
ARRAY_NAMES = _ARRAY_NAMES + _SEED_ARRAYS
_KINDS = {"iu": "whole numbers", "fiu": "numbers", "b": "a true/false value", "U": "text", "u": "bytes (UTF-8 text)"}


def check_arrays(arrays) -> None:
    """Refuse scoring arrays that do not fit together, with a ModelError naming the array and what was expected.

    A file that passes its hash check may still have been written wrong (by hand, by another version, by
    whoever could rewrite the manifest too). Unchecked, weights cut short are a traceback at the first
    comment, a head list shorter than the weights scores the wrong heads, and NaN or stretched calibration
    curves give scores that are no probabilities. It runs at every load, so it only compares shapes and
    reads each array once (under a millisecond for the shipped model).
    """
    missing = [name for name in _ARRAY_NAMES if name not in arrays]
    if missing:
        raise ModelError(f"the scoring arrays lack {', '.join(missing)}: not written by this library's to_arrays")
    fmt = int(_array(arrays, "format", "iu", ()))
    if fmt != FORMAT:
        raise ModelError(f"scoring arrays of format {fmt}; this version reads format {FORMAT}")
    heads = _array(arrays, "heads", "U", (None,)).tolist()
    if not heads or len(set(heads)) != len(heads) or not all(heads):
        raise ModelError(f"scoring array heads is {heads}: expected one or more distinct head names")
    # A policy reads a label the model has no head for as 0 (found by a review: heads renamed in a rewritten file
    # passed every check and approved threats); a scoring model must also have every policy label (Scorer.load).
    unknown = [h for h in heads if h not in HEADS]
    if unknown:
        raise ModelError(f"scoring array heads is {heads}: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} "
                         f"no label of this version ({', '.join(HEADS)})")
    n = _check_featurizer(arrays)
    _finite(arrays, "violation_W", (n, len(heads)), f"a row per feature (n_features = {n}), a column per head "
                                                    f"({len(heads)} heads)")
    _finite(arrays, "violation_b", (len(heads),), f"one per head: {len(heads)} heads")
    _check_curves(arrays, heads)
    _finite(arrays, "stance_W", (n + _RELATEDNESS_COLUMNS, len(STANCES)),
            f"a row per feature (n_features = {n}) and per relatedness column ({_RELATEDNESS_COLUMNS}), "
            f"a column per stance ({len(STANCES)})")
    _finite(arrays, "stance_b", (len(STANCES),), f"one per stance: {len(STANCES)}")
    _finite(arrays, "relatedness_scale", (), "")
    _check_seeds(arrays, n)


def _seed_words(arrays) -> list[str]:
    """The shipped words (see :func:`to_arrays`)."""
    try:
        text = np.asarray(arrays["seed_words"], dtype=np.uint8).tobytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelError(f"scoring array seed_words is not UTF-8 text: {exc}") from None
    return text.split("\n") if text else []
_SEEDS_CHECKED = 16  # words whose shipped columns are hashed again at load


def _check_seeds(arrays, n: int) -> None:
    """The shipped word columns (optional; all three arrays or none): shapes, columns within the features, and
    a few words hashed again, so that a table written with other hashing parameters is refused, not used."""
    present = [name for name in _SEED_ARRAYS if name in arrays]
    if not present:
        return
    if len(present) != len(_SEED_ARRAYS):
        raise ModelError(f"the scoring arrays hold {', '.join(present)} but not all of {', '.join(_SEED_ARRAYS)}")
    _array(arrays, "seed_words", "u", (None,))
    words = _seed_words(arrays)
    lengths = _array(arrays, "seed_lengths", "iu", (len(words),), f"one per shipped word: {len(words)} words")
    if len(lengths) and lengths.min() < 0:
        raise ModelError("scoring array seed_lengths: a word's number of columns cannot be negative")
    if len(set(words)) != len(words):
        raise ModelError("scoring array seed_words lists a word twice")
    columns = _array(arrays, "seed_columns", "iu", (int(lengths.sum()),))
    if len(columns) and (columns.min() < 0 or columns.max() >= n):
        raise ModelError(f"scoring array seed_columns: columns outside 0 to n_features - 1 ({n - 1})")
    picks = np.linspace(0, len(words) - 1, num=min(_SEEDS_CHECKED, len(words)), dtype=np.int64)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    sample = [words[i] for i in picks]
    expected, _ = word_columns_packed(sample, n, arrays["word_ngrams"], arrays["char_ngrams"])
    shipped = np.concatenate([columns[starts[i]:starts[i] + lengths[i]] for i in picks]) if len(picks) else columns[:0]
    if not np.array_equal(expected, shipped.astype(np.int32)):
        raise ModelError("scoring array seed_columns does not hold the columns its words hash to with this model's "
                         "n_features and n-gram ranges")


def _check_featurizer(arrays) -> int:
    """The featurizer's arrays checked; returns its number of features (the weights' rows)."""
    n = int(_array(arrays, "n_features", "iu", ()))
    if not 1 <= n < 2**31:  # feature columns are int32
        raise ModelError(f"scoring array n_features is {n}: expected a number of hashed features, 1 to 2**31 - 1")
    for name in ("word_ngrams", "char_ngrams"):
        lo, hi = _array(arrays, name, "iu", (2,)).tolist()
        if not 1 <= lo <= hi:
            raise ModelError(f"scoring array {name} is [{lo}, {hi}]: expected the shortest and the longest n-gram, "
                             "1 <= shortest <= longest")
    _array(arrays, "sublinear_tf", "b", ())
    _finite(arrays, "idf", (n,), f"one weight per feature, n_features = {n}")
    return n


def _check_curves(arrays, heads: list[str]) -> None:
    """Each head's calibration curve: at least one point, scores strictly increasing (``np.interp`` answers
    nonsense otherwise), probabilities within [0, 1]."""
    lengths = _array(arrays, "curve_lengths", "iu", (len(heads),), f"one per head: {len(heads)} heads")
    if (lengths < 1).any():
        raise ModelError(f"scoring array curve_lengths is {lengths.tolist()}: every head's curve needs a point")
    total, starts = int(lengths.sum()), np.cumsum(lengths) - lengths
    xs = _finite(arrays, "curve_x", (total,), "the points of every curve: the sum of curve_lengths")
    ys = _finite(arrays, "curve_y", (total,), "the points of every curve: the sum of curve_lengths")
    rising = np.diff(xs) > 0
    rising[starts[1:] - 1] = True  # one curve's last point and the next one's first
    outside = (ys < 0) | (ys > 1)
    for name, bad, expected in (("curve_x", np.flatnonzero(~rising) + 1, "strictly increasing scores"),
                                ("curve_y", np.flatnonzero(outside), "probabilities within [0, 1]")):
        if len(bad):
            j = int(np.searchsorted(starts, bad[0], side="right")) - 1
            raise ModelError(f"scoring array {name}: the calibration curve of {heads[j]!r} is wrong at its point "
                             f"{int(bad[0] - starts[j])} ({float(arrays[name][bad[0]])!r}): expected {expected}")


def _array(arrays, name: str, kinds: str, shape: tuple, why: str = "") -> np.ndarray:
    """``arrays[name]``, refused unless it holds values of ``kinds`` in ``shape`` (None: any length);
    ``why`` says what the shape means."""
    a = np.asarray(arrays[name])
    if a.dtype.kind not in kinds:
        raise ModelError(f"scoring array {name} holds {a.dtype} values: expected {_KINDS[kinds]}")
    if a.ndim != len(shape) or any(want is not None and got != want for got, want in zip(a.shape, shape)):
        dims = ", ".join("n" if w is None else str(w) for w in shape) + ("," if len(shape) == 1 else "")
        wanted = f"({dims})" if shape else "a single value"
        raise ModelError(f"scoring array {name} has shape {a.shape}: expected {wanted}" + (f" ({why})" if why else ""))
    return a


def _finite(arrays, name: str, shape: tuple, why: str) -> np.ndarray:
    """A numeric array of ``shape`` without NaN or infinite values."""
    a = _array(arrays, name, "fiu", shape, why)
    if not np.isfinite(a).all():
        raise ModelError(f"scoring array {name} holds NaN or infinite values: expected finite numbers")
    return a
