"""Insult words aimed at a thing, not a person: "a stupid plan", "this law is insane".

The policy (DESIGN) says sharp criticism of policies, institutions or ideas is not a personal attack,
but in the public training data the words such criticism uses ("stupid", "idiotic", "pathetic") nearly
always have a person as their target, and the Toxic Spans raters marked "stupid <thing>" as an insult
two times in three: the personal-attack head learnt the word, not its target, and scored "This is a
stupid plan." 0.84. A linear model over n-grams cannot learn the target from such labels, so the
scorer reads the target itself: where one of :data:`ADJECTIVES` modifies one of :data:`NOUNS` ("a
stupid plan", "the most idiotic, cynical decision") or is said of one ("the plan is stupid", and of
"this", "that" and "it": "that's insane"), the word is read as "bad" for the personal-attack and
toxicity heads. Everything else in the comment is read as written, so "a stupid plan from a stupid
man" is still a personal attack, and profanity and incitement are not touched.

The rule is narrow on purpose: the nouns are things people propose, decide, build or write, never
people ("stupid people", "a stupid man" and "you're stupid" are read as written) nor words that can be
("a ludicrous figure", "a pathetic excuse for a reporter"). Measured side by side on the shipped
model 20261206-4acb2744 with the rule on and off: the README's "Insult words aimed at ideas".
"""

from __future__ import annotations

import re

__all__ = ["ADJECTIVES", "HEADS", "NOUNS", "idea_criticism_spans", "neutralise_idea_criticism"]

# The heads that read the neutralised text; profanity and incitement read the comment as written.
HEADS = ("personal_attack", "toxicity")

ADJECTIVES = frozenset("""
    stupid stupider stupidest dumb dumber dumbest idiotic moronic asinine brainless brain-dead braindead half-baked
    halfbaked daft daftest insane crazy crazier craziest ridiculous laughable pathetic garbage rubbish lunatic
    dim-witted dimwitted clueless absurd ludicrous silly sillier silliest foolish lame ignorant cretinous imbecilic
    nonsensical senseless mindless dopey boneheaded bone-headed ill-conceived hare-brained harebrained nutty bonkers
    mad deranged delusional trash trashy dim witless pointless useless worthless
""".split())

# Things proposed, decided, built or written: never a person, and never a commenter's own words
# ("a stupid comment", "a stupid question" are aimed at whoever wrote or asked them).
NOUNS = frozenset("""
    idea plan scheme policy policies decision proposal argument reasoning logic law bill rule regulation design
    system model column article piece op-ed editorial headline story stories report approach move thing product
    trend gamble mess choice strategy strategies budget deal project timetable schedule statement claim theory
    theories notion suggestion concept premise conclusion analysis analyses study studies survey poll
    lawmaking legislation reform initiative programme program campaign ruling verdict assumption point position
    view comparison analogy analogies price cost fee figures number statistic priority priorities spending tax taxes
    requirement ban mandate tariff war waste mistake error stunt website app feature update setup set-up layout rationale
    justification explanation solution proposition agenda manifesto speech interview debate discussion nonsense
    ordinance measure process processes procedure service approaches
""".split())

_PLURALS = {w + "s" for w in NOUNS if not w.endswith(("s", "y", "x", "ing", "ch"))}  # "policies", "taxes": listed
# A word between the adjective and its noun ("a stupid, cynical plan", "the dumbest bus timetable") may
# be neither a person nor a function word, so that "stupid either way" or "stupid of him" do not count.
_PERSON = """you your he she they him her his them man men woman women people person guy guys idiot idiots fool fools
    kid kids boy girl author writer reporter journalist editor mayor minister president leader councillor poster troll
    commenter""".split()
_FUNCTION = """either or neither nor to of in on at for by with from about as any all some no every each this that these
    those the a an is are was were be been it its i we me my our not but if than then so such when what which who
    way""".split()
_INTENSIFIERS = """most so really utterly totally completely absolutely just plain simply downright truly incredibly
    pretty quite very bloody frankly entirely genuinely more too beyond outright also""".split()


def _alternation(words) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_ADJ = _alternation(ADJECTIVES)
_NOUN = "(?:" + _alternation(NOUNS) + "|" + _alternation(_PLURALS) + ")"
_NOT_BETWEEN = "(?:" + _alternation(_PERSON + _FUNCTION) + r")\b"
_ATTRIBUTIVE = re.compile(
    rf"\b({_ADJ})\b(?=(?:,?\s+(?!{_NOT_BETWEEN})[a-z-]+(?<!'s)){{0,2}},?\s+{_NOUN}\b)")
_PREDICATIVE = re.compile(
    rf"\b(?:{_NOUN}|this|that|it)(?:'s|\s+(?:is|was|are|were|seems|sounds|looks|feels))"
    rf"(?:\s+(?:{_alternation(_INTENSIFIERS)}|not\s+only))*\s+({_ADJ})\b(?!\s+of\b)")


_WORDS = re.compile(r"[a-z]+(?:-[a-z]+)*")


def idea_criticism_spans(text: str) -> list[tuple[int, int]]:
    """``(begin, end)`` of each insult word aimed at a thing, in a normalised (lower-case) text."""
    if ADJECTIVES.isdisjoint(_WORDS.findall(text)):  # most comments: no pattern to try
        return []
    spans = {m.span(1) for m in _ATTRIBUTIVE.finditer(text)} | {m.span(1) for m in _PREDICATIVE.finditer(text)}
    return sorted(spans)


def neutralise_idea_criticism(text: str) -> str:
    """``text`` with each such word read as "bad", padded with spaces to the same length, so that every
    offset still points at the same character (the evidence spans of a score read from it are right)."""
    for begin, end in reversed(idea_criticism_spans(text)):
        text = text[:begin] + "bad".ljust(end - begin) + text[end:]
    return text
