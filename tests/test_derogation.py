"""The derogation rule: dehumanising or derogatory generalisations about a group raise identity attack."""

from __future__ import annotations

import pytest

from moderation.derogation import FLOOR, derogation_spans
from moderation.normalise import normalise, normalise_text
from moderation.policy import load_policy
from moderation.scorer import worst_of
from tests.conftest import ROOT


def _found(text: str) -> list[str]:
    norm = normalise_text(text)
    return [norm[a:b] for a, b in derogation_spans(norm)]


@pytest.mark.parametrize(("text", "span"), [
    ("Women are disgusting and worthless.", "xxgroup are disgusting"),
    ("Muslims are vermin.", "xxgroup are vermin"),
    ("Immigrants are nothing but criminals.", "xxgroup are nothing but criminals"),
    ("I can't stand it: you gays are all disgusting, honestly.", "you xxgroup are all disgusting"),
    ("Immigrants are like animals.", "xxgroup are like animals"),
    ("Jews are a plague on this country.", "xxgroup are a plague"),
    ("Gay people are not human.", "xxgroup are not human"),
    ("Muslims are no better than animals.", "xxgroup are no better than animals"),
    ("I think women are stupid.", "xxgroup are stupid"),
    ("Musilms are vermin.", "xxgroup are vermin"),  # after normalisation (a slip of the group word)
    ("Great article. Refugees are parasites! Send them back.", "xxgroup are parasites"),
    # found by a review: an apostrophe is no quotation, a lead-in after a break is no report
    ("Muslims are vermin and that\u2019s a fact.", "xxgroup are vermin"),
    ("Immigrants are filth, the lot of 'em.", "xxgroup are filth"),
    ("Call me racist, but immigrants are parasites.", "xxgroup are parasites"),
    ("I'll say it: Jews are a plague.", "xxgroup are a plague"),
    ("Immigrants are no more than parasites.", "xxgroup are no more than parasites"),
    ("Muslims are sub-human.", "xxgroup are sub-human"),
    # found by a second review: a word for people after the group, a list of groups, a quotation elsewhere
    ("Muslim men are rapists.", "xxgroup men are rapists"),
    ("Muslims and Jews are vermin.", "xxgroup and xxgroup are vermin"),
    ("Muslims, Jews and gays are vermin.", "xxgroup, xxgroup and xxgroup are vermin"),
    ('Muslims are vermin, and I don\'t care what the "experts" say.', "xxgroup are vermin"),
    ("Immigrants are filth, the lot of 'em, and their kids' schools too.", "xxgroup are filth"),
])
def test_a_generalisation_is_found(text, span):
    assert _found(text) == [span]


@pytest.mark.parametrize("text", [
    "Women are not disgusting.",
    "Muslims aren't terrorists.",
    "Not all immigrants are criminals.",
    "No Muslim is evil.",
    "I don't think Muslims are terrorists at all.",
    "Immigrants are no more criminals than anyone else.",
    "Saying women are disgusting is wrong.",
    "The idea that immigrants are criminals is racist.",
    "'Muslims are vermin' is a vile thing to say.",
    "\u201cMuslims are vermin\u201d is vile.",
    "Refugees are treated like animals.",
    "Immigrants are victims of criminals.",
    "Jews are people.",
    "Women are here.",
    "Politicians are parasites.",  # no protected group
    "These rats are a plague on the allotments.",
    "",
    # found by a review: the group is not the subject of its clause, or not all of it, or one person of it ...
    "Using that word about disabled people is vile.", "Violence against women is a disgrace.",
    "Hatred of Muslims is evil.", "What happened to those refugees is disgusting.",
    "Not all of the immigrants are criminals.", "Not every single Muslim is evil.", "Very few immigrants are criminals.",
    "Only 2% of immigrants are criminals.", "Hardly any Muslims are terrorists.", "A tiny minority of Muslims are terrorists.",
    "Many refugees are mentally ill after what they went through.",
    "This woman is disgusting.", "Christian is useless at left back.", "My Chinese is rubbish.",
    # ... someone else's view, a question, sarcasm, or the word inside another phrase
    "Farage thinks Muslims are terrorists.", "Trump believes Mexicans are rapists.",
    "No intelligent person thinks that all Muslims are terrorists.", "If you think Muslims are evil, read a book.",
    "Muslims are terrorists? Give me a break.", "Oh right, because all Muslims are terrorists. Grow up.",
    "Women are not human incubators!", "Women are better than the rubbish this paper prints.",
    "Migrants are the dirty little secret of our farming industry.",
    # found by a second review: someone else's view after a comma, a list after "against", a quotation of several
    # sentences, other question and sarcasm marks, "more than"
    "According to the Daily Mail, Muslims are terrorists.", "In Nazi propaganda, Jews were vermin.",
    "Jews were vermin, according to Goebbels.", "Muslims are vermin, said the man in the dock.",
    "Hate crimes against Jews, Muslims, and gays are disgusting.", "The conditions for migrants, and refugees are disgusting.",
    'The leaflet read: "We have had enough. Immigrants are parasites. Vote BNP." Disgusting.',
    "Muslims are terrorists?!", "Immigrants are criminals /s", "Refugees are more than a burden, they are people.",
])
def test_negated_reported_quoted_or_harmless_statements_are_left_alone(text):
    assert _found(text) == []


def test_the_rule_raises_identity_attack_and_incitement_and_cites_the_statement(scorer):
    text = "Honestly? Women are disgusting and worthless."
    score = scorer.score(text)
    assert score.scores["identity_attack"] >= FLOOR and score.scores["incitement"] >= FLOOR
    _spans, heads = score.derogation
    assert "identity_attack" in heads and "incitement" in heads
    evidence = scorer.explain(text, ["incitement"], score=score)
    assert [(e.begin, e.end, e.text) for e in evidence] == [(10, 30, "Women are disgusting")]
    assert text[10:30] == "Women are disgusting"
    verdict = load_policy(ROOT / "data" / "policy.toml").decide(score, evidence)
    assert verdict.action == "hold", "held for a moderator, not rejected unseen"


def test_the_rule_never_lowers_a_score_and_leaves_other_comments_as_the_model_scored_them(scorer, monkeypatch):
    from moderation import scorer as scoring

    texts = ["Muslims are vermin and should be wiped out.", "Saying women are disgusting is wrong.",
             "The council voted to close the library.", "Women are disgusting and worthless."]
    with_rule = scorer.score_batch(texts)
    monkeypatch.setattr(scoring, "derogation_spans", lambda text: [])
    without = scorer.score_batch(texts)
    for a, b in zip(with_rule, without):
        assert all(a.scores[h] >= b.scores[h] for h in a.scores)
        if not a.derogation:
            assert a.scores == b.scores
    assert not with_rule[1].derogation and not with_rule[2].derogation and with_rule[3].derogation
    assert without[3].scores["identity_attack"] < FLOOR <= with_rule[3].scores["identity_attack"]


def test_a_long_texts_worst_piece_keeps_no_spans_of_its_own_pieces(scorer):
    pieces = [s for _, _, s in scorer.score_pieces(["Women are disgusting. " + "Fine. " * 4_000])[0]]
    assert len(pieces) >= 2 and pieces[0].derogation
    assert worst_of(pieces).derogation == ()


def test_the_command_line_explanation_says_what_the_rule_raised(capsys):
    from moderation import cli

    assert cli.main(["explain", "Immigrants are nothing but criminals."]) == 0
    out = capsys.readouterr().out
    assert "a generalisation about a group, identity_attack" in out
    assert "'Immigrants are nothing but criminals'" in out


def test_long_texts_are_read_once():
    """Each statement reads a bounded stretch of its clause before it, so a long sentence of statements is not read
    again for each (a review found 1.6 s for 20,000 characters): here, every one of 1,000 statements is found."""
    text = normalise_text("Muslims are vermin, " * 1_000)
    assert len(derogation_spans(text)) == 1_000


def test_many_quotation_marks_are_read_once():
    """Quotations are found with one pass and looked up by bisection (not every mark against every other)."""
    text = normalise_text("'a' " * 2_000 + "\u201cx\u201d " * 1_000 + ". Muslims are vermin.")
    assert len(derogation_spans(text)) == 1


@pytest.mark.parametrize(("text", "found"), [
    ("Great article\nMuslims are vermin.", True),
    ("<p>Great article</p><p>Muslims are vermin</p>", True),
    ("Great article<br>Muslims are vermin", True),
    ("Great article Muslims are vermin", False),  # one sentence, whose clause does not begin with the group
    ("The leaflet said\nMuslims are vermin.", False),  # the line before says whose view it is
])
def test_a_line_end_in_the_original_ends_a_sentence(scorer, text, found):
    score = scorer.score(text)
    assert bool(score.derogation) is found
    if found:
        (evidence,) = scorer.explain(text, ["incitement"], score=score)
        assert evidence.text == "Muslims are vermin" and text[evidence.begin:evidence.end] == evidence.text


def test_line_ends_keep_every_offset():
    from moderation.derogation import with_line_ends

    norm = normalise("<p>One</p>\n<p>two  three</p><br/>four\nfive six")
    marked = with_line_ends(norm)
    assert len(marked) == len(norm.text) and marked.replace("\n", " ") == norm.text
    assert marked == "one\ntwo three\nfour\nfive six"


def test_spans_point_into_the_normalised_text():
    norm = normalise("<p>Gay   people are   filthy animals</p>")
    (a, b), = derogation_spans(norm.text)
    begin, end = norm.original_span(a, b)
    assert norm.original[begin:end] == "Gay   people are   filthy animals"
