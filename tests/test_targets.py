"""Insult words aimed at things, not people (moderation.targets), and how the scorer reads them."""

import pytest

import moderation.scorer as scorer_module
from moderation.normalise import normalise
from moderation.targets import idea_criticism_spans, neutralise_idea_criticism


def _aimed_at_things(text: str) -> list[str]:
    norm = normalise(text).text
    return [norm[b:e] for b, e in idea_criticism_spans(norm)]


@pytest.mark.parametrize("text,words", [
    ("This is a stupid plan.", ["stupid"]),
    ("What an idiotic policy.", ["idiotic"]),
    ("The most idiotic, cynical decision in years.", ["idiotic"]),
    ("Honestly the dumbest bus timetable I have ever seen.", ["dumbest"]),
    ("This law is insane.", ["insane"]),
    ("The new parking rules are utterly pathetic.", ["pathetic"]),
    ("That's ridiculous.", ["ridiculous"]),
    ("It's just plain stupid.", ["stupid"]),
    ("Half-baked scheme.", ["half-baked"]),
    ("A STUPID plan.", ["stupid"]),  # read after normalisation
    ("A st*pid plan.", ["stupid"]),
    ("A stupid plan from a stupid man.", ["stupid"]),  # only the first
])
def test_insult_words_aimed_at_things_are_found(text, words):
    assert _aimed_at_things(text) == words


@pytest.mark.parametrize("text", [
    "You are stupid.",
    "What a stupid man.",
    "Stupid people everywhere.",
    "The mayor is clueless.",
    "He's insane.",
    "That was stupid of him.",  # said of a person's act, with the person named
    "Either you are a troll or stupid either way.",  # "way" is not the adjective's noun here
    "These people are pathetic excuses for reporters.",
    "The chief constable is a ludicrous figure.",
    "Stupid your plan is not.",  # a person word between the adjective and the noun
    "What a stupid comment.",  # aimed at whoever wrote it
    "This is a good plan.",
    "",
])
def test_insult_words_aimed_at_people_are_not(text):
    assert _aimed_at_things(text) == []


@pytest.mark.parametrize("text", ["this is a stupid plan.", "half-baked, brain-dead scheme", "that's insane", "plain text"])
def test_neutralising_keeps_every_offset(text):
    out = neutralise_idea_criticism(text)
    assert len(out) == len(text)
    for begin, end in idea_criticism_spans(text):
        assert out[begin:end].strip() == "bad"
    assert [c for c, d in zip(text, out) if c != d] == [c for b, e in idea_criticism_spans(text)
                                                        for c, d in zip(text[b:e], out[b:e]) if c != d]


def _without_the_rule(monkeypatch, scorer, texts):
    monkeypatch.setattr(scorer_module, "neutralise_idea_criticism", lambda text: text)
    return scorer.score_batch(texts)


TEXTS = ["This is a stupid plan.", "What an idiotic policy, you moron.", "This fucking stupid law should be burned.",
         "A stupid plan from a stupid man.", "You are stupid.", "The weather was fine today."]


def test_scorer_only_lowers_attack_and_toxicity(scorer, monkeypatch):
    after = scorer.score_batch(TEXTS)
    before = _without_the_rule(monkeypatch, scorer, TEXTS)
    changed = 0
    for text, a, b in zip(TEXTS, after, before):
        for label, value in a.scores.items():
            if label in ("personal_attack", "toxicity"):
                assert value <= b.scores[label], (text, label)
                changed += value < b.scores[label]
            elif label != "severe_toxicity":
                assert value == b.scores[label], (text, label)
        assert (a.idea_neutral is None) == (_aimed_at_things(text) == [])
    assert changed >= 4
    # The rule is what moves the example policy's verdict on the plain case.
    assert before[0].scores["personal_attack"] >= 0.5 > after[0].scores["personal_attack"]


def test_an_attack_beside_criticism_of_an_idea_is_still_an_attack(scorer):
    score = scorer.score("A stupid plan from a stupid man.")
    assert score.scores["personal_attack"] >= 0.5
    evidence = [e for e in scorer.explain("A stupid plan from a stupid man.", score=score) if e.label == "personal_attack"]
    # The evidence is the insult aimed at the man, not the one aimed at the plan.
    assert evidence and all(e.begin >= len("A stupid plan from a ") for e in evidence)


def test_evidence_points_into_the_original_text_after_a_rewrite(scorer):
    text = "What a <b>HALF-BAKED</b> policy, you absolute m0ron."
    score = scorer.score(text)
    evidence = [e for e in scorer.explain(text, score=score) if e.label == "personal_attack"]
    assert evidence
    for e in evidence:
        assert text[e.begin:e.end] == e.text
        assert "m0ron" in e.text
