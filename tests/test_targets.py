"""Insult words aimed at things, not people (moderation.targets), and how the scorer reads them."""

import json
import re
from functools import partial

import pytest

import moderation.scorer as scorer_module
import moderation.targets as targets_module
from moderation.normalise import normalise
from moderation.targets import idea_criticism_spans, neutralise_idea_criticism

from .conftest import ROOT


def _aimed_at_things(text: str) -> list[str]:
    """The words the scorer reads as aimed at things (it knows which words the original writes as names)."""
    norm = normalise(text)
    return [norm.text[b:e] for b, e in idea_criticism_spans(norm.text, partial(scorer_module._written_as_name, norm))]


@pytest.mark.parametrize("text,words", [
    ("This is a stupid plan.", ["stupid"]),
    ("What an idiotic policy.", ["idiotic"]),
    ("The most idiotic, cynical decision in years.", ["idiotic"]),
    ("Honestly the dumbest bus timetable I have ever seen.", ["dumbest"]),
    ("This law is insane.", ["insane"]),
    ("The new parking rules are utterly pathetic.", ["pathetic"]),
    ("It's ridiculous that we pay for this.", ["ridiculous"]),  # "it" with its real subject after it
    ("It's stupid to close the library.", ["stupid"]),
    ("Half-baked scheme.", ["half-baked"]),
    ("A STUPID plan.", ["stupid"]),  # read after normalisation
    ("A st*pid plan.", ["stupid"]),
    ("This is a stupid plan. It costs too much. The mayor is a moron.", ["stupid"]),  # the sentences about things
    ("The plan’s ridiculous.", ["ridiculous"]),  # a curly apostrophe, as phones send it
    ("This stupid bill will cost us.", ["stupid"]),
    ("What a stupid thing to do.", ["stupid"]),
    ("Your argument is stupid.", ["stupid"]),
    ("The plan is stupid and wasteful.", ["stupid"]),
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
    # A listed noun that starts a compound naming people (found by a review of the rule).
    "Stupid policy makers.",
    "The stupid bill sponsors.",
    "The idiotic design team should be fired.",
    "The ignorant article writer.",
    "Idiotic law-makers.",
    # An adjective followed by its own noun, or said in a clause about people.
    "It's stupid people like you who ruin this country.",
    "The column's stupid author.",
    "Commenters that are so stupid should be banned.",
    "Anyone that is stupid enough to believe this.",
    "Whoever wrote this article is clueless.",
    "Anyone who votes for this bill is insane.",
    # A person named after it, or addressed.
    "This is stupid, just like you.",
    "Your idea is stupid and so are you.",
    "You stupid thing.",
    "What a stupid thing you are.",
    "You're a useless waste of oxygen.",
    "You’re a pathetic mess.",
    "What a pathetic role model.",
    # A person word between the adjective and a word that could be a noun.
    "Stupid senators waste our money.",
    "Stupid liberals point to the polls.",
    # Any person in the sentence, or in the one before a "that's ...": found by an adversarial review.
    "A stupid plan from a stupid man.",
    "The author of this article is clueless.",
    "The woman in charge of this project is useless.",
    "Defenders of this law are pathetic.",
    "We have a mayor that is completely clueless.",
    "This plan is idiotic and so is he.",
    "Your argument is stupid, same as you.",
    "Your plan is stupid. So are you.",
    "Stupid Trump, stupid policy.",
    "What a stupid tax cheat he is.",
    "The dumb app devs broke it again.",
    "The mayor is a pathetic little thing.",
    "Bill is clueless.",
    "That's pathetic, Dave.",
    "That's pathetic, mate, get a life.",
    "Read your own comment. That's pathetic.",
    "Look at the mayor on TV. It's pathetic.",
    "Typical stupid commie argument.",
    # "This", "that" and "it" take up what came before, as often a person's act or words as a thing; and
    # forms of address, handles, faction words, compounds and the sentence after (a third review).
    "That's ridiculous.",
    "It's just plain stupid.",
    "That's pathetic, OP.",
    "Bro, that's pathetic.",
    "@jim_b that's idiotic.",
    "Did you even read the article? Seriously. That's pathetic.",
    "What an idiotic thing to write.",
    "That's the stupidest thing I've read all week.",
    "What a useless point guard.",
    "Typical moronic labourite logic.",
    "Your plan is stupid. Then again, so are you.",
    "This is a stupid plan. The mayor is a moron.",
])
def test_insult_words_aimed_at_people_are_not(text):
    assert _aimed_at_things(text) == []


class _NeverDisjoint(frozenset):
    def isdisjoint(self, other) -> bool:
        return False


@pytest.mark.parametrize("text", ["this is a stupid plan.", "half-baked, brain-dead scheme", "a stupid2 plan",
                                  "a stupid_plan", "a \u00e9stupid plan", "--stupid plan", "a brain-dead-ish plan",
                                  "brain dead plan", "it's ridiculous that we pay.", "plain text", ""])
def test_the_quick_look_for_adjectives_changes_no_result(text, monkeypatch):
    found = idea_criticism_spans(text)
    monkeypatch.setattr(targets_module, "_ADJECTIVE_RUNS", _NeverDisjoint())
    assert idea_criticism_spans(text) == found


@pytest.mark.parametrize("text", ["this is a stupid plan.", "half-baked, brain-dead scheme", "that's insane", "plain text"])
def test_neutralising_keeps_every_offset(text):
    out, spans = neutralise_idea_criticism(text)
    assert spans == idea_criticism_spans(text) and len(out) == len(text)
    for begin, end in spans:
        assert out[begin:end].strip() == "bad"
    assert [c for c, d in zip(text, out) if c != d] == [c for b, e in spans for c, d in zip(text[b:e], out[b:e]) if c != d]


def test_a_noun_written_as_a_name_is_not_a_thing():
    text = normalise("Stupid Bill Gates.").text
    assert idea_criticism_spans(text) == [(0, 6)]  # on the lower-case text alone, "bill" is a bill
    assert idea_criticism_spans(text, lambda begin, end: True) == []


@pytest.mark.parametrize("text,names", [
    ("Stupid Bill Gates.", ["Bill", "Gates"]),
    ("This Bill is stupid, says Dave.", ["Dave"]),
    ("The Rwanda Bill is insane.", []),
    ("THIS BILL IS STUPID", []),
    ("Bill is clueless.", []),  # a capital at the start of a sentence says nothing (a bare noun subject is not read)
    ("That's pathetic, Boris.", ["Boris"]),
])
def test_which_words_the_original_writes_as_names(text, names):
    norm = normalise(text)
    found = [norm.original[slice(*norm.original_span(m.start(), m.end()))] for m in re.finditer(r"[a-z]+", norm.text)
             if scorer_module._written_as_name(norm, m.start(), m.end())]
    assert found == names


def _without_the_rule(monkeypatch, scorer, texts):
    monkeypatch.setattr(scorer_module, "neutralise_idea_criticism", lambda text, written_as_name=None: (text, []))
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
        if a.idea_reading is not None:  # a reading is kept only where it lowered a head
            assert _aimed_at_things(text) and all(a.scores[h] < b.scores[h] for h in a.idea_reading.heads)
    assert changed >= 4
    # The rule is what moves the example policy's verdict on the plain case.
    assert before[0].scores["personal_attack"] >= 0.5 > after[0].scores["personal_attack"]


def test_an_attack_beside_criticism_of_an_idea_is_still_an_attack(scorer):
    text = "This is a stupid plan. It costs too much. The mayor is a moron."
    score = scorer.score(text)
    assert score.scores["personal_attack"] >= 0.5 and score.idea_reading is not None
    evidence = [e for e in scorer.explain(text, score=score) if e.label == "personal_attack"]
    # The evidence is the insult aimed at the mayor, not the word aimed at the plan.
    assert evidence and all(e.begin >= len("This is a stupid plan. ") for e in evidence)


def test_evidence_points_into_the_original_text_after_a_rewrite(scorer):
    text = "What a <b>HALF-BAKED</b> policy, you absolute m0ron."
    score = scorer.score(text)
    evidence = [e for e in scorer.explain(text, score=score) if e.label == "personal_attack"]
    assert evidence
    for e in evidence:
        assert text[e.begin:e.end] == e.text
        assert "m0ron" in e.text


@pytest.mark.parametrize("text", ["This is a stupid plan.", "What an idiotic policy.", "Stupid stupid stupid decision.",
                                  "The healthcare bill is insane, period.", "A half-baked, brain-dead scheme."])
def test_evidence_never_cuts_a_rewritten_word(scorer, text):
    score = scorer.score(text)
    assert score.idea_reading is not None
    evidence = scorer.explain(text, score=score)  # every label, whatever its score
    assert any(e.label == "personal_attack" for e in evidence)
    for e in evidence:  # no span starts or ends inside a word
        assert e.begin == 0 or not (text[e.begin].isalnum() and text[e.begin - 1].isalnum()), e
        assert e.end == len(text) or not (text[e.end - 1].isalnum() and text[e.end].isalnum()), e


def test_the_pieces_of_a_long_text_keep_no_reading_once_joined(scorer):
    pieces = scorer.score_pieces(["This is a stupid plan. " * 1000])[0]
    assert len(pieces) > 1 and all(p.idea_reading is not None for _, _, p in pieces)
    assert scorer_module.worst_of([p for _, _, p in pieces]).idea_reading is None


# Personal attacks that helpers wrote to get past earlier versions of the rule (reviews 2 and 3; their
# patterns are in the "pattern" field). The rule must leave them as written; the two it still reads are
# criticism of an argument or a column with the person in another sentence, which the policy allows.
ATTACKS = [json.loads(line) for line in (ROOT / "data" / "behaviour" / "idea_rule_attacks.jsonl").read_text().splitlines()]
STILL_READ = {"Your argument is moronic. Consider the source.", "The author should be ashamed.\n\nThis column is pathetic."}


def test_the_attacks_written_to_get_past_the_rule_are_read_as_written():
    assert len(ATTACKS) >= 190
    read = {a["text"] for a in ATTACKS if _aimed_at_things(a["text"])}
    assert read == STILL_READ
