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

The rule is narrow on purpose, and errs towards reading the comment as written:

- the nouns are things people propose, decide, build or write, never people nor words that name one
  in a common phrase ("a ludicrous figure", "a role model", "a waste of oxygen"), and a noun written
  with a capital inside a sentence is a name ("Stupid Bill Gates.");
- the noun ends its phrase: "stupid policy makers", "the idiotic design team", "idiotic law-makers"
  and "the column's stupid author" are about people; so is a predicative adjective with a noun of its
  own ("it's stupid people like you ...");
- a person in the same clause before it ("you stupid thing", "you're a pathetic mess", "whoever wrote
  this article is clueless", "commenters that are so stupid") or named after it in the sentence ("...
  and so are you", "just like you") takes the insult back to them.

A review of the first version found each of those cases softened; they are tests now. Measured side by
side on the shipped model 20261206-4acb2744 with the rule on and off: the README's "Insult words aimed
at ideas".
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

# Things proposed, decided, built or written. Never a person, nor a word that names one in a common phrase
# ("a role model", "a piece of work", "a waste of oxygen"); "bill" only where it is not written as a name
# ("Stupid Bill"). Criticism of a commenter's argument, point or claim counts ("Your argument is stupid"),
# but not of the comment or question itself ("a stupid comment", "a stupid question": aimed at its writer).
NOUNS = frozenset("""
    idea plan scheme policy policies decision proposal argument reasoning logic law bill rule regulation design
    system column article op-ed editorial headline story stories report approach approaches move thing product
    trend gamble choice strategy strategies budget deal project timetable schedule statement claim theory
    theories notion suggestion concept premise conclusion analysis analyses study studies survey surveys poll
    lawmaking legislation reform initiative programme program campaign ruling verdict assumption point position
    view comparison analogy analogies price cost fee figures number statistic priority priorities spending tax taxes
    requirement ban mandate tariff war mistake error stunt website app feature update setup set-up layout rationale
    justification explanation solution proposition agenda manifesto speech speeches interview debate discussion
    nonsense ordinance measure process processes procedure service
""".split())

_PLURALS = {w + "s" for w in NOUNS if not w.endswith(("s", "y", "x", "ing", "ch"))}  # "policies", "taxes": listed
# People and groups, singular or plural: never the thing an insult word is aimed at, nor a word between
# it and its noun, nor the head of a compound the noun starts ("policy makers", "the design team"). Words
# for people by what they do ("sponsors", "collectors", "senators", "columnists") are caught by their
# endings (_AGENT) rather than listed.
_PERSON = """you your yours he she they him her his them man men woman women people person persons folk folks guy
    guys bloke blokes lady ladies kid kids boy boys girl girls idiot idiots fool fools moron morons loser losers
    troll trolls liberal liberals lefty lefties tory tories democrat democrats republican republicans team teams
    staff crowd lot department committee board government mob gang family""".split()
_AGENT = r"[a-z]{3,}(?:er|or|ist|ian|ant|ent|eer|ee)s?"
_FUNCTION = """either or neither nor to of in on at for by with from about as any all some no every each this that these
    those the a an is are was were be been it its i we me my our not but if than then so such when what which who
    way""".split()
_INTENSIFIERS = """most so really utterly totally completely absolutely just plain simply downright truly incredibly
    pretty quite very bloody frankly entirely genuinely more too beyond outright also""".split()
_APOSTROPHE = "['\u2019\u02bc]"  # phones and editors send a curly apostrophe by default


def _alternation(words) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_ADJ = _alternation(ADJECTIVES)
_NOUN = "(?:" + _alternation(NOUNS) + "|" + _alternation(_PLURALS) + ")"
_PEOPLE = rf"(?:(?:{_alternation(_PERSON)})\b|{_AGENT}\b)"
_NOT_BETWEEN = rf"(?:(?:{_alternation(_FUNCTION)})\b|{_PEOPLE})"
# The noun ends its phrase: no hyphen or possessive after it ("law-makers", "the plan's author"), no
# person after it ("policy makers"), and no "of" after "piece" or "waste" ("a waste of oxygen").
_NOUN_ENDS = rf"(?![-'\u2019\u02bc]?[a-z0-9])(?!\s+{_PEOPLE})"
_ATTRIBUTIVE = re.compile(
    rf"\b({_ADJ})\b(?=(?:,?\s+(?!{_NOT_BETWEEN})[a-z-]+(?<![a-z]{_APOSTROPHE}s)){{0,2}},?\s+({_NOUN}){_NOUN_ENDS})")
# Said of a thing: "the plan is stupid", "that's insane" ("this", "that" and "it" only with a singular verb:
# "commenters that are so stupid" is a relative clause about people). The adjective ends its phrase
# ("it's stupid people like you ..." is read as written), and is not "stupid enough" or "stupid of him".
_PREDICATIVE = re.compile(
    rf"\b(?:({_NOUN})(?:{_APOSTROPHE}s|\s+(?:is|was|are|were|seems|sounds|looks|feels))"
    rf"|(?:this|that|it)(?:{_APOSTROPHE}s|\s+(?:is|was|seems|sounds|looks|feels)))"
    rf"(?:\s+(?:{_alternation(_INTENSIFIERS)}|not\s+only))*\s+({_ADJ})\b"
    r"(?=\s*(?:$|[.,;:!?)\"'\u2019\u201d-]|(?:and|but|or|to|because|as|in|for|if|when|so|imo|tbh|lol|period|anyway)\b))")
# A person in the same clause takes the insult back to them: "you stupid thing", "you're a pathetic mess",
# "whoever wrote this article is clueless", "anyone who votes for this bill is insane"; and after it,
# "... and so are you", "just like you", "what a stupid thing you are".
_PERSON_BEFORE = re.compile(
    rf"\b(?:you|u|ur|yer|you{_APOSTROPHE}re|youre|he{_APOSTROPHE}s|she{_APOSTROPHE}s|they{_APOSTROPHE}re|"
    r"(?:he|she)\s+(?:is|was)|(?:they|you)\s+(?:are|were)|who|whoever|whom|anyone|anybody|everyone|everybody|"
    r"someone|somebody|those|people)\b")
_PERSON_AFTER = re.compile(
    rf"^(?:(?:and\s+)?(?:so\s+(?:are|is|was|were)|(?:just\s+)?like|as\s+(?:are|is))\s+(?:you|u|him|her|them|its|his|"
    rf"their|the\s+\w+)\b|.*?\b(?:you\s+are|you{_APOSTROPHE}re|ur|youre)\b)")
_CLAUSE_END = re.compile(r"[.!?;,:\n]")
_SENTENCE_END = re.compile(r"[.!?;\n]")

_WORDS = re.compile(r"[a-z]+(?:-[a-z]+)*")


def _context(text: str, begin: int, end: int) -> tuple[str, str]:
    """The clause before ``begin`` (back to the nearest punctuation) and the sentence after ``end``."""
    before = text[:begin]
    cut = max((m.end() for m in _CLAUSE_END.finditer(before)), default=0)
    after = text[end:]
    stop = _SENTENCE_END.search(after)
    return before[cut:], (after[:stop.start()] if stop else after).lstrip(" ,:-\u2013\u2014")


def idea_criticism_spans(text: str, written_as_name=None) -> list[tuple[int, int]]:
    """``(begin, end)`` of each insult word aimed at a thing, in a normalised (lower-case) text.

    ``written_as_name(begin, end)``, when given, says whether the original text writes the word there as a
    name (a capital letter inside a sentence): "Stupid Bill." is then not about a bill.
    """
    if ADJECTIVES.isdisjoint(_WORDS.findall(text)):  # most comments: no pattern to try
        return []
    found = set()
    for pattern in (_ATTRIBUTIVE, _PREDICATIVE):
        for m in pattern.finditer(text):
            adjective, noun = (m.span(1), m.span(2)) if pattern is _ATTRIBUTIVE else (m.span(2), m.span(1))
            if noun[0] >= 0 and written_as_name is not None and written_as_name(*noun):
                continue
            before, after = _context(text, m.start(), adjective[1])
            if _PERSON_BEFORE.search(before) or _PERSON_AFTER.match(after):
                continue
            found.add(adjective)
    return sorted(found)


def neutralise_idea_criticism(text: str, written_as_name=None) -> tuple[str, list[tuple[int, int]]]:
    """``text`` with each such word read as "bad", padded with spaces to the same length, so that every
    offset still points at the same character; and the rewritten spans."""
    spans = idea_criticism_spans(text, written_as_name)
    for begin, end in reversed(spans):
        text = text[:begin] + "bad".ljust(end - begin) + text[end:]
    return text, spans
