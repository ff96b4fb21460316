"""The fast featurizer gives exactly the counts of hashing ``analyze``'s feature strings with
scikit-learn's ``FeatureHasher``, and the TF-IDF weights of scikit-learn's own normalisation."""

from __future__ import annotations

import functools
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction import FeatureHasher
from sklearn.preprocessing import normalize

from moderation import features, hashing
from moderation.features import CommentFeaturizer, analyze
from moderation.inference import SENTENCE_HEADS
from moderation.normalise import normalise_text

TEXTS = [
    "", "!!!", "ok", "you are an idiot", "aaaaaaa aaaaaaa aaaaaaa", "don't you dare, mr. o'brien",
    "héllo wörld straße", "the the the the", "a b c d e f g", "f*ck this sh1t", "<b>bold</b> &amp; more",
    "Someone should shoot that judge. The judge gave him a suspended sentence.", "x" * 300,
    "¿qué pasa? 你好 мир", "12 345 6789", "the council voted 7-2 to close the library on sundays",
    "Muslims are vermin. Refugees too, and Jews and Muslims!", "I love gay people and women",
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
    hashing._WORD_TABLES.clear()
    for _ in range(2):  # a cold table, then a warm one
        got = featurizer._counts(texts)
        want = _reference(featurizer, texts)
        assert got.shape == want.shape
        assert abs(got - want).max() == 0 if want.nnz else got.nnz == 0


def test_the_word_table_is_bounded(monkeypatch):
    monkeypatch.setattr(hashing, "_WORD_TABLE_MAX_WORDS", 5)
    hashing._WORD_TABLES.clear()
    featurizer = CommentFeaturizer()
    texts = [f"word{i} other{i} third{i}" for i in range(10)]
    got = featurizer._counts(texts)
    assert abs(got - _reference(featurizer, texts)).max() == 0
    assert all(len(table) <= 5 for table in hashing._WORD_TABLES.values())


def test_no_texts_give_an_empty_matrix():
    assert CommentFeaturizer()._counts([]).shape == (0, 2**18)


def test_threads_sharing_the_table_get_the_same_counts(monkeypatch):
    monkeypatch.setattr(hashing, "_WORD_TABLE_MAX_WORDS", 50)  # full early: later words are hashed each time
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


def test_weights_are_sublinear_tf_idf_with_l2_rows():
    texts = [normalise_text(t) for t in TEXTS]
    featurizer = CommentFeaturizer().fit(texts)
    counts = _reference(featurizer, texts)
    counts.data = (np.log(counts.data) + 1) * featurizer.idf_[counts.indices]
    want = normalize(counts)
    got = featurizer.transform(texts)
    assert abs(got - want).max() < 1e-6
    assert np.allclose(np.sqrt(np.asarray(got.multiply(got).sum(axis=1)).ravel())[1:], 1.0, atol=1e-5)


def test_weights_are_the_same_bit_for_bit_as_summing_each_rows_squares_in_order():
    """The norms come from a matrix-vector product; the model was trained with norms from np.bincount, which adds
    each row's squares one by one in float64: the same floats, so the same scores (an empty row stays empty)."""
    texts = [normalise_text(t) for t in TEXTS] + ["", "! ?"]
    featurizer = CommentFeaturizer().fit(texts)
    counts = _reference(featurizer, texts).astype(np.float32)
    data = np.log(counts.data) + np.float32(1)
    data *= featurizer.idf_.astype(np.float32)[counts.indices]
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    norms = np.sqrt(np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=counts.shape[0]))
    norms[norms == 0] = 1.0
    want = data / norms[rows].astype(np.float32)
    tfidf = hashing.HashedTfidf(featurizer.n_features, featurizer.word_ngrams, featurizer.char_ngrams, True, featurizer.idf_)
    got = tfidf.weight(counts.copy())
    assert got.data.dtype == want.dtype and np.array_equal(got.data, want)


def test_feature_index_matches_the_hasher():
    featurizer = CommentFeaturizer()
    feats = analyze(normalise_text(TEXTS[11]))
    hasher = FeatureHasher(n_features=featurizer.n_features, input_type="string", alternate_sign=False)
    assert featurizer.feature_index(feats).tolist() == hasher.transform([[f] for f in feats]).indices.tolist()


def test_stance_from_stored_articles_equals_the_design_matrix():
    """The scorer's fast stance path (stored article vectors, no design matrix) gives the model's answer."""
    from moderation import load_scorer
    from moderation.labels import STANCES
    from moderation.scorer import Article
    from moderation.stance import content_words

    scorer = load_scorer()
    articles = {"a": Article("a", "Council approves cycle lanes", "The council voted to build cycle lanes on the "
                             "high street, removing forty parking spaces."),
                "b": Article("b", "Hospital waiting lists grow", "Waiting lists at the general hospital grew again."),
                "empty": Article("empty", "", "")}
    for article in articles.values():
        scorer.add_article(article)
    texts = ["Great news, the lanes are long overdue.", "Forty parking spaces gone, idiots.", "lol",
             "Waiting lists are a scandal.", "", "Nothing to do with cycling at all.", "Cycle lanes? No thanks."]
    ids = ["a", "a", "b", "b", "a", "empty", None]
    scored = scorer.score_batch(texts, ids)
    featurizer = scorer.violation.featurizer_
    fitted = _fitted()["stance"]  # scikit-learn's classifiers, as trained
    for text, article_id, got in zip(texts, ids, scored):
        if article_id is None:
            assert got.stance is None
            continue
        comment = normalise_text(text)
        article = normalise_text(articles[article_id].text)
        Z = fitted._design(featurizer.transform([comment]), featurizer.transform([article]),
                           [content_words(comment)], [content_words(article)])
        P = 1 / (1 + np.exp(-np.array([clf.decision_function(Z)[0] for clf in fitted.classifiers_])))
        want = P / P.sum()
        assert np.allclose([got.stance_scores[s] for s in STANCES], want,
                           atol=1e-4)
        assert scorer.score(text, article_id).stance_scores == got.stance_scores


@functools.lru_cache(maxsize=1)
def _fitted() -> dict:
    """The shipped model's scikit-learn estimators, read from its skops files."""
    from moderation.persistence import load_components
    from moderation.scorer import default_model_dir

    return load_components(default_model_dir())[0]


def test_compiled_heads_equal_scikit_learns_estimators():
    """Scoring's arrays (no scikit-learn) give the probabilities of the fitted estimators."""
    from moderation import load_scorer

    texts = [normalise_text(t) for t in ["You absolute moron.", "Thanks for the article.", "f*ck this",
                                         "They should all be shot.", "Deport every last one of them.", ""]]
    fitted = _fitted()["violation"]
    X = fitted.featurizer_.transform(texts)
    got = load_scorer().violation.predict_proba(texts)
    for j, head in enumerate(fitted.heads):
        if head == "incitement":
            continue  # the union of threat and identity_attack, checked below
        iso = fitted.calibrators_[head]
        decision = fitted.estimators_[head].decision_function(X)
        want = iso.predict(decision)
        adjust = fitted.domain_adjustments_.get(head)  # re-calibrated for news comments (test_calibration)
        if adjust:  # the adjustment maps the isotonic curve's knots; scores interpolate between them
            clipped = np.clip(iso.y_thresholds_, 1e-4, 1 - 1e-4)
            knots = 1 / (1 + np.exp(-(adjust["a"] * np.log(clipped / (1 - clipped)) + adjust["b"])))
            want = np.interp(decision, iso.X_thresholds_, knots)
        assert np.allclose(got[:, j], want, atol=1e-4), head
    heads = list(fitted.heads)
    union = np.maximum(got[:, heads.index("threat")], got[:, heads.index("identity_attack")])
    assert np.array_equal(got[:, heads.index("incitement")], union)


def _contributions_one_by_one(model, text: str, head: str) -> np.ndarray:
    """The plain loop the vectorised token_contributions replaces: feature by feature, token by token."""
    feats, owners = analyze(text, word_ngrams=model.featurizer_.word_ngrams,
                            char_ngrams=model.featurizer_.char_ngrams, with_tokens=True)
    contrib = np.zeros(len(features.tokenize(text)))
    row = model.featurizer_.transform([text])
    value = dict(zip(row.indices.tolist(), row.data.tolist()))
    cols = model.featurizer_.feature_index(feats).tolist()
    coef = _fitted()["violation"].estimators_[head].coef_.ravel()
    for col, owner in zip(cols, owners):
        share = value[col] * coef[col] / cols.count(col) / len(owner)
        for t in owner:
            contrib[t] += share
    return contrib


@pytest.mark.parametrize("text", ["you absolute moron, f*cking idiot idiot idiot", "", "!!!", "ok",
                                  "someone should shoot that judge. the judge gave him a sentence."])
def test_token_contributions_equal_the_plain_loop(text):
    from moderation import load_scorer

    model = load_scorer().violation
    text = normalise_text(text)
    heads = ["profanity", "personal_attack", "threat"]
    tokens, contrib = model.token_contributions(text, heads)
    assert contrib.shape == (len(tokens), len(heads))
    for j, head in enumerate(heads):
        assert np.allclose(contrib[:, j], _contributions_one_by_one(model, text, head), atol=1e-5)


@pytest.mark.parametrize("batch_min_chars", [0, 10**9], ids=["batch", "each"])
def test_sentence_rows_are_the_rows_of_each_sentence_read_alone(batch_min_chars, monkeypatch):
    """Sentence rows reuse the text's hashed words and n-grams; each equals hashing the sentence on its own."""
    texts = [normalise_text(t) for t in [
        "The council met on Tuesday. You are a complete idiot!! Why bother?",
        "one sentence only, however long it goes on and on",
        "Short. Too short. But this one has words enough... and this one too?! yes it does",
        "", "no end punctuation here at all but several words", "Hi. Ok.",
        "The council met refugees. Muslims are vermin, vermin! Deport all immigrants and Jews",
    ]]
    n, words, chars = 2**18, (1, 2), (2, 5)
    monkeypatch.setattr(hashing, "BATCH_MIN_CHARS", batch_min_chars)
    whole, sentences, owner = hashing.read_counts(texts, n, words, chars)[:3]
    assert (whole != hashing.hashed_counts(texts, n, words, chars)).nnz == 0
    expected, owners = [], []
    for t, text in enumerate(texts):
        tokens = hashing._TOKEN.findall(text)
        spans = hashing._sentence_spans(tokens)
        if len(spans) >= 2:
            expected += [" ".join(tokens[a:b]) for a, b in spans]
            owners += [t] * len(spans)
    assert owner.tolist() == owners == [0, 0, 2, 2, 2, 6, 6, 6]
    assert (sentences != hashing.hashed_counts(expected, n, words, chars)).nnz == 0


@pytest.mark.parametrize("n", [2**18, 2**30], ids=["int32 keys", "int64 keys"])
def test_count_matrix_counts_each_rows_columns(n):
    rng = np.random.default_rng(3)
    rows = [rng.integers(0, min(n, 50), size=int(rng.integers(0, 40))).astype(np.int32) for _ in range(5)]
    rows[2] = np.array([n - 1, 0, n - 1], dtype=np.int32)  # the largest column of the last key
    got = hashing._count_matrix([r.tobytes() for r in rows], n)
    want = sp.csr_matrix((np.ones(sum(map(len, rows)), dtype=np.float32),
                          (np.repeat(np.arange(len(rows)), [len(r) for r in rows]), np.concatenate(rows))),
                         shape=(len(rows), n))
    want.sum_duplicates()
    assert got.has_sorted_indices and (got != want).nnz == 0 and got[2, n - 1] == 2


def _sentences_token_by_token(words):
    """The sentences rule walked a token at a time: a sentence ends at a run of end tokens, or at the text's end;
    one with fewer than SENTENCE_MIN_WORDS word tokens is not read alone."""
    spans, start, i = [], 0, 0
    while i < len(words):
        if words[i] in hashing._SENTENCE_END:
            while i + 1 < len(words) and words[i + 1] in hashing._SENTENCE_END:
                i += 1
            spans.append((start, i + 1))
            start = i + 1
        i += 1
    if start < len(words):
        spans.append((start, len(words)))
    kept = [(a, b) for a, b in spans if sum(1 for w in words[a:b] if w not in hashing._SENTENCE_END
                                            and (w[0].isalnum() or w[0] == "'")) >= hashing.SENTENCE_MIN_WORDS]
    return spans, kept


def test_sentence_bounds_follow_the_rule_token_by_token():
    import random

    rng = random.Random(11)
    tokens = [".", "!", "?", "a", "bb", "'s", ",", "-", "9", "xxgroup", "\u00e9", "\u2026"]
    for _ in range(20_000):
        words = [rng.choice(tokens) for _ in range(rng.randint(0, 14))]
        assert (hashing._sentence_bounds(words), hashing._sentence_spans(words)) == _sentences_token_by_token(words)


def test_sentence_scores_are_the_sentence_heads_columns_of_all_heads_scores(scorer):
    """The sentences' own product (their heads' columns alone) gives each of those heads the scores that all the
    heads' product gives it, bit for bit."""
    model = scorer.violation
    assert model.sentence_heads == tuple(h for h in SENTENCE_HEADS if h in model.heads) and model.sentence_heads
    texts = [normalise_text(t) for t in ["The council met. You are a complete idiot!! Why bother, you morons?",
                                         "Fine words. Shit plans. Deport them all. Nice weather though."] * 40]
    sentences = model.featurizer_.read(texts).sentences
    cols = [model.heads.index(h) for h in model.sentence_heads]
    assert sentences.shape[0] >= 160
    assert np.array_equal(model.sentence_decision_function(sentences), model.decision_function(sentences)[:, cols])


def test_a_copy_given_its_heads_in_another_order_scores_each_head_as_before(scorer):
    """The sentence heads' own weights follow the model's heads and weights when a copy is given others (a review
    found them kept from the first)."""
    import copy

    model = scorer.violation
    texts = [normalise_text(t) for t in ["The council met. You are a complete idiot!! Why bother, you morons?",
                                         "Fine words. Shit plans. Deport them all. Nice weather though."]]
    reading = model.featurizer_.read(texts)
    before = model.predict_proba_comments(reading)
    order = list(range(len(model.heads)))[::-1]
    other = copy.copy(model)
    other.heads = tuple(model.heads[j] for j in order)
    # Weights and curves doubled (exactly, in floating point) and in another order: the same probabilities.
    other.W, other.b = model.W[:, order] * 2, model.b[order] * 2
    other.curves = [(model.curves[j][0] * 2, model.curves[j][1]) for j in order]
    assert other.sentence_heads == model.sentence_heads
    assert np.array_equal(other.predict_proba_comments(reading), before[:, order])


@pytest.mark.parametrize("batch_min_chars", [0, 10**9], ids=["batch", "each"])
def test_lexicon_word_rows_are_each_word_read_alone(batch_min_chars, monkeypatch):
    """A text's lexicon words get one row each (once, however often the word occurs), equal to hashing
    the word as a text of its own; words no text holds get none."""
    texts = [normalise_text(t) for t in ["what a shit show, shit!", "nothing rude here", "damn it, you ass", ""]]
    n, words, chars = 2**18, (1, 2), (2, 5)
    lexicon = frozenset({"shit", "damn", "ass", "bollocks"})
    monkeypatch.setattr(hashing, "BATCH_MIN_CHARS", batch_min_chars)
    reading = hashing.read_counts(texts, n, words, chars, lexicon=lexicon)
    assert (reading.whole != hashing.hashed_counts(texts, n, words, chars)).nnz == 0
    alone = {w: hashing.hashed_counts([w], n, words, chars) for w in lexicon}
    row_word = {}
    for row in range(reading.words.shape[0]):
        [row_word[row]] = [w for w, m in alone.items() if (reading.words[row] != m).nnz == 0]
    assert sorted((t, row_word[row]) for t, row in reading.word_pairs.tolist()) == [(0, "shit"), (2, "ass"),
                                                                                   (2, "damn")]
    assert list(reading.word_names) == [row_word[row] for row in range(reading.words.shape[0])]  # each row's word
    plain = hashing.read_counts(texts, n, words, chars)
    assert plain.words is None and plain.word_pairs.shape == (0, 2)
    # a lexicon word in quotes or with a possessive is read as the word itself, even where no text holds it bare
    quoted = hashing.read_counts(["the 'shit' and damn's", "ok"], n, words, chars, lexicon=lexicon)
    assert sorted(quoted.word_names) == ["damn", "shit"] and sorted(quoted.word_pairs[:, 0].tolist()) == [0, 0]
    for row, word in enumerate(quoted.word_names):
        assert (quoted.words[row] != alone[word]).nnz == 0


def _contributions_from_feature_strings(model, text: str, heads: list[str], row=None) -> np.ndarray:
    """token_contributions as it was first written: every feature string built by ``analyze`` and hashed."""
    feats, owners = analyze(text, word_ngrams=model.featurizer_.word_ngrams,
                            char_ngrams=model.featurizer_.char_ngrams, with_tokens=True)
    contrib = np.zeros((len(features.tokenize(text)), len(heads)))
    if not feats:
        return contrib
    if row is None:
        row = model.featurizer_.transform([text])
    cols = model.featurizer_.feature_index(feats)
    value = row.data[np.searchsorted(row.indices, cols)].astype(np.float64)
    _, inverse, seen = np.unique(cols, return_inverse=True, return_counts=True)
    width = np.array([len(owner) for owner in owners])
    coef = model.W[cols][:, [model.heads.index(h) for h in heads]].astype(np.float64)
    share = (value / seen[inverse] / width)[:, None] * coef
    for k, owner in enumerate(owners):
        for t in owner:
            contrib[t] += share[k]
    return contrib


def _long_text(n_chars: int = 20_000, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    vocab = ["the", "council", "idiot", "don't", "o'brien", "1234", "a", "moron", "f*ck", "it's", "x" * 40,
             "lanes", "héllo", "7-2", "!!", "...", "you", "should", "shoot", "sh1t"]
    vocab += ["".join(rng.choice(list("abcdefghij'0"), size=int(rng.integers(1, 12)))) for _ in range(400)]
    words = rng.choice(vocab, size=n_chars // 3)
    return normalise_text(" ".join(words)[:n_chars])


_CONTRIBUTION_TEXTS = [
    "", "!!!", ". , ; ?!", "ok", "a", "the the the the", "idiot idiot, idiot! idiot", "don't you dare, mr. o'brien",
    "'' ' 'tis rock 'n' roll", "12 345 6789 abc123 7-2", "héllo wörld straße ¿qué pasa? 你好", "x" * 300,
    "you absolute moron, f*cking idiot idiot idiot",
    "Someone should shoot that judge. The judge gave him a suspended sentence.",
    "xxgroup are vermin. i like xxgroup xxgroup and tea, tea! xxgroup", "xxgroup", "xxgroup xxgroup. ok ok ok",
]


def _synthetic_violation(n_features: int, word_ngrams, char_ngrams):
    """A CompiledViolation with random weights over a featurizer of the given shape."""
    from moderation.hashing import HashedTfidf
    from moderation.inference import CompiledViolation

    rng = np.random.default_rng(n_features)
    featurizer = HashedTfidf(n_features, word_ngrams, char_ngrams, True, rng.uniform(0.5, 5.0, n_features))
    curve = (np.array([-1.0, 1.0]), np.array([0.0, 1.0]))
    return CompiledViolation(["a", "b"], featurizer, rng.normal(size=(n_features, 2)), np.zeros(2), [curve] * 2)


def _assert_contributions_as_from_feature_strings(model, text: str, heads: list[str]) -> None:
    for row in (None, model.featurizer_.transform([text])):
        tokens, contrib = model.token_contributions(text, heads, row=row)
        assert [(m.group(0), m.span()) for m in tokens] == [(m.group(0), m.span()) for m in features.tokenize(text)]
        assert contrib.shape == (len(tokens), len(heads))
        assert np.allclose(contrib, _contributions_from_feature_strings(model, text, heads, row), rtol=0, atol=1e-9)


@pytest.mark.parametrize("text", [*_CONTRIBUTION_TEXTS, "long"])
def test_token_contributions_equal_hashing_every_feature_string(text):
    """The shipped model's contributions, from the per-word column table, are those of hashing every feature."""
    from moderation import load_scorer

    text = _long_text() if text == "long" else normalise_text(text)
    model = load_scorer().violation
    _assert_contributions_as_from_feature_strings(model, text, ["profanity", "personal_attack", "threat"])
    _assert_contributions_as_from_feature_strings(model, text, ["toxicity"])


@pytest.mark.parametrize(("n_features", "word_ngrams", "char_ngrams"), [
    (2**10, (1, 3), (3, 4)),  # small: many hash collisions within a text
    (2**18, (2, 3), (2, 5)),  # no word unigrams
    (2**12, (1, 1), (2, 2)),  # no longer word n-grams
])
def test_token_contributions_follow_the_featurizers_shape(n_features, word_ngrams, char_ngrams):
    model = _synthetic_violation(n_features, word_ngrams, char_ngrams)
    hashing._WORD_TABLES.clear()
    for _ in range(2):  # a cold word table, then a warm one
        for text in [*_CONTRIBUTION_TEXTS, _long_text(3_000, seed=1)]:
            _assert_contributions_as_from_feature_strings(model, normalise_text(text), ["b", "a"])


def test_token_contributions_with_a_full_word_table(monkeypatch):
    monkeypatch.setattr(hashing, "_WORD_TABLE_MAX_WORDS", 5)  # later words are hashed each time, not kept
    hashing._WORD_TABLES.clear()
    model = _synthetic_violation(2**10, (1, 2), (2, 5))
    for text in [_long_text(2_000, seed=2), "the the idiot, o'brien"]:
        _assert_contributions_as_from_feature_strings(model, text, ["a"])


def test_group_context_features_pair_each_word_of_a_sentence_naming_a_group():
    from moderation.normalise import GROUP_PLACEHOLDER

    assert hashing._GROUP == GROUP_PLACEHOLDER  # spelt out in hashing so that scoring imports nothing else
    feats = analyze(normalise_text("Refugees are vermin. I hate Mondays!"))
    assert [f for f in feats if f.startswith("g ")] == ["g are", "g vermin"]
    assert not [f for f in analyze(normalise_text("I hate Mondays. They are vermin.")) if f.startswith("g ")]


# The batch reading (array work over all tokens at once) gives exactly the one-by-one reading's matrices --

def _lexicon_rows(reading) -> list:
    """Each (text, its lexicon word's row) pair, the row as (column, count) pairs: row order aside."""
    return sorted((t, reading.word_names[w], tuple(zip(reading.words[w].indices.tolist(), reading.words[w].data.tolist())))
                  for t, w in reading.word_pairs.tolist())


BATCH_TEXTS = [normalise_text(t) for t in [
    *TEXTS,
    "The council met on Tuesday. You are a complete idiot!! Why bother?",
    "Short. Too short. But this one has words enough... and this one too?! yes it does",
    ". Starts with a full stop and then goes on for a while. And a second sentence here!",
    "Muslims are vermin. The council met refugees and Jews, muslims and gays! Deport all immigrants now",
    "shit shit shit. damn this damn thing, you ass. what an ass!!! ok then, fine by me.",
    "?!?! ... !!! .", "one", "two words", "", "the the. the the. the the the.",
]]


@pytest.mark.parametrize("params", [{"word_ngrams": (1, 2), "char_ngrams": (2, 5)},
                                    {"word_ngrams": (1, 3), "char_ngrams": (3, 4)},
                                    {"word_ngrams": (2, 3), "char_ngrams": (2, 3)},
                                    {"word_ngrams": (1, 1), "char_ngrams": (2, 5)}])
def test_batch_reading_equals_reading_each_text(params):
    n, words, chars = 2**18, params["word_ngrams"], params["char_ngrams"]
    lexicon = frozenset({"shit", "damn", "ass", "idiot", "bollocks"})
    texts = BATCH_TEXTS * 3 + [t.upper().lower()[::-1] for t in BATCH_TEXTS]
    each = hashing._split(hashing._read_each(texts, n, words, chars, True, lexicon))
    batch = hashing._split(hashing._read_batch(texts, n, words, chars, True, lexicon))
    for a, b in [(each.whole, batch.whole), (each.sentences, batch.sentences)]:
        assert a.shape == b.shape and b.has_sorted_indices
        assert a.indptr.tolist() == b.indptr.tolist() and a.indices.tolist() == b.indices.tolist()
        assert a.data.tolist() == b.data.tolist()
    assert batch.sentence_owner.tolist() == each.sentence_owner.tolist()
    assert _lexicon_rows(batch) == _lexicon_rows(each) != []
    assert (batch.whole != _reference(CommentFeaturizer(n_features=n, word_ngrams=words, char_ngrams=chars),
                                      texts)).nnz == 0


def test_batch_reading_of_texts_without_tokens():
    batch = hashing._split(hashing._read_batch(["", " ", ""], 2**10, (1, 2), (2, 5), True, frozenset({"ass"})))
    assert batch.whole.shape == (3, 2**10) and batch.whole.nnz == 0
    assert batch.sentences is None and batch.words is None and batch.word_pairs.shape == (0, 2) and batch.word_names == ()


def test_read_counts_reads_large_batches_in_parts(monkeypatch):
    """Over BATCH_MAX_TEXTS texts, the parts' rows are stacked, their sentence owners and word pairs
    numbered across the whole batch."""
    texts = BATCH_TEXTS * 4
    n, words, chars, lexicon = 2**18, (1, 2), (2, 5), frozenset({"shit", "damn", "ass", "idiot"})
    monkeypatch.setattr(hashing, "BATCH_MIN_CHARS", 0)
    whole = hashing.read_counts(texts, n, words, chars, lexicon=lexicon)
    monkeypatch.setattr(hashing, "BATCH_MAX_TEXTS", 7)
    parts = hashing.read_counts(texts, n, words, chars, lexicon=lexicon)
    assert (parts.whole != whole.whole).nnz == 0 and (parts.sentences != whole.sentences).nnz == 0
    assert parts.sentence_owner.tolist() == whole.sentence_owner.tolist()
    assert _lexicon_rows(parts) == _lexicon_rows(whole)


def test_read_counts_reads_few_characters_one_by_one(monkeypatch):
    calls = []
    for name in ("_read_batch", "_read_each"):
        real = getattr(hashing, name)
        monkeypatch.setattr(hashing, name, lambda *a, real=real, name=name: calls.append(name) or real(*a))
    hashing.read_counts(["short"] * 10, 2**10, (1, 2), (2, 5))
    hashing.read_counts(["x" * 1_000] * 10, 2**10, (1, 2), (2, 5))
    assert calls == ["_read_each", "_read_batch"]


@pytest.mark.parametrize("batch_min_chars", [0, 10**9], ids=["batch", "each"])
def test_weighting_the_one_matrix_equals_weighting_each_block(batch_min_chars, monkeypatch):
    """HashedTfidf.read weights the texts', sentences' and words' rows in one pass over one matrix, then
    splits it: the same as weighting each block read apart."""
    monkeypatch.setattr(hashing, "BATCH_MIN_CHARS", batch_min_chars)
    texts = BATCH_TEXTS * 2
    lexicon = frozenset({"shit", "damn", "ass", "idiot"})
    tfidf = CommentFeaturizer().fit(texts).scoring()
    got = tfidf.read(texts, lexicon=lexicon)
    apart = hashing.read_counts(texts, tfidf.n_features, tfidf.word_ngrams, tfidf.char_ngrams, lexicon=lexicon)
    for mine, block in [(got.whole, apart.whole), (got.sentences, apart.sentences), (got.words, apart.words)]:
        want = tfidf.weight(block.copy())
        assert mine.shape == want.shape and mine.indices.tolist() == want.indices.tolist()
        assert mine.data.tolist() == want.data.tolist()
    assert got.word_pairs.tolist() == apart.word_pairs.tolist()


def test_cosines_with_stored_articles_equal_the_dense_products(monkeypatch):
    """Rows under many articles, some rows empty, an article with no columns, an article no row is under."""
    from moderation import scorer
    from moderation.scorer import _cosines

    rng = np.random.default_rng(3)
    n = 2**12
    X = sp.random(300, n, density=0.02, format="lil", random_state=4, dtype=np.float32)
    X[5] = 0  # a row with no entries
    X = X.tocsr()
    assert X[5].nnz == 0
    articles, dense = [], []
    for k in range(12):
        cols = np.sort(rng.choice(n, size=0 if k == 3 else 200, replace=False))
        vals = rng.random(len(cols))
        articles.append((cols, vals))
        row = np.zeros(n)
        row[cols] = vals
        dense.append(row)
    slots = rng.integers(0, 11, size=300)  # article 11 has no row
    want = np.array([X[i].toarray().ravel() @ dense[slots[i]] for i in range(300)])
    assert np.allclose(_cosines(X, articles, slots), want, rtol=1e-12, atol=0)
    assert _cosines(X[:0], articles, slots[:0]).shape == (0,)
    searched = scorer._cosines_by_search(X, articles, slots)
    monkeypatch.setattr(scorer, "_COSINE_SEARCH_MAX", 0)  # the dense buffer's way, however few the entries
    assert np.array_equal(_cosines(X, articles, slots), searched)  # the two ways agree bit for bit


def test_shipped_word_columns_are_what_hashing_gives_and_stay_the_model_s_own(monkeypatch):
    """A model ships its training data's common words with their columns (``inference.to_arrays``): a featurizer
    that holds them (``seeds``) reads texts exactly as from a cold table, hashes only the other words, and its
    shipped words never enter the process's shared table (another model's scores cannot depend on them)."""
    words = ["the", "council", "idiot", "o'brien", ".", "\u00ef", "xxgroup"]
    featurizer = hashing.HashedTfidf(2**18, (1, 2), (2, 5), True, np.ones(2**18, dtype=np.float32))
    packed, lengths = hashing.word_columns_packed(words, 2**18, (1, 2), (2, 5))
    assert lengths.sum() == len(packed) and (lengths >= 1).all()
    featurizer.seeds = hashing.unpack_word_columns(words, packed, lengths)
    monkeypatch.setattr(hashing, "_WORD_TABLES", {})  # a new process
    texts = ["the council idiot o'brien .", "na\u00efve council, the idiot", "words never seen before"]
    reference = CommentFeaturizer()
    assert abs(hashing.hashed_counts(texts, 2**18, (1, 2), (2, 5), featurizer.seeds)
               - _reference(reference, texts)).max() == 0
    (table,) = hashing._WORD_TABLES.values()
    assert not set(words) & set(table), "shipped words are the model's own, not the process's"
    assert {"words", "never", "seen", "before", "na", "ve"} <= set(table)
