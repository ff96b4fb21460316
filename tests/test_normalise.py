"""Normalisation: each obfuscation undone, ordinary text left alone, spans map to the original."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.normalise import normalise

CASES = [
    # (original, normalised)
    ("What a f*ck up", "what a fuck up"),
    ("F**KING hell", "fucking hell"),
    ("sh1t", "shit"),
    ("total sh!t!", "total shit!"),
    ("you @ss", "you ass"),
    ("what an 1d10t", "what an idiot"),
    ("b u l l s h i t", "bullshit"),
    ("what the f.u.c.k", "what the fuck"),
    ("s-h-i-t", "shit"),
    ("I h8 them", "i hate them"),  # a digit for a syllable
    ("H8ERS gonna h8", "haters gonna hate"),
    ("I hat3 them", "i hate them"),  # a trailing digit only where the word is a known target
    ("k!ll them all", "kill them all"),
    ("fuuuuuck off", "fuck off"),
    ("soooo good", "soo good"),
    ("fu\u0441k", "fuck"),  # Cyrillic es
    ("\u0430ss\u0435s", "asses"),  # mixed Cyrillic a/e inside a Latin word
    ("f\u200bu\u200dck", "fuck"),  # zero-width space and joiner
    ("\uff46\uff55\uff43\uff4b", "fuck"),  # full-width letters (NFKC)
    ("<p>You <b>moron</b>.</p>", "you moron."),
    ("didn&#39;t &amp; won&rsquo;t", "didn't & won\u2019t"),
    # a reference without its ";" reads as a browser shows it; names that need one keep their text
    ("&#102uck you", "fuck you"),
    ("&#x66uck &#0000102uck", "fuck fuck"),
    ("fish &amp chips, caf&eacute", "fish & chips, caf\u00e9"),
    ("AT&T, R&D and Q&As", "at&t, r&d and q&as"),
    ("&#" + "9" * 5000 + "x", "\ufffdx"),  # a number beyond Unicode (and int()'s digit limit) is U+FFFD
    ("&#" + "0" * 5000 + "102uck", "fuck"),  # leading zeros: int() would refuse 5,000 decimal digits
    # tags and references are read in one pass, as a browser reads them: a reference ends at a tag
    ("you &#x66<b></b>aggot", "you faggot"),
    ("&#10<b></b>2uck you", "2uck you"),
    ("&am<b></b>p; &lt;b&gt;x&lt;/b&gt;", "&amp; <b>x</b>"),
    ("<p>one</p><p>two</p>", "one two"),
    ("line\n\nbreaks\tand   spaces ", "line breaks and spaces"),
    ("you \ud800 idiot", "you \ufffd idiot"),  # a lone surrogate: no encoder or hash takes it
    # a capitalised given name is one placeholder word, whatever the name
    ("Dave, your argument ignores the census.", "xxname, your argument ignores the census."),
    ("I agree with Olusegun and Priya's point", "i agree with xxname and xxname's point"),
    ("<b>Mohammed</b> is right", "xxname is right"),
    # a word naming a protected group is one placeholder word, whatever the group
    ("I love Muslims, Jews and refugees", "i love xxgroup, xxgroup and xxgroup"),
    ("Gay people and trans women", "xxgroup and xxgroup xxgroup"),  # "gay people" is the group
    ("Black folk, disabled persons, Jewish voters", "xxgroup, xxgroup, xxgroup voters"),
    ("The Black community and the disabled", "the xxgroup community and the xxgroup"),
    ("LGBTQ+ rights and women's pay", "xxgroup rights and xxgroup's pay"),
    ("a black car, trans fats, polish the brass", "a black car, trans fats, polish the brass"),
    ("he disabled the alarm at the White House", "he disabled the alarm at the white house"),
    ("womanhood, gayness, Islamabad", "womanhood, gayness, islamabad"),  # words that only begin like one
    # left alone
    ("covid19 cases in the g7 cost $5bn", "covid19 cases in the g7 cost $5bn"),
    ("a b c", "a b c"),
    ("\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440", "\u043f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440"),
    ("Scunthorpe United won 3-1", "xxname united won 3-1"),  # a place whose letters hold a swear word: a name
    ("I love reading Dickens, and Hitchcock's films", "i love reading xxname, and xxname's films"),
    ("what the dickens", "what the dickens"),  # in lower case, a word
    ("the 2nd vote on 4/5 of the plan", "the 2nd vote on 4/5 of the plan"),
    ("the g8 summit, cheers m8", "the g8 summit, cheers m8"),
    ("Will the Bill pass? HR Karen says no", "will the bill pass? hr karen says no"),  # words, an insult
    ("DAVE and dave, Davidson and Daves", "dave and dave, davidson and daves"),  # not capitalised names
    # found by a review: emphasis is not a masked word, a code is not leet, text in angle brackets is text
    ("I *am* right about this", "i *am* right about this"),
    ("That song was a *hit*", "that song was a *hit*"),
    ("**I** think the council is right", "**i** think the council is right"),
    ("Thanks #ill miss you", "thanks #ill miss you"),
    ("The A55 was closed again, and the T175 bus", "the a55 was closed again, and the t175 bus"),
    ("I think <you are a worthless idiot> honestly", "i think <you are a worthless idiot> honestly"),
    ("a < b and c > d", "a < b and c > d"),
    ("f*** you", "fuck you"),  # the first letter shows: a mask
    ("kiss my a55, SH1T", "kiss my ass, shit"),  # not capitals-then-digits: leet
    # ... and obfuscations it missed
    ("we should ki11 them all, k|ll them", "we should kill them all, kill them"),  # 1 and | for l
    ("bu11sh1t", "bullshit"),
    ("you are an \u0430\u0455\u0455\u04bb\u043e\u04cf\u0435", "you are an asshole"),  # all look-alikes
    ("you f\u0336u\u0336c\u0336k\u0336 off", "you fuck off"),  # strike-through
    ("y\u0353o\u0337u m\u035co\u0335r\u0338o\u035dn", "you moron"),  # zalgo
    ("cafe\u0301 na\u00efve", "caf\u00e9 na\u00efve"),  # an accent that makes one letter is kept
    ("f\U000e0020u\U000e0020c\U000e0020k you", "fuck you"),  # tag characters
    ("\u0130diot", "idiot"),  # Turkish dotted capital I
    ("you are a m o r o n", "you are a moron"),  # the article is not swallowed
    ("u r a c u n t", "u r a cunt"), ("i h a t e you", "i hate you"),  # nor up to three one-letter words
    ("r a t s", "rats"), ("u r g e n t", "urgent"),  # unless the whole is a word
    ("s h 1 t", "shit"), ("a s s h 0 l e", "asshole"), ("i h 4 t e you", "i hate you"),  # leet among them
    ("h e l l o 4 u", "hello 4 u"), ("w 1 n n e r", "w 1 nner"), ("c 3 p o", "c 3 p o"),  # leet spelling no target
    ("f u c k  y o u", "fuck y o u"),  # two spaces end a word
    ("\U0001f595", "fuck"), ("\U0001f595\U0001f3fd council", "fuck council"),  # the middle finger
    ("\U0001f44d", "\U0001f44d"),
    ("\u202etoidi na era uoy\u202c, said he", "you are an idiot, said he"),  # shown in that order on screen
    # ... but an override left open, or holding an isolate, is only dropped: the text shows as written
    ("<p>hi \u202e</p><p>fuck you, you idiot</p>", "hi fuck you, you idiot"),
    ("\u202e\u2066you are an idiot\u2069", "you are an idiot"),
    ("you are <a total moron>, <i hate you all>", "you are <a total moron>, <i hate you all>"),  # not tags
    ("<a href='x'>you</a> <br/>idiot<b >!</b>", "you idiot!"),  # tags
    ("Take the T175! The A55!", "take the t175! the a55!"),
    ("\uff34\uff11\uff17\uff15 bus", "t175 bus"),  # a code in full-width capitals
    # found by a review: a mask that fits several words is read as the one people mask most, or left as written;
    # an exam grade is no mask
    ("My daughter got three A*s at A-level, and an A**.", "my daughter got three a*s at a-level, and an a**."),
    ("oh s***!", "oh shit!"), ("go to h***", "go to h***"), ("c***", "cunt"), ("kiss my a**", "kiss my ass"),
    # ... accents and look-alike letters that hide an abusive word, and only those
    ("f\u00fcck you, sh\u00eft, c\u00fcnt, m\u00f6ron", "fuck you, shit, cunt, moron"),
    ("sh\u0131t \ua730\u1d1c\u1d04\u1d0b \u0455\u04bb\u0456\u0442", "shit fuck shit"),
    ("caf\u00e9 M\u00fcller na\u00efve Stra\u00dfe", "caf\u00e9 m\u00fcller na\u00efve stra\u00dfe"),
    # ... bullets, stars, daggers and dashes as masks; leet symbols as masks where leet spells nothing
    ("f\u2022ck f\u2217ck sh\u2020t f\u2013ck sh\u00a1t f@ck", "fuck fuck shit fuck shit fuck"),
    ("London\u2013Paris, 50\u00b0C", "london\u2013paris, 50\u00b0c"),
    ("f/u/c/k f,u,c,k f+u+c+k f|u|c|k", "fuck fuck fuck fuck"), ("options a,b,c and n/a", "options a,b,c and n/a"),
    # ... an override left open to the end of its line or paragraph, or written as a reference
    ("\u202etoidi na era uoy", "you are an idiot"), ("<p>\u202etoidi na era uoy</p>", "you are an idiot"),
    ("&#x202e;toidi na era uoy&#x202c;!", "you are an idiot!"), ("ok \u202eabc\ndef", "ok cba def"),
    ("<p>\u202etoidi <b>na</b> era uoy</p>", "toidi na era uoy"),  # a tag inside: the HTML decides
    ("I am certin of it", "i am certin of it"),  # "certain" misspelt, not "cretin"
    # a swear word in a set phrase that gives it its innocent sense reads as a plain word for the thing
    ("The Pussy Willow is out, and pussy-willows", "the catkin willow is out, and catkin-willows"),
    ("Our pussycats, a pussy cat, stop pussyfooting", "our cats, a cat, stop dithering"),
    ("Spotted Dick with custard; I read Moby Dick", "spotted pudding with custard; i read moby whale"),
    ("Cock-a-leekie soup, a cock-and-bull story, cock-a-doodle-doo", "chicken-and-leek soup, a far-fetched story, crowing"),
    ("Turn off the stopcock; the ballcocks; a weathercock", "turn off the stopvalve; the ballvalves; a weathervane"),
    ("The cockerel and two cockerels", "the rooster and two roosters"),
    ("a bastard file, bastard-cut files, a bastard sword", "a coarse file, coarse-cut files, a coarse sword"),
    ("Prick the sausages, pricking out seedlings", "pick the sausages, picking out seedlings"),
    ("she pricked her finger; the dog pricked up its ears", "she picked her finger; the dog perked up its ears"),
    ("'pussy willow', spotted  dick,\nspotted-dick, Moby-Dick", "'catkin willow', spotted pudding, spotted-pudding, moby-whale"),
    ("Faggots and peas, faggots in onion gravy, Brains faggots",
     "meatballs and peas, meatballs in onion gravy, brains meatballs"),
    ("Faggots & peas, faggots, mushy peas and chips, Mr Brain's faggots, a faggot of sticks",
     "meatballs & peas, meatballs, mushy peas and chips, mr brain's meatballs, a bundle of sticks"),
    # ... and the same words said of a person stay as they are, the phrases a review found aimed at people too
    ("you pussy, what a prick, spotted a dick", "you pussy, what a prick, spotted a dick"),
    ("you bastard, stupid bitch, cock", "you bastard, stupid bitch, cock"),
    ("Dick Head. Dick. You Dick Cheese", "dick head. dick. you dick cheese"),
    ("You are a brood bitch, a bitch in whelp", "you are a brood bitch, a bitch in whelp"),
    ("That bastard cut me up; the bastard files suits", "that bastard cut me up; the bastard files suits"),
    ("What a prick the base keeps electing", "what a prick the base keeps electing"),
    ("prick out there, a prick up front", "prick out there, a prick up front"),
    ("faggots and their agenda, you faggot with your parade", "faggots and their agenda, you faggot with your parade"),
    # (a review's finds: "mash" and "chips" may be no food at all)
    ("round up the faggots and mash their heads in", "round up the faggots and mash their heads in"),
    ("those faggots with chips on their shoulders", "those faggots with chips on their shoulders"),
]


@pytest.mark.parametrize("original,expected", CASES)
def test_normalise(original, expected):
    assert normalise(original).text == expected


@pytest.mark.parametrize("original,word,expected_span", [
    ("<p>You absolute <b>moron</b>.</p>", "moron", "moron"),
    ("What a f*ck up", "fuck", "f*ck"),
    ("total b u l l s h i t here", "bullshit", "b u l l s h i t"),
    ("fu\u0441k you", "fuck", "fu\u0441k"),
    ("didn&#39;t you read it, idiot", "idiot", "idiot"),
    ("&#102uck off", "fuck", "&#102uck"),
    ("I H8 them", "hate", "H8"),
    ("Nobody asked you, Olusegun.", "xxname", "Olusegun"),
    ("Why do <i>Muslims</i> get this?", "xxgroup", "Muslims"),
    ("Jews, again", "xxgroup", "Jews"),
    ("Black voters", "xxgroup", "Black"),
    ("Gay people, again", "xxgroup", "Gay people"),
    ("you are a m o r o n", "moron", "m o r o n"),
    ("U r a c u n t!", "cunt", "c u n t"),
    ("what a s h 1 t show", "shit", "s h 1 t"),
    ("you f\u0336u\u0336c\u0336k\u0336 off", "fuck", "f\u0336u\u0336c\u0336k\u0336"),
    ("\u0130diot!", "idiot", "\u0130diot"),
    ("oh \U0001f595\U0001f3fd", "fuck", "\U0001f595\U0001f3fd"),
    ("What a st\u00fcpid plan", "stupid", "st\u00fcpid"), ("fu\u0301ck off", "fuck", "fu\u0301ck"),
    ("well f\u2022ck that", "fuck", "f\u2022ck"), ("oh s***!", "shit", "s***"),
    ("The Pussy willow is out", "catkin", "Pussy"), ("We had <b>spotted dick</b>", "pudding", "dick"),
    ("A bastard-cut file", "coarse", "bastard"),
])
def test_spans_point_into_the_original(original, word, expected_span):
    norm = normalise(original)
    begin = norm.text.index(word)
    b, e = norm.original_span(begin, begin + len(word))
    assert original[b:e] == expected_span


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_keeps_a_consistent_offset_map(text):
    norm = normalise(text)
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    assert all(0 <= s <= e <= len(text) for s, e in zip(norm.starts, norm.ends))
    assert list(norm.starts) == sorted(norm.starts)


_WORDS = "the council vote was close and residents are angry about budget cuts to the library".split()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=30), st.sampled_from([" ", "  ", "\n"]))
def test_plain_lowercase_text_is_unchanged_but_for_spaces(words, sep):
    text = sep.join(words)
    assert normalise(text).text == " ".join(words)


def test_masked_words_resolve_the_same_in_every_process():
    """A mask that fits several words ("p****": prick, pussy) resolves the same whatever the process's
    string-hash salt, so that training on the same data gives the same model."""
    import json
    import os
    import subprocess
    import sys

    texts = ["p**** move", "d*** it", "f***** up", "what a f****** joke", "s***", "b****"]
    code = ("import json, sys; from moderation.normalise import normalise_text; "
            "print(json.dumps([normalise_text(t) for t in json.loads(sys.argv[1])]))")
    outputs = set()
    for seed in ("0", "1", "2", "3", "4", "5"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", code, json.dumps(texts)], env=env, capture_output=True,
                              text=True, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1, outputs


@pytest.mark.parametrize("text", ["a" * 20_000 + "_", "so" + "o" * 19_000 + "0 good", "n" + "o" * 19_000 + "\u00e9",
                                  "<a" + "b" * 20_000, "f u c k " * 2_500, "<a " + " " * 20_000,
                                  "<!--" * 5_000, "<a " + " " * 19_999 + "x"])
def test_normalisation_takes_linear_time_on_pathological_input(text):
    """A comment of the longest size scored in one piece normalises in well under a second (the
    repeat-squeezing pattern once backtracked cubically: hours for 20,000 characters)."""
    import time

    started = time.process_time()
    normalise(text)
    assert time.process_time() - started < 2.0


# Group words: the cheap look for a group word's first run skips no text the full pattern would change -

_GROUP_CASES = [
    "gays", "gay people", "the gays", "black voters", "black cats", "the disabled", "deaf people", "lgbtq+ folks",
    "lgbtq", "lgbtqs", "_gays", "gays_", "o'gays", "muslims, jews and christians", "trans women are women",
    "we the disabled", "disabled parking", "asian-american voters", "africans.", "nothing to see here",
    "\u00e9gays", "gays\u00e9", "2gays gays", "gaysgays gays", "blackest black people", "jews jews, jews", "lgbtq+lgbtq",
]


@pytest.mark.parametrize("text", _GROUP_CASES)
def test_group_word_look_agrees_with_the_full_pattern(text):
    from moderation import normalise as n

    norm = n.Normalised.of(text)
    assert n.mask_group_words(norm) == n._rewrite(norm, n._GROUP_WORD, lambda m: n.GROUP_PLACEHOLDER)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(["gay", "gays", "people", "black", "voters", "the", "disabled", "deaf", "lgbtq", "+",
                                 "_", "'", " ", "  ", ",", "muslims", "folk", "trans", "women", "x", "\u00e9", "2",
                                 "blackest", "jewish", "the disabled", "lgbtq+"]), max_size=12))
def test_group_word_look_agrees_with_the_full_pattern_on_any_joining(parts):
    from moderation import normalise as n

    norm = n.Normalised.of("".join(parts))
    assert n.mask_group_words(norm) == n._rewrite(norm, n._GROUP_WORD, lambda m: n.GROUP_PLACEHOLDER)


# Slips: two letters of an abusive word swapped or one doubled read as the word; English words do not --

@pytest.mark.parametrize("text,expected", [
    ("Go fcuk yourself", "go fuck yourself"),
    ("you are an idoit", "you are an idiot"),
    ("i haet them", "i hate them"),
    ("what scumm", "what scum"),
    ("you idiiot!", "you idiot!"),
    ("FCUKING hell", "fucking hell"),
    ("fuuuuck and fcuk", "fuck and fuck"),
    # English words a slip would make abusive stay as written
    ("the arts and a lair", "the arts and a lair"),
    ("a looser fit, the hatter", "a looser fit, the hatter"),
    ("assess the lira", "assess the lira"),
    ("king cnut", "king cnut"),
    ("best dman in the league", "best dman in the league"),  # and the other listed words (a review's finds)
    ("my lsut for chocolate", "my lsut for chocolate"),
    ("he was retraded to boston", "he was retraded to boston"),
    ("i will admmit it, itts fine", "i will admmit it, itts fine"),
    ("fcuk2 and fcuk_x", "fcuk2 and fcuk_x"),  # not a word of letters alone
])
def test_slips_of_abusive_words_read_as_the_words(text, expected):
    assert normalise(text).text == expected


def test_a_slip_keeps_its_span_in_the_original():
    text = "Well, Fcuk  this, idiiot."
    norm = normalise(text)
    begin = norm.text.index("fuck")
    assert text[slice(*norm.original_span(begin, begin + 4))] == "Fcuk"
    begin = norm.text.index("idiot")
    assert text[slice(*norm.original_span(begin, begin + 5))] == "idiiot"


def test_slips_are_no_target_word_and_no_english_word_listed():
    from moderation import normalise as n
    from moderation.lexicon import GROUP_ADJECTIVES, GROUP_WORDS, OBFUSCATION_TARGETS

    groups = GROUP_WORDS | GROUP_ADJECTIVES
    assert n.SLIPS and all(len(word) >= 4 for word in n.SLIPS.values())
    assert not set(n.SLIPS) & (OBFUSCATION_TARGETS | groups) and not set(n.SLIPS) & (n._NOT_SLIPS | n._NOT_GROUP_SLIPS)
    assert set(n.SLIPS.values()) <= OBFUSCATION_TARGETS | groups
    assert n.SLIPS["fcuk"] == "fuck" and n.SLIPS["scumm"] == "scum" and "arts" not in n.SLIPS
    assert n.SLIPS["musilms"] == "muslims" and n.SLIPS["immigrnts"] == "immigrants" and n.SLIPS["disbaled"] == "disabled"
    # a letter missing only from group words of seven letters or more, never the first or last ("igrants", "jew")
    assert "mslims" in n.SLIPS and "wmen" not in n.SLIPS and "igrants" not in n.SLIPS and "muslim" not in n.SLIPS


def test_no_slip_is_a_word_the_model_learnt():
    """A slip that is itself a common word ("morons" of "mormons", "refuge" of "refugee") would rewrite what a
    commenter meant: none is among the shipped model's words (its training data's most common)."""
    from moderation import normalise as n
    from moderation.scorer import load_scorer

    learnt = set(load_scorer().violation.featurizer_.seeds)
    assert learnt and not (set(n.SLIPS) & learnt) - {"jiggaboo"}  # a spelling of the slur it is a slip of


@pytest.mark.parametrize(("text", "expected"), [
    ("Musilms are all savages.", "xxgroup are all savages."),
    ("Immigrnts are parasites.", "xxgroup are parasites."),
    ("Disbaled people are a waste of space.", "xxgroup are a waste of space."),
    ("G a y people are vermin.", "xxgroup are vermin."),
    ("the jeeews", "the xxgroup"),
    ("Mormons are friendly and so are morons", "xxgroup are friendly and so are morons"),
    ("a refuge for refugees, not refuges", "a refuge for xxgroup, not refuges"),
    # names, words and other languages' words that are slips of a group word or a slur stay themselves (a review's finds)
    ("Raab, Christina, Cristian, Romain, Milvus migrans", "raab, christina, cristian, romain, milvus migrans"),
    ("pakistans army, jeg vet ikke, Paksi FC", "pakistans army, jeg vet ikke, paksi fc"),
    ("a b c and x y z", "a b c and x y z"),
])
def test_misspelt_or_spread_out_group_words_read_as_the_group(text, expected):
    assert normalise(text).text == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("before the n*ggers moved in", "before the niggers moved in"),
    ("typical k*kes", "typical kikes"),
    ("the tr*nnies", "the trannies"),
    ("you f@ggot", "you faggot"),
    ("p4ki", "paki"),
    ("towleheads", "towelheads"),
    ("t o w e l h e a d s", "towelheads"),
    # a mask that fits a swear word or an insult still reads as it did before slurs were listed
    ("k***s", "kills"),
    ("w******", "wankers"),
    ("he's a s******", "he's a scumbag"),
    # a slur only where more than half its letters show: a mask may hide any word ("tosser", "buggers", "wazzocks")
    ("t*****, t*******, b****rs, w******s, s*****r", "t*****, t*******, b****rs, w******s, s*****r"),
    ("p***s, w**, g****", "p***s, w**, g****"),
    ("n***ers, p**i", "niggers, p**i"),
    ("spick and span, a chink of light, fag break", "spick and span, a chink of light, fag break"),
])
def test_masked_or_misspelt_slurs_read_as_the_slur(text, expected):
    assert normalise(text).text == expected


# The cheap looks before the steps' regular expressions: a look may say a text needs a step when it does
# not, never that it does not when it does. Each is checked against the exact condition it stands for, on
# text as its step sees it (the steps after ``lower`` see lower-case text).

def _exact_conditions():
    from moderation import normalise as n

    def leet(text):  # the step, without its look, changes the text
        norm = n.Normalised.of(text)
        return n._undo_leet(norm) != norm

    return {  # look: (exact condition, whether its step comes after lower)
        n._may_hold_surrogates: (lambda t: n.LONE_SURROGATE.search(t) is not None, False),
        n._may_hold_invisible: (lambda t: n._INVISIBLE.search(t) is not None, False),
        n._may_override: (lambda t: n._MAY_OVERRIDE.search(t) is not None, False),
        n._may_space_out: (lambda t: n._SPACED.search(t) is not None, True),
        n._may_name_someone: (lambda t: any(w in n._NAMES for w in n._CAPITALISED.findall(t)), False),
        n._may_hold_leet: (leet, True),
        n._may_repeat: (lambda t: n._REPEAT.search(t) is not None, True),
        n._may_slip: (lambda t: any(w in n.SLIPS for w in n._LETTER_WORD.findall(t)), True),
        n._may_space_oddly: (lambda t: n._SPACES_HINT.search(t) is not None, True),
        n._may_name_a_group: (lambda t: not n._GROUP_WORD_STARTS.isdisjoint(n._WORD_RUN.findall(t)), True),
        n._may_hold_innocent_sense: (lambda t: n._INNOCENT_SENSE.search(t) is not None, True),
    }


def _check_looks(text):
    from moderation import normalise as n

    for look, (exact, after_lower) in _exact_conditions().items():
        seen = n.lower(n.Normalised.of(text)).text if after_lower else text
        if exact(seen):
            assert look(seen), (look.__name__, seen)


_LOOK_CASES = [
    "Dave\u2019s point", "Dave's point", "Dickens' novels",
    "DAVE and dave", "McDave", "Dave2", "what a fcuk\u2019 up", "fcuk2", "caf\u00e9 idoit",
    "idoit\u00e9", "\u00e9idoit", "\x1cfine", "fine\x1c", "one\x0btwo", "a\x7fb", " lead", "trail ", "a  b", "a\tb",
    "a\u00a0\u00a0b", "a\u00a0b", "\u2003x", "sooo", "SOOO", "so\u00f6\u00f6", "women\u2019s", "women2", "xwomen",
    "covid19", "idiot!!", "sh1t", "!!!", "a!b", "#metoo", "@nytimes", "$5", "f\u00fcck sh1t\u2019", "\ud800x", "x\u200by",
    "gay\u2019 people", "Dick Smith",
    "pussy willow", "spotted dick", "a bastard file", "A55 road",
    "l33t", "\u00a00Jews", "f#ck", "f%ck", "sh!t", "a$$", "f||ck", "h8", "t+", "",
    " ", "plain words only",
    "\u202etoidi", "&#x202e;toidi", "&RLO;x", "b u l l", "f.u.c.k", "s-h-i-t", "_f u c k", "*f u c k", "@b u m",
    "f u c k_", "s h 1 t", "s h 2 t", "a b C", "e.g. a", "b\u00b7u\u00b7m", "x\ta b c", "b . u . m", "b  u  m",
    "a $ s", "a s s@", "f|u|c|k", "!diot", "a!!1",  # each would pass a look missing one class or scan (a review)
]


@pytest.mark.parametrize("text", _LOOK_CASES)
def test_each_cheap_look_says_yes_where_its_step_would_act(text):
    _check_looks(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(list("abcdeflostuwxyzADS 019!@$*_#|+.\t\n\x0b\x1c\x1f\x00\x7f'-,/&")
                                + ["\u00a0", "\u2003", "\u200b", "\u00e9", "\u2019", "\u20ac", "\ud800", "\u0130",
                                   "\u202e", "\u00b7", "&#x202e;", "&rlo;", "u r a",
                                   "Dave", "women", "fcuk", "idoit", "sh1t", "sooo", "gay", "Jews", "Dick", "pussy",
                                   "willow", "stopcock", "spotted", "file"]), max_size=30))
def test_each_cheap_look_says_yes_where_its_step_would_act_on_any_text(parts):
    _check_looks("".join(parts))
