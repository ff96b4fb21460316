"""The public API the service builds on: load, score one, score a batch, explain."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import moderation
from moderation import Article, Scorer, load_policy
from moderation import scorer as scorer_module
from moderation.errors import InputError
from moderation.labels import POLICY_LABELS, STANCES
from moderation.scorer import MAX_TEXT_CHARS, split_long, worst_of

from .conftest import ROOT


def test_public_names_resolve_and_unknown_names_fail():
    assert moderation.Scorer is Scorer
    try:
        moderation.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("unknown attribute did not raise")


def test_score_one_batch_and_explain(scorer):
    scorer.add_article(Article("api-1", "Council approves cycle lanes on Main Street",
                               "The council voted 7-2 to build protected cycle lanes on Main Street. "
                               "Supporters say it will make the road safer."))
    one = scorer.score("Great decision, the lanes will make Main Street safer.", article_id="api-1")
    assert set(POLICY_LABELS) <= set(one.scores) and one.stance in STANCES and one.language == "en"
    batch = scorer.score_batch(["Great decision, the lanes will make Main Street safer.", "Nice."], ["api-1", None])
    assert batch[0].scores == one.scores and batch[1].stance is None
    html = "Read it again, <i>you</i> absolute m0ron."
    score = scorer.score(html)
    evidence = scorer.explain(html, score=score, min_score=0.3)
    assert evidence and all(html[e.begin:e.end] == e.text for e in evidence)
    assert any("m0ron" in e.text for e in evidence if e.label == "personal_attack")
    verdict = load_policy(ROOT / "data" / "policy.toml").decide(score, evidence)
    assert verdict.action in ("hold", "reject")


def test_one_abusive_sentence_is_not_diluted_by_neutral_ones(scorer):
    """Profanity, personal attack and toxicity move halfway from the whole comment's score towards
    its worst sentence's; other heads and one-sentence comments are scored whole."""
    from moderation.inference import SENTENCE_HEADS, SENTENCE_WEIGHT
    from moderation.normalise import normalise_text

    neutral = ("The council met on Tuesday to discuss the budget for the new library. "
               "The vote on the swimming pool was postponed until the spring.")
    attack = "You are a complete idiot and a liar."
    heads = list(scorer.violation.heads)
    whole = scorer.violation.predict_proba([normalise_text(f"{neutral} {attack}")])[0]
    sentences = scorer.violation.predict_proba([normalise_text(t) for t in (
        "The council met on Tuesday to discuss the budget for the new library.",
        "The vote on the swimming pool was postponed until the spring.", attack)])
    got = scorer.score(f"{neutral} {attack}").scores
    for head in heads:
        j = heads.index(head)
        want = whole[j]
        if head in SENTENCE_HEADS:
            want = max(whole[j], whole[j] + SENTENCE_WEIGHT * (sentences[:, j].max() - whole[j]))
        elif head == "incitement":
            continue  # the union of its parts
        assert got[head] == round(float(want), 4), head
    assert got["personal_attack"] > whole[heads.index("personal_attack")] + 0.05
    alone = scorer.violation.predict_proba([normalise_text(attack)])[0]
    assert scorer.score(attack).scores["personal_attack"] == round(float(alone[heads.index("personal_attack")]), 4)


def test_a_swear_word_is_not_diluted_by_a_long_comment(scorer):
    """Profanity moves halfway from the comment's score towards its worst lexicon word's read alone;
    a comment without one keeps its score, and other heads are not moved."""
    from moderation.inference import LEXICON_WEIGHT
    from moderation.normalise import normalise_text

    text = "should deport the f*ckers the day they're convicted, not after three years of free bed and board."
    j = scorer.violation.heads.index("profanity")
    whole = scorer.violation.predict_proba([normalise_text(text)])[0]
    word = scorer.violation.predict_proba(["fuckers"])[0, j]
    got = scorer.score(text).scores
    assert got["profanity"] == round(float(whole[j] + LEXICON_WEIGHT * (word - whole[j])), 4)
    assert got["profanity"] > whole[j] + 0.2
    assert got["personal_attack"] == round(float(whole[scorer.violation.heads.index("personal_attack")]), 4)
    clean = "should deport them the day they're convicted, not after three years of free bed and board."
    j_whole = scorer.violation.predict_proba([normalise_text(clean)])[0, j]
    assert scorer.score(clean).scores["profanity"] == round(float(j_whole), 4)


def test_a_slur_is_read_alone_for_identity_attack(scorer):
    """Identity attack moves halfway towards the worst slur's score read alone (incitement, the larger of
    threat and identity attack, with it); profanity moves only for the profanity lexicon's words, and
    identity attack not for them."""
    from moderation.inference import LEXICON_WEIGHT
    from moderation.normalise import normalise_text

    heads = list(scorer.violation.heads)
    a, i, p = heads.index("identity_attack"), heads.index("incitement"), heads.index("profanity")
    text = "This street used to be nice before the n*ggers moved in."
    whole = scorer.violation.predict_proba([normalise_text(text)])[0]
    word = scorer.violation.predict_proba(["niggers"])[0]
    got = scorer.score(text).scores
    assert got["identity_attack"] == round(float(whole[a] + LEXICON_WEIGHT * (word[a] - whole[a])), 4)
    assert got["identity_attack"] > whole[a] + 0.2 and got["identity_attack"] >= 0.5
    assert got["incitement"] == round(float(max(got["identity_attack"], whole[heads.index("threat")])), 4)
    assert got["profanity"] == round(float(whole[p]), 4)  # a slur is not in the profanity lexicon
    swearing = "should deport the f*ckers the day they're convicted, not after three years of free bed and board."
    assert scorer.score(swearing).scores["identity_attack"] == round(
        float(scorer.violation.predict_proba([normalise_text(swearing)])[0, a]), 4)
    assert whole[i] < 0.5 <= got["incitement"]
    # in scare quotes or with a possessive the token keeps its apostrophes: still the slur read alone (a review's find)
    for written in ("'niggers'", "niggers'"):
        quoted = text.replace("n*ggers", written)
        whole_q = scorer.violation.predict_proba([normalise_text(quoted)])[0, a]
        assert scorer.score(quoted).scores["identity_attack"] == round(float(whole_q + LEXICON_WEIGHT * (word[a] - whole_q)), 4)
    # "retard" is a verb too ("retard the growth"): unmasked as an insult, never read alone for identity attack
    verb = "Cold weather will retard the growth of the wheat."
    assert scorer.score(verb).scores["identity_attack"] == round(float(scorer.violation.predict_proba(
        [normalise_text(verb)])[0, a]), 4)


def test_text_with_lone_surrogates_is_scored_not_crashed(scorer):
    # A lone surrogate (a broken encoder, or bytes Python could not decode) reached the feature
    # hash, which crashed the whole process; it is now one U+FFFD, so offsets still hold.
    text = "Read it again, you \ud800 absolute moron."
    score = scorer.score(text)
    assert score.scores["personal_attack"] >= 0.5
    assert score.normalised.text == "read it again, you \ufffd absolute moron."
    for evidence in scorer.explain(text, score=score, min_score=0.3):
        assert text[evidence.begin:evidence.end] == evidence.text


def test_merge_spans_joins_overlapping_and_touching_spans_only():
    from moderation.scorer import merge_spans

    assert merge_spans([(10, 14), (0, 3), (2, 5), (5, 7), (20, 22)]) == [(0, 7), (10, 14), (20, 22)]
    assert merge_spans([(0, 10), (2, 4)]) == [(0, 10)]
    assert merge_spans([]) == []


@pytest.mark.parametrize("text", ["x" * 45_000, "Short. " * 6000, "<p>" + "a" * 15_000 + "</p> " * 2000, "ok"])
def test_long_texts_are_cut_into_pieces_within_the_limit_that_rejoin_exactly(text):
    pieces = split_long(text)
    assert "".join(piece for _, piece in pieces) == text
    assert all(0 < len(piece) <= MAX_TEXT_CHARS and text[offset:].startswith(piece) for offset, piece in pieces)
    if " " in text:
        assert all(piece[-1] in ". >" for _, piece in pieces[:-1]), "cut after a sentence, a tag or a space"


def test_a_text_over_the_limit_is_scored_whole_in_pieces_and_explained_in_its_own_offsets(scorer):
    filler = "The council published the budget figures on Tuesday. " * 800  # 43,200 characters
    long = filler + "You are a pathetic idiot."
    with pytest.raises(InputError, match="over the limit"):
        scorer.score_batch([long])  # one score_batch call is bounded; score_pieces is how a long text is read
    with pytest.raises(InputError, match=r"^text is 42,425 characters, over the limit of 20,000 \(Scorer.score_pieces"):
        scorer.score(long)  # one text: no "comment 0" in the message, and the way out named
    [short], [pieces] = scorer.score_pieces(["Nice one."]), scorer.score_pieces([long])
    assert [(o, p) for o, p, _ in short] == [(0, "Nice one.")] and short[0][2].scores == scorer.score("Nice one.").scores
    assert [o for o, _, _ in pieces] == [o for o, _ in split_long(long)] and len(pieces) == 3
    whole = worst_of([s for _, _, s in pieces])
    assert whole.scores["personal_attack"] == pieces[-1][2].scores["personal_attack"] > 0.3
    assert pieces[0][2].scores["personal_attack"] < 0.1
    assert whole.scores == {k: max(s.scores[k] for _, _, s in pieces) for k in whole.scores}
    evidence = scorer.explain_pieces(pieces, min_score=0.3)
    assert evidence and all(e.begin >= len(filler) and long[e.begin:e.end] == e.text for e in evidence)
    assert any("idiot" in e.text for e in evidence if e.label == "personal_attack")


def test_long_texts_are_scored_a_bounded_number_of_characters_at_a_time_with_the_same_results(scorer, monkeypatch):
    filler = "The council published the budget figures on Tuesday. " * 800
    texts = ["Nice one.", filler + "You are a pathetic idiot.", "What a stupid plan.", filler]
    whole = scorer.score_pieces(texts)
    calls = []
    batch = scorer.score_batch
    monkeypatch.setattr(scorer, "score_batch", lambda pieces, ids: calls.append(sum(map(len, pieces))) or batch(pieces, ids))
    monkeypatch.setattr(scorer_module, "BATCH_CHARS", 25_000)
    bounded = scorer.score_pieces(texts)
    assert len(calls) > 3 and all(size <= 25_000 for size in calls)
    assert [[(o, p, s.scores) for o, p, s in t] for t in bounded] == [[(o, p, s.scores) for o, p, s in t] for t in whole]
    # A piece of a long text keeps no features; explaining it computes them again, to the same spans.
    assert all(s.features is None for t in bounded if len(t) > 1 for _, _, s in t)
    assert bounded[0][0][2].features is not None
    assert scorer.explain_pieces(bounded[1], min_score=0.3) == scorer.explain_pieces(whole[1], min_score=0.3)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab .>\n", max_size=1200), st.integers(min_value=8, max_value=120))
def test_any_text_is_cut_into_pieces_within_the_limit_that_rejoin_exactly(text, limit):
    pieces = split_long(text, limit)
    assert "".join(piece for _, piece in pieces) == text
    assert all((piece or not text) and len(piece) <= limit and text[offset:offset + len(piece)] == piece
               for offset, piece in pieces)
