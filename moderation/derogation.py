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
"Saying women are disgusting is wrong", "Trump believes Mexicans are ..."), a question, a quotation, one person
("This woman is disgusting"), and a word inside another phrase ("Women are not human incubators"). Hate said in
other shapes (a question, a pronoun for the group, an opinion without such a word) is left to the model.
"""

from __future__ import annotations

import re

from .normalise import GROUP_PLACEHOLDER

__all__ = ["FLOOR", "PREDICATES", "derogation_spans"]

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
_BETWEEN = (r"(?:(?:all|just|only|nothing|but|such|so|really|truly|literally|basically|simply|always|naturally|"
            r"inherently|genetically|clearly|obviously|the|a|an|bunch|pack|load|lot|lots|of|like|complete|total|"
            r"utter|absolute|most|very|more|than|fucking|bloody|damn|dirty|filthy|disgusting|vile|worthless|evil|"
            r"stupid|useless|lazy|primitive|little|no|better|born)\s+)*")
# The group is the subject of its clause, which begins there or with one of these lead-ins (a later review found
# "violence against women is a disgrace", "only 2% of immigrants are ...", "Trump believes Mexicans are ..."): the
# statement is the writer's own. Only the plural verbs: "This woman is disgusting" is about one person.
_LEAD_IN = re.compile(r"(?:and|but|so|honestly|frankly|seriously|look|face it|let's face it|the truth is|the fact is|"
                      r"i think|i believe|i feel|i reckon|i know|we all know|everyone knows|in my opinion|imo)"
                      r"(?:\s+that)?")
_GENERALISATION = re.compile(
    r"(?<![\w'])(?:(?:all|most|these|those|the|you|u)\s+)?" + GROUP_PLACEHOLDER
    + r"\s+(?:are|were|r)\s+" + _BETWEEN
    + r"(?:" + "|".join(re.escape(p) for p in PREDICATES) + r")"
    # ... and the word ends its phrase: "not human incubators", "the dirty little secret" are other statements.
    + r"(?=\s*$|\s*[^\w\s']|\s+(?:and|or|but|who|that|which|like|on|in|to|for|of|with|from|at|than|as)\b)")
# Negated: "not", "never" or "aren't" after the group never match (none of them may stand between the verb and
# the word); "no" may ("no better than animals"), so a match holding it is left unless in one of these phrases.
_NEGATION_INSIDE = re.compile(r"\b(?:not|never|no|n't)\b")
_NOT_A_NEGATION = ("less than human", "not human", "not even human", "nothing but", "no better than", "no more than")
# Quoted: a double quotation mark in the sentence, or a single one opening a word before one closing a word (an
# apostrophe inside a word, "that\u2019s", or after one, "teachers'", is none). Found by two scans, not one
# pattern, so that a sentence of many apostrophes is read once.
_DOUBLE_QUOTE = re.compile("[\"\u201c\u201d\u00ab\u00bb]")
_OPENING = re.compile("(?<!\\w)['\u2018](?=\\w)")
_CLOSING = re.compile("(?<=\\w)['\u2019](?!\\w)")


def _quoted(sentence: str) -> bool:
    if _DOUBLE_QUOTE.search(sentence):
        return True
    opening = _OPENING.search(sentence)
    return opening is not None and any(c.start() > opening.start() for c in _CLOSING.finditer(sentence))


_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_CLAUSE_BREAK = re.compile(r"[,;:\u2013\u2014(]|\s-\s")
_LOOK_BACK = 80  # characters of the clause read before a statement (a long sentence is not read again per match)


def derogation_spans(text: str) -> list[tuple[int, int]]:
    """``(begin, end)`` in a normalised text of each generalisation the rule finds (see the module's notes)."""
    if GROUP_PLACEHOLDER not in text:
        return []
    found = []
    for sentence in _SENTENCE.finditer(text):
        s = sentence.group(0)
        if GROUP_PLACEHOLDER not in s or s.rstrip().endswith("?") or _quoted(s):
            continue  # a question ("Muslims are terrorists? Give me a break.") or a quotation is not a statement
        for m in _GENERALISATION.finditer(s):
            before = s[max(0, m.start() - _LOOK_BACK):m.start()]
            breaks = list(_CLAUSE_BREAK.finditer(before))
            # Without a break, the clause began with the sentence, or further back than is read (no lead-in then).
            start = breaks[-1].end() if breaks else 0
            lead = before[start:].strip() if breaks or m.start() <= _LOOK_BACK else "?"
            if lead and not _LEAD_IN.fullmatch(lead):
                continue  # the group is not where its clause begins: not the writer's own generalisation
            inside = m.group(0)
            for phrase in _NOT_A_NEGATION:
                inside = inside.replace(phrase, "")
            if _NEGATION_INSIDE.search(inside):
                continue
            found.append((sentence.start() + m.start(), sentence.start() + m.end()))
    return found
