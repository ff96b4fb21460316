"""Dehumanising or derogatory generalisations about a protected group, found by their shape.

The example policy forbids "hateful or dehumanising generalisations about people because of their ethnicity,
religion, nationality, gender, sexuality, disability or similar". The model reads short statements about a
group more by their shape than their words (README, Known gaps): "Women are disgusting and worthless." scored
0.13 for identity attack while "Women are here." scored 0.71. This rule finds the plainest form of such a
generalisation in a normalised text, where every word naming a protected group is already one placeholder
(``normalise.mask_group_words``): the group as the subject where its clause begins (or after a lead-in such as
"but" or "I think"), a plural form of "to be", and a word or phrase that dehumanises or demeans
(``PREDICATES``) ending its phrase, with only intensifiers between ("Muslims are nothing but vermin", "you gays
are all disgusting", "Immigrants are like animals."). The scorer raises identity attack (and so incitement) to
at least ``FLOOR`` for a comment that holds one, citing the statement as evidence: high enough to be held for
a moderator under the example policy (hold 0.35), not to be rejected unseen (0.75).

Left alone: a negated statement ("Women are not disgusting", "Not all immigrants are criminals"), one whose
group is not where its clause begins ("Violence against women is a disgrace", "Only 2% of immigrants are ...",
"Saying women are disgusting is wrong", "Trump believes Mexicans are ..."), one said to be someone else's
("according to", "said", "propaganda"), a question, a quotation (of one sentence or several), one person ("This
woman is disgusting"), and a word inside another phrase ("Women are not human incubators"). Hate said in other
shapes (a question, a pronoun for the group, an opinion without such a word) is left to the model. Two reviews ran
it over the corpus and the public data (95,552 texts): the second found it firing on 18 texts, each the writer's
own hateful generalisation, and the synthetic inputs it still got wrong are tests now.
"""

from __future__ import annotations

import bisect
import re

from .normalise import GROUP_PLACEHOLDER

__all__ = ["FLOOR", "PREDICATES", "derogation_spans", "with_line_ends"]

FLOOR = 0.7

# Words and phrases that, said of a whole group, dehumanise it (vermin, animals, a disease) or demean it (worthless,
# inferior, criminals). Written from the kinds of derogation and dehumanisation that hate-speech test suites
# describe, not from any test case.
PREDICATES = tuple(sorted(set("""vermin parasites parasite rats cockroaches roaches animals beasts savages savage subhuman
    subhumans inferior filth filthy scum scumbags trash garbage rubbish disgusting revolting repulsive vile worthless
    useless evil dirty stupid idiots morons imbeciles criminals rapists terrorists thieves pigs dogs apes monkeys
    freaks perverts degenerates degenerate paedophiles pedophiles predators disease diseased plague cancer virus
    infestation burden disgrace menace pests pest leeches maggots insects lice swine barbarians primitive
    unclean pathetic lazy""".split()) | {"less than human", "not human", "not even human", "sub human", "sub-human",
                                          "waste of space", "mentally ill", "a drain"}, key=len, reverse=True))

# Between the verb and the word: intensifiers, articles and the like only ("are all just a bunch of ...").
_BETWEEN = (r"(?:(?:all|just|only|such|so|really|truly|literally|basically|simply|always|naturally|inherently|"
            r"genetically|clearly|obviously|the|a|an|bunch|pack|load|lot|lots|of|like|complete|total|utter|absolute|"
            r"most|very|fucking|bloody|damn|dirty|filthy|disgusting|vile|worthless|evil|stupid|useless|lazy|"
            r"primitive|little|born|nothing but|nothing more than|no better than|no more than)\s+)*")
# The group is the subject of its clause, which begins there or with one of these lead-ins (a later review found
# "violence against women is a disgrace", "only 2% of immigrants are ...", "Trump believes Mexicans are ..."): the
# statement is the writer's own. Only the plural verbs: "This woman is disgusting" is about one person.
_LEAD_IN = re.compile(r"(?:and|but|so|honestly|frankly|seriously|look|face it|let's face it|the truth is|the fact is|"
                      r"i think|i believe|i feel|i reckon|i know|we all know|everyone knows|in my opinion|imo)"
                      r"(?:\s+that)?")
# The subject: the group, maybe with a word for people after it ("Muslim men", read "xxgroup men"), or a list of
# groups ("Muslims, Jews and gays"), which must begin the clause as a whole (a review found "hate crimes against
# Jews, Muslims, and gays are disgusting" read from its last group).
_ONE = GROUP_PLACEHOLDER + r"(?:\s+(?:" + GROUP_PLACEHOLDER + r"|men|women|boys|girls|lads|guys|kids|youths|people))?"
_SUBJECT = (r"(?:(?:all|most|these|those|the|you|u)\s+)?" + _ONE + r"(?:\s*,\s*" + _ONE + r")*"
            + r"(?:\s*,?\s+(?:and|&)\s+" + _ONE + r")?")
_GENERALISATION = re.compile(
    r"(?<![\w'])" + _SUBJECT + r"\s+(?:are|were|r)\s+" + _BETWEEN
    + r"(?:" + "|".join(re.escape(p) for p in PREDICATES) + r")"
    # ... and the word ends its phrase: "not human incubators", "the dirty little secret" are other statements.
    + r"(?=\s*$|\s*[^\w\s']|\s+(?:and|or|but|who|that|which|like|on|in|to|for|of|with|from|at|than|as)\b)")
# Said to be someone else's view anywhere in its sentence (a review found "According to the Daily Mail, Muslims are
# ...", "In Nazi propaganda, Jews were ...", "..., said the man in the dock").
_ATTRIBUTED = re.compile(r"\b(?:according to|in the eyes of|propaganda|said|says|claimed|claims|wrote|writes|"
                         r"reportedly|allegedly|supposedly)\b")
# Negated: "not", "never" or "aren't" after the group never match (none of them may stand between the verb and
# the word); "no" may ("no better than animals"), so a match holding it is left unless in one of these phrases.
_NEGATION_INSIDE = re.compile(r"\b(?:not|never|no|n't)\b")
_NOT_A_NEGATION = ("less than human", "not human", "not even human", "nothing but", "nothing more than", "no better than",
                   "no more than")
# Quoted: the statement begins inside a quotation, of this sentence or an earlier one (a review found a leaflet's
# three quoted sentences read as the writer's). A single quotation mark opens a word and closes another: an
# apostrophe inside a word ("that\u2019s") or after one ("teachers'") is none.
_OPENING = re.compile("(?<!\\w)['\u2018](?=\\w)")
_CLOSING = re.compile("(?<=\\w)['\u2019](?!\\w)")


def _quotations(text: str) -> tuple[list[int], list[int]]:
    """The quotations of a text as merged (begin, end) intervals, as two sorted lists: between straight double
    quotes taken in pairs, curly or angled double quotes, or single quotes that open and close words (an unclosed
    double quotation runs to the end)."""
    spans = []
    straight = [m.start() for m in re.finditer('"', text)]
    spans += list(zip(straight[::2], [*straight[1::2], len(text)]))
    for opening, closing in (("\u201c", "\u201d"), ("\u00ab", "\u00bb")):
        at = text.find(opening)
        while at >= 0:
            end = text.find(closing, at + 1)
            end = len(text) if end < 0 else end
            spans.append((at, end))
            at = text.find(opening, end + 1)
    closings = [m.start() for m in _CLOSING.finditer(text)]
    for m in _OPENING.finditer(text):
        k = bisect.bisect_right(closings, m.start())
        if k < len(closings):
            spans.append((m.start(), closings[k]))
    begins, ends = [], []
    for a, b in sorted(spans):
        if begins and a <= ends[-1]:
            ends[-1] = max(ends[-1], b)
        else:
            begins.append(a)
            ends.append(b)
    return begins, ends


def _inside(position: int, quotations: tuple[list[int], list[int]]) -> bool:
    begins, ends = quotations
    k = bisect.bisect_right(begins, position) - 1
    return k >= 0 and position < ends[k]


_SENTENCE = re.compile(r"[^.!?\u203d\n]+[.!?\u203d]*")
_CLAUSE_BREAK = re.compile(r"[,;:\u2013\u2014(]|\s-\s")
_LOOK_BACK = 80  # characters of the clause read before a statement (a long sentence is not read again per match)
# What in the original text ends a line where the normalised text has one space: a line break, or a tag that
# starts a paragraph, line or list item (a review found "Great article\nMuslims are vermin." read as one sentence).
_LINE_END = re.compile(r"\n|<(?:/?(?:p|div|li|ul|ol|blockquote|h[1-6])|br)\b", re.IGNORECASE)


def with_line_ends(norm) -> str:
    """A :class:`~moderation.normalise.Normalised`'s text with each space that stands for a line end in the
    original written as a line break (the same length, so every offset still points at the same character)."""
    text = norm.text
    if " " not in text or not _LINE_END.search(norm.original):
        return text
    chars = list(text)
    for i, c in enumerate(chars):
        if c == " " and _LINE_END.search(norm.original, norm.starts[i], norm.ends[i]):
            chars[i] = "\n"
    return "".join(chars)


def derogation_spans(text: str) -> list[tuple[int, int]]:
    """``(begin, end)`` in a normalised text of each generalisation the rule finds (see the module's notes)."""
    if GROUP_PLACEHOLDER not in text:
        return []
    found = []
    quotations = None
    for sentence in _SENTENCE.finditer(text):
        s = sentence.group(0)
        end_marks = s[len(s.rstrip(".!?\u203d ")):]
        if (GROUP_PLACEHOLDER not in s or "?" in end_marks or "\u203d" in end_marks
                or _ATTRIBUTED.search(_in_context(text, sentence.start(), s)) or s.rstrip().endswith("/s")):
            continue  # a question ("Muslims are terrorists?!"), someone else's view, or sarcasm marked "/s"
        for m in _GENERALISATION.finditer(s):
            before = s[max(0, m.start() - _LOOK_BACK):m.start()]
            breaks = list(_CLAUSE_BREAK.finditer(before))
            # Without a break, the clause began with the sentence, or further back than is read (no lead-in then).
            start = breaks[-1].end() if breaks else 0
            lead = before[start:].strip() if breaks or m.start() <= _LOOK_BACK else "?"
            if lead and not _LEAD_IN.fullmatch(lead):
                continue  # the group is not where its clause begins: not the writer's own generalisation
            if _NEGATION_INSIDE.search(_without_phrases(m.group(0))):
                continue
            begin = sentence.start() + m.start()
            quotations = _quotations(text) if quotations is None else quotations
            if _inside(begin, quotations):
                continue
            found.append((begin, sentence.start() + m.end()))
    return found


def _in_context(text: str, start: int, sentence: str) -> str:
    """A sentence with the end of the line before it when only a line break parted them ("The leaflet said" then a
    new line): what attributes the statement to someone else may stand there."""
    if start and text[start - 1] == "\n":
        before = text[max(0, start - _LOOK_BACK):start - 1].rstrip()
        if before and before[-1] not in ".!?\u203d":
            return before + " " + sentence
    return sentence


def _without_phrases(statement: str) -> str:
    for phrase in _NOT_A_NEGATION:
        statement = statement.replace(phrase, "")
    return statement
