"""Hashed word and character n-gram TF-IDF rows: the scoring side, free of scikit-learn.

``HashedTfidf.transform`` is the hot path of scoring, so it works on plain arrays and builds one
sparse matrix at the end: each distinct word's columns (its unigram and its character n-grams)
are hashed once and kept in a bounded per-process table, since readers reuse words far more often
than they coin them; only longer word n-grams are hashed per comment (explanations, which need each
feature's tokens, read the same table through ``token_columns``). A batch of many characters is read
with array operations over all its tokens at once (``_read_batch``: each distinct word n-gram hashed
once, the counts one sparse product), the same matrices as reading text by text. The columns are exactly those
scikit-learn's ``FeatureHasher`` gives ``analyze``'s feature strings (MurmurHash3 from ``mmh3``,
the same function), and the weights those of TF-IDF with L2 normalisation (both tested).
Training (``features.CommentFeaturizer``) learns the IDF vector and uses this same code. A sentence
that names a group adds one more kind of feature, each of its other words paired with the group
(``_group_context_tokens``).
"""

from __future__ import annotations

import re
from array import array
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

import mmh3
import numpy as np
import scipy.sparse as sp

__all__ = ["HashedTfidf", "Reading", "analyze", "feature_columns", "hashed_counts", "read_counts", "TokenColumns",
           "token_columns", "token_words", "tokenize", "unpack_word_columns", "word_columns_packed"]

_TOKEN = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")
_INT32_MIN = -(2**31)


def tokenize(text: str) -> list[re.Match]:
    """Word and punctuation tokens of a normalised text, as matches (so offsets are known)."""
    return list(_TOKEN.finditer(text))


def token_words(text: str) -> list[str]:
    """Word and punctuation tokens of a normalised text, as strings (the words the word table keeps)."""
    return _TOKEN.findall(text)


def _char_ngrams(word: str, lo: int, hi: int, out: list[str]) -> None:
    padded = f" {word} "
    size = len(padded)
    for n in range(lo, hi + 1):
        if size < n:
            break
        out.extend(["c" + padded[i:i + n] for i in range(size - n + 1)])


def _column(feature: str, n_features: int) -> int:
    """The column ``FeatureHasher(alternate_sign=False)`` gives a feature string (signed MurmurHash3, seed 0)."""
    h = mmh3.hash(feature, 0)
    return (2**31 - 1 - (n_features - 1)) % n_features if h == _INT32_MIN else abs(h) % n_features


def _columns(feats: list[str], n_features: int) -> np.ndarray:
    """``_column`` of each feature string, as an int64 array (one hashing call each, the rest in numpy)."""
    h = np.fromiter(map(mmh3.hash, feats), dtype=np.int64, count=len(feats))
    cols = np.abs(h) % n_features
    cols[h == _INT32_MIN] = (2**31 - 1 - (n_features - 1)) % n_features
    return cols


# (n_features, unigrams?, char n-gram range) -> {word: its columns (unigram, character n-grams) as int32 bytes}:
# the words this process has hashed. A model's own shipped words (``HashedTfidf.seeds``) are looked up first and
# never enter this table, so that one model's shipped columns cannot change another's scores.
_WORD_TABLES: dict[tuple, dict[str, bytes]] = {}
_WORD_TABLE_MAX_WORDS = 50_000  # about 10 MB; once full, new words are hashed but not kept


def _hash_words(words: list[str], n_features: int, unigrams: bool, lo: int, hi: int) -> list[bytes]:
    """Each word's columns, hashed afresh: its unigram (when word unigrams are features) and its character
    n-grams, as int32 bytes (all the words' features hashed in one call)."""
    feats: list[str] = []
    ends = []
    for word in words:
        if unigrams:
            feats.append("w" + word)
        if word.isalnum() or "'" in word:
            _char_ngrams(word, lo, hi, feats)
        ends.append(len(feats))
    packed = _columns(feats, n_features).astype(np.int32).tobytes()
    return [packed[4 * start:4 * end] for start, end in zip([0, *ends[:-1]], ends)]


def word_columns_packed(words: list[str], n_features: int, word_ngrams, char_ngrams) -> tuple[np.ndarray, np.ndarray]:
    """Each word's own columns, hashed afresh, concatenated as int32, and how many each has (a model's shipped
    words; see :func:`unpack_word_columns`)."""
    (wlo, whi), (clo, chi) = tuple(word_ngrams), tuple(char_ngrams)
    cols = _hash_words(list(words), n_features, wlo <= 1 <= whi, clo, chi)
    return (np.frombuffer(b"".join(cols), dtype=np.int32).copy(),
            np.fromiter((len(c) // 4 for c in cols), dtype=np.int32, count=len(cols)))


def unpack_word_columns(words: list[str], packed: np.ndarray, lengths: np.ndarray) -> dict[str, bytes]:
    """The {word: columns} table of ``word_columns_packed``'s arrays."""
    raw = np.ascontiguousarray(packed, dtype=np.int32).tobytes()
    ends = (np.cumsum(np.asarray(lengths, dtype=np.int64)) * 4).tolist()
    return {word: raw[start:end] for word, start, end in zip(words, [0, *ends[:-1]], ends)}


def _word_columns(words: set[str], n_features: int, unigrams: bool, lo: int, hi: int,
                  seeds: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """Each word's columns: its unigram (when word unigrams are features) and its character n-grams; from the
    model's own shipped words (``seeds``), else this process's table, else hashed (and kept in the table).

    Safe to call from several threads: each call reads the shared table into its own dict.
    """
    table = _WORD_TABLES.setdefault((n_features, unigrams, lo, hi), {})
    seeds = seeds or {}
    found: dict[str, bytes] = {}
    new: list[str] = []
    for word in words:
        cols = seeds.get(word)
        if cols is None:
            cols = table.get(word)
        if cols is None:
            new.append(word)
        else:
            found[word] = cols
    if not new:
        return found
    for word, cols in zip(new, _hash_words(new, n_features, unigrams, lo, hi)):
        found[word] = cols
        if len(table) < _WORD_TABLE_MAX_WORDS:
            table[word] = cols
    return found


def _ngram_columns(words: list[str], k: int, n_features: int) -> list[int]:
    """The column of each word k-gram of a tokenised text, in the order of their first tokens."""
    return _columns(["w" + " ".join(words[i:i + k]) for i in range(len(words) - k + 1)], n_features).tolist()


class TokenColumns(NamedTuple):
    """The columns of a tokenised text's features, by the tokens they span (see :func:`token_columns`)."""

    words: list[str]  # the text's distinct tokens, first seen first
    word_of_token: np.ndarray  # each token's number among ``words``
    word_columns: np.ndarray  # each distinct word's own columns (its unigram, its character n-grams), in turn
    word_of_column: np.ndarray  # the distinct word of each of ``word_columns``
    longer: dict[int, np.ndarray]  # order k -> the column of the word k-gram starting at each token
    group_tokens: np.ndarray  # the tokens that have a group-context feature ("g <word>"), each once
    group_columns: np.ndarray  # those features' columns


def token_columns(words: list[str], n_features: int, word_ngrams, char_ngrams,
                  seeds: dict[str, bytes] | None = None) -> TokenColumns:
    """The columns of a tokenised text's features (``analyze``'s, tested) with the tokens they span.

    A word's own columns are listed once however often it occurs, and come from the per-word table,
    so only the longer word n-grams are hashed here.
    """
    (wlo, whi), (clo, chi) = tuple(word_ngrams), tuple(char_ngrams)
    number: dict[str, int] = {}
    word_of_token = np.fromiter((number.setdefault(w, len(number)) for w in words), dtype=np.int64, count=len(words))
    table = _word_columns(set(number), n_features, wlo <= 1 <= whi, clo, chi, seeds)
    word_cols = [table[w] for w in number]
    sizes = np.fromiter((len(c) // 4 for c in word_cols), dtype=np.int64, count=len(word_cols))
    own = np.frombuffer(b"".join(word_cols), dtype=np.int32).astype(np.int64)
    longer = {k: np.array(_ngram_columns(words, k, n_features), dtype=np.int64) for k in range(max(wlo, 2), whi + 1)}
    group = _group_context_columns(words, n_features)
    return TokenColumns(list(number), word_of_token, own, np.repeat(np.arange(len(word_cols)), sizes), longer,
                        np.array([j for j, _ in group], dtype=np.int64), np.array([c for _, c in group], dtype=np.int64))


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
    for j in _group_context_tokens(words):
        feats.append("g " + words[j])
        if with_tokens:
            owners.append((j,))
    return (feats, owners) if with_tokens else feats


def hashed_counts(texts, n_features: int, word_ngrams, char_ngrams, seeds: dict[str, bytes] | None = None
                  ) -> sp.csr_matrix:
    """Hashed feature counts, (n_texts, n_features): those of hashing ``analyze`` of each text."""
    return read_counts(texts, n_features, word_ngrams, char_ngrams, sentences=False, seeds=seeds).whole


class Reading(NamedTuple):
    """The rows a batch of texts is read as: each whole text; each sentence of the texts that have two or
    more (``sentence_owner[k]`` the text of sentence row ``k``); and each distinct word of a lexicon
    that the texts hold, read alone (``word_pairs``: (text, word row) pairs; ``word_names[r]`` the word of
    word row ``r``)."""

    whole: sp.csr_matrix
    sentences: sp.csr_matrix | None
    sentence_owner: np.ndarray
    words: sp.csr_matrix | None
    word_pairs: np.ndarray
    word_names: tuple[str, ...]


# A sentence ends at a run of these tokens; one with fewer than this many word tokens is not read alone.
_SENTENCE_END = frozenset(".!?")
SENTENCE_MIN_WORDS = 3


def _is_word(token: str) -> bool:
    return token[0].isalnum() or token[0] == "'"


def _sentence_bounds(words: list[str]) -> list[tuple[int, int]]:
    """Token spans [start, end) of every sentence of a tokenised text (a sentence ends at a run of
    ``_SENTENCE_END`` tokens, or at the end of the text)."""
    spans, start = [], 0
    ends = [i for i, w in enumerate(words) if w in _SENTENCE_END]
    for k, i in enumerate(ends):
        if k + 1 < len(ends) and ends[k + 1] == i + 1:  # the run of end tokens goes on
            continue
        spans.append((start, i + 1))
        start = i + 1
    if start < len(words):
        spans.append((start, len(words)))
    return spans


def _sentence_spans(words: list[str]) -> list[tuple[int, int]]:
    """Token spans [start, end) of the sentences of a tokenised text that have enough words (an end token is no
    word: its first character is neither a letter, a digit nor "'")."""
    is_word = [w[0].isalnum() or w[0] == "'" for w in words]
    return [(a, b) for a, b in _sentence_bounds(words) if sum(is_word[a:b]) >= SENTENCE_MIN_WORDS]


# Group-context features: in a sentence that names a group (holds ``normalise.GROUP_PLACEHOLDER``, spelt
# out here so that scoring needs nothing but this module), each other word is also a feature "g <word>",
# so that what is said about a group is learnt apart from the same word elsewhere ("I hate Mondays").
# Trained with them, Jigsaw incitement AUC went from 0.923 to 0.931 and ToxiGen identity attack from
# 0.902 to 0.904 on validation (functional probes 71.3% -> 68.7%). One more feature shared by every pejorative word
# (insults, "vermin", "disgusting", "criminals", ...) of such a sentence, so what those words say about a group is
# learnt from all of them together, was tried on 2026-12-07 and not kept: functional cases written blind 64.0% ->
# 63.0%, OLID macro-F1 0.745 -> 0.746, corpus test incitement F1 0.513 -> 0.501, Jigsaw AUCs within 0.003.
_GROUP = "xxgroup"


def _group_context_columns(words: list[str], n_features: int) -> list[tuple[int, int]]:
    """(token index, column) of "g <word>" for each word of a sentence that names a group."""
    return [(j, _column("g " + words[j], n_features)) for j in _group_context_tokens(words)]


def _group_context_tokens(words: list[str]) -> list[int]:
    """The word tokens of each sentence that names a group (holds the placeholder), bar the placeholder."""
    if _GROUP not in words:
        return []
    return [j for a, b in _sentence_bounds(words) if _GROUP in words[a:b]
            for j in range(a, b) if words[j] != _GROUP and _is_word(words[j])]


# Texts of fewer characters than this in all are read one by one: the batch reading's array work
# costs about a millisecond whatever the batch (measured: about even at 64 corpus comments or 16 news
# comments). A batch is read in parts of at most BATCH_MAX_TEXTS texts, which bounds its arrays' memory.
BATCH_MIN_CHARS = 8_000
BATCH_MAX_TEXTS = 4_096


def read_counts(texts, n_features: int, word_ngrams, char_ngrams, sentences: bool = True,
                lexicon: frozenset = frozenset(), seeds: dict[str, bytes] | None = None) -> Reading:
    """Hashed counts of each text and, with ``sentences``, of each sentence of the texts that have two
    or more, and of each ``lexicon`` word the texts hold (see :class:`Reading`).

    A sentence's row is the one its tokens, joined by spaces, would get as a text of its own (tested):
    its words' columns come from the same table and its word n-grams are those of the text that lie
    inside it, so reading sentences costs no extra hashing; a word's row is its own columns. A few
    texts are read one by one (``_read_each``), more at once (``_read_batch``): the same matrices.
    """
    texts = texts if isinstance(texts, list) else list(texts)
    if len(texts) <= BATCH_MAX_TEXTS:
        return _split(_counts(texts, n_features, word_ngrams, char_ngrams, sentences, lexicon, seeds))
    parts = [_split(_read_batch(texts[i:i + BATCH_MAX_TEXTS], n_features, word_ngrams, char_ngrams, sentences,
                                lexicon, seeds)) for i in range(0, len(texts), BATCH_MAX_TEXTS)]
    sentence_parts = [p.sentences for p in parts if p.sentences is not None]
    word_parts = [p.words for p in parts if p.words is not None]
    owners, pairs, names, words_before = [], [], [], 0
    for k, p in enumerate(parts):
        names.extend(p.word_names)
        owners.append(p.sentence_owner + k * BATCH_MAX_TEXTS)
        pairs.append(p.word_pairs + np.array([k * BATCH_MAX_TEXTS, words_before]))
        words_before += 0 if p.words is None else p.words.shape[0]
    return Reading(sp.vstack([p.whole for p in parts], format="csr"),
                   sp.vstack(sentence_parts, format="csr") if sentence_parts else None,
                   np.concatenate(owners), sp.vstack(word_parts, format="csr") if word_parts else None,
                   np.concatenate(pairs).reshape(-1, 2), tuple(names))


class _Counts(NamedTuple):
    """What ``_read_each`` and ``_read_batch`` give: one matrix of counts whose rows are the texts', then
    the sentences', then the lexicon words' (so that weighting it is one pass), and how many of each."""

    counts: sp.csr_matrix
    n_texts: int
    n_sentences: int
    sentence_owner: np.ndarray
    word_pairs: np.ndarray
    word_names: tuple[str, ...]


def _counts(texts: list[str], n_features: int, word_ngrams, char_ngrams, sentences: bool,
            lexicon: frozenset, seeds: dict[str, bytes] | None = None) -> _Counts:
    """The counts of at most BATCH_MAX_TEXTS texts: one by one for few characters, else all at once."""
    read = _read_each if sum(map(len, texts)) < BATCH_MIN_CHARS else _read_batch
    return read(texts, n_features, word_ngrams, char_ngrams, sentences, lexicon, seeds)


def _split(read: _Counts) -> Reading:
    """The :class:`Reading` of one matrix's row blocks (views of its data: weighting the matrix first
    weights them)."""
    counts, a, b = read.counts, read.n_texts, read.n_texts + read.n_sentences
    return Reading(_row_block(counts, 0, a), _row_block(counts, a, b) if b > a else None, read.sentence_owner,
                   _row_block(counts, b, counts.shape[0]) if counts.shape[0] > b else None, read.word_pairs,
                   read.word_names)


def _row_block(counts: sp.csr_matrix, a: int, b: int) -> sp.csr_matrix:
    """Rows [a, b) of a CSR matrix, sharing its data and column arrays."""
    p, q = counts.indptr[a], counts.indptr[b]
    return sp.csr_matrix((counts.data[p:q], counts.indices[p:q], counts.indptr[a:b + 1] - p),
                         shape=(b - a, counts.shape[1]), copy=False)


def lexicon_form(token: str, lexicon: frozenset) -> str | None:
    """The ``lexicon`` word a token is, as written or in quotes or with a possessive ("'niggers'", "nigger's"):
    tokens keep their apostrophes, and a scare-quoted slur was not read alone (found by a review)."""
    if token in lexicon:
        return token
    if "'" not in token:
        return None
    bare = token.strip("'")
    if bare.endswith("'s"):
        bare = bare[:-2]
    return bare if bare in lexicon else None


def _read_each(texts: list[str], n_features: int, word_ngrams, char_ngrams, sentences: bool,
               lexicon: frozenset, seeds: dict[str, bytes] | None = None) -> _Counts:
    """``read_counts``' counts, text by text."""
    (wlo, whi), (clo, chi) = tuple(word_ngrams), tuple(char_ngrams)
    n = n_features
    words_per_text = [_TOKEN.findall(t) for t in texts]
    held_by_text = [{f for f in (lexicon_form(w, lexicon) for w in set(words)) if f} if lexicon else set()
                    for words in words_per_text]
    table = _word_columns({w for words in words_per_text for w in words}.union(*held_by_text), n, wlo <= 1 <= whi,
                          clo, chi, seeds)
    chunks: list[bytes] = []
    pieces: list[bytes] = []
    owner: list[int] = []
    orders = range(max(wlo, 2), whi + 1)
    found: dict[str, int] = {}
    pairs: list[tuple[int, int]] = []
    for t, words in enumerate(words_per_text):
        for w in held_by_text[t]:
            pairs.append((t, found.setdefault(w, len(found))))
        longer = {k: _ngram_columns(words, k, n) for k in orders}
        word_cols = [table[w] for w in words]
        gctx = _group_context_columns(words, n)
        chunks.append(b"".join([*word_cols, *(array("i", longer[k]).tobytes() for k in orders),
                                array("i", [c for _, c in gctx]).tobytes()]))
        spans = _sentence_spans(words) if sentences else []
        if len(spans) >= 2:
            for a, b in spans:
                pieces.append(b"".join([*word_cols[a:b], *(array("i", longer[k][a:max(a, b - k + 1)]).tobytes()
                                                           for k in orders),
                                        array("i", [c for j, c in gctx if a <= j < b]).tobytes()]))
                owner.append(t)
    return _Counts(_count_matrix([*chunks, *pieces, *(table[w] for w in found)], n), len(chunks), len(pieces),
                   np.asarray(owner, dtype=np.int64), np.asarray(pairs, dtype=np.int64).reshape(-1, 2), tuple(found))


def _read_batch(texts: list[str], n_features: int, word_ngrams, char_ngrams, sentences: bool,
                lexicon: frozenset, seeds: dict[str, bytes] | None = None) -> _Counts:
    """``read_counts`` of many texts at once, with array operations over all their tokens.

    Each text is a row of "entries": one per token (its word, whose columns are its unigram and
    character n-grams), one per word k-gram (one column) and one per group-context feature (one
    column). The batch's distinct entries are hashed once each, into a matrix C of their columns;
    the counts are then one sparse product, rows x entries times C, which also sums each row's
    repeated columns. A sentence's row holds the entries of its own tokens (k-grams wholly inside it).
    """
    (wlo, whi), (clo, chi) = tuple(word_ngrams), tuple(char_ngrams)
    n_texts = len(texts)
    words_per_text = [_TOKEN.findall(t) for t in texts]
    flat = list(chain.from_iterable(words_per_text))
    number = {w: i for i, w in enumerate(dict.fromkeys(flat))}
    # Each token's lexicon word, when it is one (``lexicon_form``); a lexicon word written only in quotes or with a
    # possessive joins the vocabulary as an entry of its own, which no token is.
    forms = [lexicon_form(w, lexicon) for w in number] if lexicon else []
    for form in forms:
        if form is not None:
            number.setdefault(form, len(number))
    vocab = list(number)
    n_vocab, n_tokens = len(vocab), len(flat)
    ids = np.fromiter(map(number.__getitem__, flat), dtype=np.int64, count=n_tokens)
    lengths = np.fromiter(map(len, words_per_text), dtype=np.int64, count=n_texts)
    text_of = np.repeat(np.arange(n_texts), lengths)
    first_token = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(lengths, out=first_token[1:])
    left = lengths[text_of] - (np.arange(n_tokens) - first_token[text_of])  # tokens from each to its text's end

    table = _word_columns(set(vocab), n_features, wlo <= 1 <= whi, clo, chi, seeds)
    own = [table[w] for w in vocab]
    sizes = [np.fromiter(map(len, own), dtype=np.int64, count=n_vocab) // 4]
    columns = [np.frombuffer(b"".join(own), dtype=np.int32)]
    # Entry kinds: (entry of each, its row's text, first and last token it spans).
    tokens = np.arange(n_tokens)
    kinds = [(ids, text_of, tokens, tokens)]
    n_entries = n_vocab
    for k in range(max(wlo, 2), whi + 1):
        at = np.flatnonzero(left >= k)
        if not len(at):
            continue
        key = ids[at]
        for j in range(1, k):  # number each distinct k-gram, a word at a time
            _, first, key = np.unique(key * n_vocab + ids[at + j], return_index=True, return_inverse=True)
        words = [list(map(vocab.__getitem__, ids[at[first] + j].tolist())) for j in range(k)]
        # (a format string builds a bigram's feature string in about three quarters of a join's time)
        feats = [f"w{a} {b}" for a, b in zip(*words)] if k == 2 else ["w" + " ".join(gram) for gram in zip(*words)]
        sizes.append(np.ones(len(feats), dtype=np.int64))
        columns.append(_columns(feats, n_features).astype(np.int32))
        kinds.append((n_entries + key.reshape(-1), text_of[at], at, at + k - 1))
        n_entries += len(feats)

    is_word = np.fromiter((w[0].isalnum() or w[0] == "'" for w in vocab), dtype=bool, count=n_vocab)[ids]
    ends = np.fromiter((w in _SENTENCE_END for w in vocab), dtype=bool, count=n_vocab)[ids]
    last = left == 1
    # A sentence ends after a run of end tokens, or with its text.
    closes = last.copy()
    closes[:-1] |= ends[:-1] & ~(ends[1:] & ~last[:-1])
    if n_tokens:
        closes[-1] = True
    sentence = np.cumsum(closes) - closes
    n_sentences = int(sentence[-1]) + 1 if n_tokens else 0
    group = number.get(_GROUP)
    if group is not None:
        is_group = ids == group
        named = np.bincount(sentence, weights=is_group, minlength=n_sentences) > 0
        at = np.flatnonzero(named[sentence] & is_word & ~is_group)
        if len(at):
            distinct, key = np.unique(ids[at], return_inverse=True)
            feats = ["g " + vocab[v] for v in distinct.tolist()]
            sizes.append(np.ones(len(feats), dtype=np.int64))
            columns.append(_columns(feats, n_features).astype(np.int32))
            kinds.append((n_entries + key.reshape(-1), text_of[at], at, at))
            n_entries += len(feats)

    indptr = np.zeros(n_entries + 1, dtype=np.int64)
    np.cumsum(np.concatenate(sizes), out=indptr[1:])
    cols = np.concatenate(columns)
    # C transposed: feature columns x entries (CSR), the product's left factor below.
    columns_by_entry = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), cols, indptr),
                                     shape=(n_entries, n_features)).T.tocsr()

    def counts(rows: list[np.ndarray], entries: list[np.ndarray], n_rows: int) -> sp.csr_matrix:
        rows_all, entries_all = np.concatenate(rows), np.concatenate(entries)
        order = np.argsort(rows_all, kind="stable")  # rows come in runs: sorting them is cheap, entries not
        row_ptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows_all, minlength=n_rows), out=row_ptr[1:])
        entries_by_row = sp.csr_matrix((np.ones(len(order), dtype=np.float32), entries_all[order], row_ptr),
                                       shape=(n_rows, n_entries)).T.tocsr()
        # The counts transposed, C^T (rows x entries)^T, whose rows (feature columns) come out with unsorted
        # texts; as CSC (one transposition, which sorts) its arrays are the counts' CSR arrays with each row's
        # columns sorted (explanations rely on sorted rows). The counts are whole numbers, so the sums are
        # exact whatever their order: the same matrix, bit for bit, as multiplying the other way round and
        # sorting (two transpositions of the larger product, about a quarter slower on news comments).
        by_text = (columns_by_entry @ entries_by_row).tocsc()
        return sp.csr_matrix((by_text.data, by_text.indices, by_text.indptr), shape=(n_rows, n_features), copy=False)

    # Rows: the texts, then their sentences, then the lexicon words held (one product, one sort).
    rows = [kind[1] for kind in kinds]
    entries = [kind[0] for kind in kinds]
    owner = np.zeros(0, dtype=np.int64)
    if sentences and n_tokens:
        word_count = np.bincount(sentence, weights=is_word, minlength=n_sentences)
        text_of_sentence = text_of[np.flatnonzero(np.r_[True, sentence[1:] != sentence[:-1]])]
        enough = word_count >= SENTENCE_MIN_WORDS
        read = enough & (np.bincount(text_of_sentence[enough], minlength=n_texts)[text_of_sentence] >= 2)
        if read.any():
            row_of = np.full(n_sentences, -1, dtype=np.int64)
            row_of[read] = np.arange(int(read.sum()))
            owner = text_of_sentence[read]
            for entry, _, first, last_token in kinds:
                s = sentence[first]
                inside = (row_of[s] >= 0) & (sentence[last_token] == s)
                rows.append(n_texts + row_of[s[inside]])
                entries.append(entry[inside])
    pairs = np.zeros((0, 2), dtype=np.int64)
    n_words, names = 0, ()
    if lexicon:
        form_of = np.full(n_vocab, -1, dtype=np.int64)
        for v, form in enumerate(forms):  # the tokens' own words come first in the vocabulary
            if form is not None:
                form_of[v] = number[form]
        held = np.flatnonzero(form_of[ids] >= 0)
        if len(held):
            pair = np.unique(text_of[held] * n_vocab + form_of[ids[held]])
            distinct, row = np.unique(pair % n_vocab, return_inverse=True)
            pairs = np.stack([pair // n_vocab, row.reshape(-1)], axis=1)
            n_words = len(distinct)
            names = tuple(vocab[v] for v in distinct.tolist())
            rows.append(n_texts + len(owner) + np.arange(n_words))
            entries.append(distinct)
    return _Counts(counts(rows, entries, n_texts + len(owner) + n_words), n_texts, len(owner), owner, pairs, names)


def _count_matrix(chunks: list[bytes], n: int) -> sp.csr_matrix:
    """A CSR matrix of column counts, one row per chunk of int32 column indices."""
    sizes = np.fromiter((len(c) // 4 for c in chunks), dtype=np.int64, count=len(chunks))
    columns = np.frombuffer(b"".join(chunks), dtype=np.int32)
    # Few characters come here (more go to _read_batch): one sort of the (row, column) keys counts them,
    # faster at this size than scipy's summing of duplicates (a third of a one-comment reading's time). Keys
    # that fit are sorted as int32 (two thirds of int64's time on a news comment's 3,500 keys).
    key_type = np.int32 if len(chunks) * n <= 2**31 - 1 else np.int64
    keys, counts = np.unique(np.repeat(np.arange(len(chunks), dtype=key_type) * key_type(n), sizes)
                             + columns.astype(key_type, copy=False), return_counts=True)
    indptr = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // n, minlength=len(chunks)), out=indptr[1:])
    return sp.csr_matrix((counts.astype(np.float32), (keys % n).astype(np.int32), indptr), shape=(len(chunks), n))


def feature_columns(feats: list[str], n_features: int) -> np.ndarray:
    """Column index of each feature string."""
    return _columns(feats, n_features)


@lru_cache(maxsize=4)
def _ones(n: int) -> np.ndarray:
    """A read-only vector of ``n`` ones (float64), made once per width."""
    ones = np.ones(n)
    ones.flags.writeable = False
    return ones


class HashedTfidf:
    """TF-IDF over hashed word n-grams and word-bounded character n-grams, with a learnt IDF vector."""

    def __init__(self, n_features: int, word_ngrams, char_ngrams, sublinear_tf: bool, idf: np.ndarray):
        self.n_features = int(n_features)
        self.word_ngrams = tuple(int(n) for n in word_ngrams)
        self.char_ngrams = tuple(int(n) for n in char_ngrams)
        self.sublinear_tf = bool(sublinear_tf)
        self.idf_ = np.asarray(idf, dtype=np.float32)
        # The model's shipped words and their columns ({word: int32 bytes}; ``inference.from_arrays``): looked
        # up before this process's word table, so a new process need not hash them.
        self.seeds: dict[str, bytes] = {}

    def transform(self, X) -> sp.csr_matrix:
        """TF-IDF rows, L2-normalised, for a list of normalised texts."""
        return self.weight(hashed_counts(X, self.n_features, self.word_ngrams, self.char_ngrams, self.seeds))

    def read(self, X, lexicon: frozenset = frozenset()) -> Reading:
        """TF-IDF rows of each text, of the sentences of texts that have two or more, and of each
        ``lexicon`` word the texts hold, read alone (see :func:`read_counts`)."""
        X = X if isinstance(X, list) else list(X)
        if len(X) <= BATCH_MAX_TEXTS:  # one matrix, weighted at once, then split
            read = _counts(X, self.n_features, self.word_ngrams, self.char_ngrams, True, lexicon, self.seeds)
            self.weight(read.counts)
            return _split(read)
        counts = read_counts(X, self.n_features, self.word_ngrams, self.char_ngrams, lexicon=lexicon, seeds=self.seeds)
        return counts._replace(whole=self.weight(counts.whole),
                               sentences=None if counts.sentences is None else self.weight(counts.sentences),
                               words=None if counts.words is None else self.weight(counts.words))

    def weight(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Apply sub-linear TF, IDF and L2 normalisation to hashed counts (in place)."""
        data = counts.data
        if self.sublinear_tf:
            np.log(data, out=data)
            data += 1
        data *= self.idf_[counts.indices]
        # Each row's sum of squares in float64, added in the row's order (a matrix-vector product with ones adds
        # them one by one as np.bincount did, so the same norms bit for bit, in about three quarters of the time
        # with the division below on news comments).
        squares = data.astype(np.float64)
        squares *= squares
        sums = sp.csr_matrix((squares, counts.indices, counts.indptr), shape=counts.shape, copy=False) @ _ones(
            counts.shape[1])
        norms = np.sqrt(sums)
        norms[norms == 0] = 1.0
        data /= np.repeat(norms.astype(np.float32), np.diff(counts.indptr))
        return counts

    def feature_index(self, feats: list[str]) -> np.ndarray:
        """Column index of each feature string (for explanations)."""
        return feature_columns(feats, self.n_features)
