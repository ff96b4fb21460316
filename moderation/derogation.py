"""Dehumanising or derogatory generalisations about a protected group, violence wished on it and hatred of it,
found by their shape.

The example policy forbids "hateful or dehumanising generalisations about people because of their ethnicity,
religion, nationality, gender, sexuality, disability or similar". The model reads short statements about a
group more by their shape than their words (README, Known gaps): "Women are disgusting and worthless." scored
0.13 for identity attack while "Women are here." scored 0.71. This rule finds the plainest forms of such
statements in a normalised text, where every word naming a protected group is already one placeholder
(``normalise.mask_group_words``):

- a generalisation, the group the subject where its clause begins (or after a lead-in such as "but" or "I
  think"), "are" (not "were": history is mostly a report), and a word or phrase that dehumanises or demeans
  (``PREDICATES``) ending its phrase, with only intensifiers between ("Muslims are nothing but vermin", "you gays
  are all disgusting", "Immigrants are like animals.", "Women are too stupid to vote", "Women are inferior
  beings", "Gay people are vermin spreading disease"); also asked as a question that takes it as given ("Why are
  women so stupid?");
- violence wished on the whole group, said of it where its clause begins ("Black people should all be killed",
  "Every Muslim should be killed", "Muslims don't deserve to live"), or urged by the writer where the sentence
  begins ("Kill all immigrants", "We should exterminate the gays", "Death to Jews");
- the writer's own hatred of the whole group, where the sentence begins ("I hate Muslims", "I despise women");
- since 2026-12-08: disgust at the whole group ("Immigrants make me sick", "Gay people disgust me"), the group put
  in a cage, a prison or the kitchen ("Women belong in the kitchen"), the old conspiracy of a group in charge ("Jews
  control the media"), distrust of the whole group urged where the sentence begins ("Never trust a Muslim"), the
  writer's threat to each one met ("I'll kill every Muslim I see"), questions that take a generalisation as given
  ("Why is it that all immigrants are criminals?", "Isn't it obvious that women are inferior?") and the world said
  to be better without the group ("We'd be better off without immigrants", "Wouldn't the world be better without
  Jews?"), and positives denied of the whole group ("I don't respect women", "Muslims can't be trusted",
  "Immigrants are not worth anything"; a seventh review found protest ("The verdict is clear: Black lives don't
  matter"), the writer's own correction ("I don't like women, I love them"), "and neither can men", conditions and
  others' views held, all tests now).
- hate carried by a pronoun: in a clause after people the writer has met ("I have met many Muslims and I hate every
  single one of them"), or in the next sentence after a short one about the whole group, with nothing else between
  that the pronoun could stand for ("Refugees think they are special. I hate them.", "Immigrants keep coming. They
  are vermin."; not "Muslims are attacked by thugs. I hate them.").

The scorer raises identity attack (and so incitement) to at least ``FLOOR`` for a comment that holds one, citing
the statement as evidence: high enough to be held for a moderator under the example policy (hold 0.35), not to be
rejected unseen (0.75).

Left alone: a negated statement ("Women are not disgusting", "Not all immigrants are criminals", "Muslims should
never be killed", "I don't hate Muslims"), one not where its clause or sentence begins ("Violence against women is a
disgrace", "Only 2% of immigrants are ...", "Saying women are disgusting is wrong", "Trump believes Mexicans are
...", "Hamas wants to kill all Jews", "Hitler's plan was simple: exterminate the Jews"), one after a time, place or
someone's view put first ("Until 1967, gays were ...", "For Hamas, Jews have no right to exist"), one said to be
someone else's in its sentence or the next ("according to", "said", "shouted", "That's what the man yelled"), called
a trope by the next sentence, sarcasm ("Yeah, ...", "Apparently, ...", "/s"), a question that does not take it as
given ("Do you think Muslims are terrorists?", "Should we kill all Muslims?", "Why are Muslims the terrorists in
every film?"), a quotation (of one sentence or several), one person or particular people ("This woman is
disgusting", "The woman should die in prison", "These Christians are a disgrace"), some of the group ("I hate
Christians who ..."), and a word inside another phrase ("Women are not human incubators", "Women should not live and
work in fear", "... should be hanged for what they did", "... should hang out together").

Hate said in other shapes (a pronoun further off, an opinion without such a word, most exclusion) is left to the
model.
Two reviews ran the generalisations over the corpus and the public data (95,552 texts): the second found them firing
on 18 texts, each the writer's own hateful generalisation. The other shapes, the words after a predicate and the
question were added later, from the kinds of hate that published functional test suites describe (not from any of
their cases); a third and a fourth review found harmless comments their drafts held and a slowdown on long lists of
groups. The shapes of 2026-12-08 were written the same way; over 148,435 public and corpus texts (stance data too)
they fire on 2 more, both labelled hateful ("women belong in the kitchen, not in the boardroom"). A fifth review
found their drafts holding warnings ("Kill the Jews and you become the Nazis"), sport ("We can hurt the Mexicans"),
equality comebacks ("Women belong in the kitchen, and so do men"), lists going on to some of the groups ("Never
trust Muslims or Christians who preach violence"), conspiracies named as such, leading questions answered "no",
and every contraction typed with a typographic apostrophe missed; a sixth found the first fixes losing hate in the
older shapes too ("I'm not racist... but Muslims are vermin", "Kill all Jews and the world will be better", "I hate
all Muslims and all Jews", "Why are women so stupid? No idea."). The synthetic inputs each review found are tests.
"""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple

from .normalise import GROUP_PLACEHOLDER

__all__ = ["AFFIRMED_AT_MOST", "FLOOR", "PREDICATES", "affirmation_only", "derogation_spans", "with_line_ends"]

FLOOR = 0.7
# What identity attack (and so incitement), toxicity and personal attack score at most for a comment that only affirms a group
# (``affirmation_only``): under every hold line of the example policy (0.35 the lowest).
AFFIRMED_AT_MOST = 0.2

# Words and phrases that, said of a whole group, dehumanise it (vermin, animals, a disease) or demean it (worthless,
# inferior, criminals). Written from the kinds of derogation and dehumanisation that hate-speech test suites
# describe, not from any test case.
PREDICATES = tuple(sorted(set("""vermin parasites parasite rats cockroaches roaches animals beasts savages savage subhuman
    subhumans inferior filth filthy scum scumbags trash garbage rubbish disgusting revolting repulsive vile worthless
    useless evil dirty stupid idiots morons imbeciles criminals rapists terrorists thieves pigs dogs apes monkeys
    freaks perverts degenerates degenerate paedophiles pedophiles predators disease diseased plague cancer virus
    infestation burden disgrace menace pests pest leeches maggots insects lice swine barbarians primitive
    unclean pathetic lazy ugly hideous gross nasty violent dangerous dishonest untrustworthy backward brainless
    dumb retarded abominations""".split()) | {"less than human", "not human", "not even human", "sub human", "sub-human",
                                              "waste of space", "mentally ill", "a drain", "an abomination"},
                          key=len, reverse=True))
# A word for people after the word, which is still its phrase ("Women are inferior beings").
_PEOPLE_AFTER = r"(?:\s+(?:people|human beings|beings|creatures|humans|individuals|specimens|things))?"

# Between the verb and the word: intensifiers, articles and the like only ("are all just a bunch of ...").
_BETWEEN = (r"(?:(?:all|just|only|such|so|really|truly|literally|basically|simply|always|naturally|inherently|"
            r"genetically|clearly|obviously|the|a|an|bunch|pack|load|lot|lots|of|like|complete|total|utter|absolute|"
            r"most|very|too|fucking|bloody|damn|dirty|filthy|disgusting|vile|worthless|evil|stupid|useless|lazy|"
            r"primitive|violent|dangerous|dishonest|nasty|dumb|ugly|gross|backward|brainless|hideous|retarded|"
            r"little|born|nothing but|nothing more than|no better than|no more than)\s+)*")
# The group is the subject of its clause, which begins there or with one of these lead-ins (a later review found
# "violence against women is a disgrace", "only 2% of immigrants are ...", "Trump believes Mexicans are ..."): the
# statement is the writer's own. Only the plural verbs: "This woman is disgusting" is about one person.
_LEAD_IN = re.compile(r"(?:and|but|so|honestly|frankly|seriously|look|face it|let's face it|the truth is|the fact is|"
                      r"i think|i believe|i feel|i reckon|i know|we all know|everyone knows|in my opinion|imo|"
                      r"personally|to be honest|tbh|truthfully|to be frank)"
                      r"(?:\s+that)?")

# The subject: the group, maybe with a word for people after it ("Muslim men", read "xxgroup men"), or a list of
# groups ("Muslims, Jews and gays"), which must begin the clause as a whole (a review found "hate crimes against
# Jews, Muslims, and gays are disgusting" read from its last group); at most 21 groups, so that a long list is not
# read to its end again from each of its groups (a review timed 18 s on 90,000 characters of "Muslim men, ...").
_ONE = (GROUP_PLACEHOLDER + r"(?:\s+(?:" + GROUP_PLACEHOLDER
        + r"|men|women|boys|girls|lads|guys|kids|youths|people|person|man|guy|boy|girl|kid))?")
_ANOTHER = r"(?:\s*,?\s+(?:and|or|&)\s+(?:(?:all|the|every|any)\s+)?" + _ONE + r")"
_GROUPS = _ONE + r"(?:\s*,\s*" + _ONE + r"){0,20}" + _ANOTHER + "?"
# After a group that ends a match: not a shorter list read from one that goes on to say which of them ("Never trust
# Muslims or Christians who preach violence" is about some of them; "I hate Muslims and Jews alike" is not, nor
# "Kill all Muslims, who ..." with its comma).
_LIST_ENDS = (r"(?!(?:\s*,\s*" + _ONE + r"){0,20}" + _ANOTHER + r"?\s+(?:who|whom|whose|that|which)\b(?!'))")
_SUBJECT = r"(?:(?:all|most|the|you|u)\s+)?" + _GROUPS
_PREDICATE = r"(?:" + "|".join(re.escape(p) for p in PREDICATES) + r")" + _PEOPLE_AFTER
# ... and the word ends its phrase ("not human incubators", "the dirty little secret" are other statements), or a
# participle goes on to say more of the same ("vermin spreading disease").
_PHRASE_END = (r"(?=\s*$|\s*[^\w\s']|\s+(?:and|or|but|who|that|which|like|on|in|to|for|of|with|from|at|than|as)\b"
               r"|\s+(?!during\b|\w*thing\b|morning\b|evening\b)[a-z]{3,}ing\b)")
# A participle after "a" or "an" and the word may make a compound of them ("a burden sharing problem").
_COMPOUND = re.compile(r"\s+[a-z]+ing\b")
_AFTER_AN_ARTICLE = re.compile(r"\ban?\s+\S+$")
# Not where a list of groups goes on ("Muslims, Jews and gays"): the list was read from its first group, and trying
# every group of a long list again would read it again each time.
_NOT_LISTED = "".join(f"(?<!{GROUP_PLACEHOLDER}{sep})" for sep in (",", ", ", " , "))
_GENERALISATION = re.compile(r"(?<![\w'])" + _NOT_LISTED + _SUBJECT + r"\s+(?:are|r)\s+" + _BETWEEN + _PREDICATE
                             + _PHRASE_END)
# A question that takes it as given that the group is so ("Why are women so stupid?"), with no contrast after it
# ("Why are Muslims so violent but Christians not?" asks about a double standard); other questions are left alone.
_WHY = re.compile(r"(?<![\w'])why\s+(?:are|r)\s+(?:all\s+)?" + _ONE + r"\s+(?:all\s+)?so\s+(?:fucking\s+)?"
                  + _PREDICATE + r"(?=\s*[?!\u203d]|\s*$)")
_CONTRAST = re.compile(r"\b(?:but|while|whereas|unlike|compared|than)\b")
# Violence wished on the whole group, said of it ("Muslims should all be killed", "Every Jew should be gassed",
# "Immigrants don't deserve to live"): the violence ends the sentence or its clause, or "again", "now" and the like
# follow ("Black men have to die on camera before ...", "... should be hanged for what they did", "Women should hang
# on to their names", "Women should not live and work in fear" are other statements). Each shape is written so that
# a negation cannot stand in it ("should never be killed"), except where the negation is the threat ("don't
# deserve to live").
_HARMED = (r"(?:killed|murdered|shot|shot dead|exterminated|wiped out|wiped off the face of the earth|eradicated|"
           r"gassed|hanged|hung|lynched|burned|burnt|burned alive|burnt alive|executed|slaughtered|"
           r"massacred|butchered|culled|put down|euthanised|euthanized|sterilised|sterilized|castrated|beheaded|"
           r"stoned to death|annihilated|drowned|strung up|tortured|lined up and shot|put in camps|"
           r"put in gas chambers|removed from (?:this|the) (?:earth|planet|world)|removed from the face of the earth|"
           r"wiped from the face of the earth|erased from (?:this|the) (?:earth|planet)|wiped off the map)")
# (No possessive quantifiers here: Python 3.11.2, which CI runs, matched "I hate all Muslims, they ..." with its comma.)
_ADVERBS = r"(?:(?:all|just|simply|really|fucking|bloody|finally|each|every one|all of them)\s+)*"
_THEN = r"(?:again|now|already|immediately|completely|too|as well|all of them|every one of them|once and for all)"
# (A hyphen joining a word is no end: "get rid of women-only shortlists".)
_ENDED = r"(?=\s*(?:[^\w\s'-]|-(?!\w)|$)|\s+(?:and|or|but|" + _THEN + r")\b)"
_ENDED_LIFE = r"(?=\s*(?:[^\w\s',]|$)|\s+(?:" + _THEN + r"|anymore|any more|at all|on this earth)\b)"
_WHOLE = r"(?:(?:all|every|each|of|the)\s+){0,3}" + _GROUPS
_WISHED = re.compile(
    r"(?<![\w'])" + _NOT_LISTED + _WHOLE + r"\s+(?:"
    + r"(?:should|must|ought to|deserve to|deserves to|need to|needs to)\s+" + _ADVERBS
    + r"(?:be\s+" + _ADVERBS + _HARMED + r"|die|perish|burn|hang|rot in hell)" + _ENDED
    + r"|(?:don't|dont|do not|doesn't|does not)\s+(?:even\s+)?deserve\s+to\s+(?:live|exist|breathe)" + _ENDED_LIFE
    + r"|(?:should not|shouldn't|should never|must not|mustn't)\s+(?:even\s+)?(?:be allowed to\s+)?(?:live|exist|breed)"
    + _ENDED_LIFE
    + r"|(?:have|has)\s+no\s+right\s+to\s+(?:live|exist)" + _ENDED_LIFE + r")")
# ... or urged by the writer, at the start of the sentence: "Kill all immigrants", "We should exterminate the gays",
# "I'm going to kill all Jews", "Death to Jews". After a comma or colon such words are mostly a report ("Cops,
# sadly, kill black people with impunity", "Hitler's plan was simple: exterminate the Jews", "The graffiti read:
# Death to Jews"), and "I" or "we" needs a modal ("In the West, we kill Muslims with drones" is a report).
# Words between the verb and the group; a verb with an everyday sense needs one ("I shoot women and landscapes").
_WHICH = r"(?:(?:all|every|each|any|the|them|of|last|single|one|next|fucking|damn|bloody|dirty|filthy)\s+)"
_EVERY = r"(?:(?:all|every|each|any)\s+)"
# ... where the writer may say which of them: each one met ("I'll kill every Muslim I see", "... on sight").
_MET = (r"(?:\s+(?:that\s+|who\s+)?(?:i|we|you)\s+(?:see|meet|find|come across|run into|can find|get (?:my|our|your) hands on)"
        r"|\s+on sight|\s+in\s+(?:this|our|the)\s+(?:country|nation|town|city|world|land|area))?")
# "Kill the Jews and you become the Nazis", "Harm any Muslim and you harm us all": a warning, not a wish (after a bare
# imperative only: "Let's kill all Muslims and ..." is none).
_WARNING = re.compile(r"\s*,?\s+and\s+(?:you|you'll|you've|you're)\b")
# The verbs urged, by how much they need before the group: nothing, "the" or more, or "all", "every" or "any".
_KILL = "kill|murder|exterminate|lynch|eradicate|behead|massacre|butcher|annihilate|rape|genocide"
_SHOOT = "shoot|gas|hang|execute|burn|nuke|wipe out|slaughter|harm"
_BARE_VERB = re.compile(r"(?:" + _KILL + "|" + _SHOOT + r"|hurt|stab|torture)\b")
_URGED = re.compile(
    r"(?:(?:(?:let's|lets|let us|it's time to|time to)\s+|(?:i|we|someone|somebody)\s+(?:will|would|should|must|need to|"
    r"have to|ought to|want to|wanna|gotta|got to|could|can|shall|am going to|are going to|am gonna|are gonna)\s+"
    r"|(?:i'll|we'll|i'd|we'd)\s+|(?:i'm|we're)\s+(?:going to|gonna)\s+)?" + _ADVERBS
    + r"(?:(?:" + _KILL + r"|get rid of|stab|torture)\s+" + _WHICH + r"*|(?:" + _SHOOT + r")\s+" + _WHICH
    + r"+|hurt\s+" + _EVERY + _WHICH + r"*)"
    r"|death\s+to\s+(?:(?:all|the|every)\s+)?)" + _GROUPS + _MET + _LIST_ENDS + _ENDED)
# Suffering the writer wishes to see, or means to cause, where the sentence begins ("I'd love to see Muslims suffer",
# "I'll make sure you gays suffer"; not "I'd hate to see refugees suffer", nor "those" people).
# Only wishes ("I'd love to see", "I want to see", "I can't wait to see", "I hope") and the writer's own doing ("I'll
# make sure"): "We will see refugees starve" is a prediction (a review found it held).
_SUFFER = (r"(?:all\s+)?(?:suffer|burn|die|bleed|rot|hang|starve|drown|perish|rot in hell|burn in hell|burn alive|"
           r"be\s+" + _HARMED + r"|" + _HARMED + r")(?:\s+in\s+(?:hell|agony|pain|misery|a fire|the sea))?")
_SUFFERED = re.compile(
    r"(?:(?:(?:i'd|id|i would|we'd|we would|would)\s+(?:really\s+|just\s+)?(?:love|like|enjoy)\s+to|(?:i|we)\s+(?:really\s+)?"
    r"(?:want|wanna)\s+to|(?:i|we)?\s*(?:can't|cant|cannot)\s+wait\s+to)\s+(?:see|watch)"
    r"|(?:(?:i'll|we'll|i will|we will|i'm going to|we're going to|i'm gonna|we're gonna|gonna|i'd|we'd)\s+)?"
    r"(?:make sure|ensure)(?:\s+that)?"
    r"|(?:i|we)\s+(?:really\s+|just\s+)?(?:hope|wish)(?:\s+that)?)"
    r"\s+(?:(?:all|the|every|you)\s+)*" + _GROUPS + r"\s+" + _SUFFER + _ENDED
    + r"|(?:i|we)\s+(?:really\s+|just\s+)?(?:want|wish|need)\s+(?:(?:all|the|every|you)\s+)*" + _GROUPS
    + r"\s+to\s+" + _SUFFER + _ENDED)
# The writer's own hatred of the whole group, at the start of the sentence ("I hate Muslims", "I despise women"):
# not of some of it ("I hate Christians who ...", "... with extremist views").
_HATED = re.compile(
    r"(?:i|we|we all)\s+(?:(?:really|just|fucking|truly|honestly|absolutely|genuinely|simply|do|so|seriously)\s+)*"
    r"(?:hate|despise|loathe|detest|abhor|can't stand|cannot stand|can not stand)\s+"
    r"(?:(?:all|the|you|every|single|of|fucking|damn|bloody|dirty|filthy|stinking)\s+)*" + _GROUPS + _LIST_ENDS
    + r"(?=\s*(?:[^\w\s']|$)|\s*,?\s+(?:and|but|so|because|cause|cos|they|more|too|as much)\b)")


# The sentence or its clause ends (not "and" or "now": "Women belong in the kitchen and the boardroom", "Women
# run the media now, and good for them"); after a comma, not "and" or "too" ("..., and so do men").
_CLAUSE_ENDS = (r"(?=\s*(?:[.!;:?\u203d)\u2013\u2014]|$)"
                r"|\s*,(?!\s*(?:and|too|as well|just like|same as)\b))")
# After an ellipsis, the sentence may go on ("Women belong in the kitchen... and the boardroom", "... if they want").
_GOES_ON = re.compile(r"\W*(?:and|or|but|if|unless|as long as|when)\b")
# Disgust at the whole group, said of it where its clause begins ("Immigrants make me sick", "Gay people disgust
# me"): not of what is done to it ("Attacks on Muslims make me sick" begins its clause elsewhere).
_DISGUSTED = re.compile(
    r"(?<![\w'])" + _NOT_LISTED + _SUBJECT + r"\s+(?:(?:all|just|really|honestly|literally|fucking|frankly)\s+)*"
    r"(?:(?:make|makes)\s+me\s+(?:so\s+|feel\s+|physically\s+|fucking\s+)?(?:sick|ill|nauseous|puke|vomit|throw up|"
    r"want to (?:puke|vomit|throw up|be sick))|(?:disgust|disgusts|repulse|repulses|revolt|revolts|sicken|sickens|"
    r"nauseate|nauseates)\s+me)"
    r"(?!\s*,\s*(?:the way|how|when|what|seeing|watching|to see|hearing|the things)\b)"
    r"(?=\s*(?:[^\w\s']|$)|\s+(?:and|but|so much|to (?:my|the) (?:stomach|core|bones)|" + _THEN + r")\b)")
# The whole group put in a cage, a prison, a camp or the kitchen, where its clause begins ("Women belong in the
# kitchen", "Immigrants belong in cages"): the place ends the sentence or its clause ("Immigrants belong in prison
# if they ..." is about some of them).
_BELONGING = re.compile(
    r"(?<![\w'])" + _NOT_LISTED + r"(?:(?:all|most|the|you|a|every)\s+)?" + _GROUPS + r"(?:\s+(?:(?:all|only|just|really)\s+)*"
    r"(?:belong|belongs)\s+(?:only\s+)?(?:in|behind|at|on|under|in a|in the|on a|on the|under the|behind the|at the)\s+"
    r"(?:kitchens?|cages?|zoos?|gutters?|jails?|prisons?|camps|concentration camps|gas chambers|ovens|hell|ditch|"
    r"ditches|trash|bin|dustbin|sewers?|chains|bars|ground|graves?|asylums?|barns?|stables?)"
    r"|'s\s+place\s+is\s+(?:only\s+)?in\s+the\s+(?:kitchen|home))"
    r"(?:" + _CLAUSE_ENDS + r"|(?=\s+not\s+(?:in|at|on)\b))")
# The old conspiracy of a group secretly in charge, where its clause begins ("Jews control the media", "... own the
# banks"); running things without the conspiracy's objects is no such statement ("Women run the household").
_RUN_WORDS = "media|banks|press|hollywood|financial system|banking system|federal reserve|fed|wall street"
_RUN = r"(?:" + _RUN_WORDS + r")"
_CONTROL = r"(?:" + _RUN_WORDS + r"|world|global finance)"
_CONTROLLED = re.compile(
    r"(?<![\w'])" + _NOT_LISTED + _SUBJECT + r"\s+(?:(?:all|secretly|really|basically|literally|clearly|obviously)\s+)*"
    r"(?:(?:control|controls|own|owns|are controlling)\s+(?:all\s+(?:of\s+)?)?(?:the\s+)?" + _CONTROL
    + r"(?:\s*,?\s+(?:and|&)\s+(?:the\s+)?" + _CONTROL + r")?"
    + r"|(?:run|runs)\s+(?:all\s+(?:of\s+)?)?(?:the\s+)?" + _RUN + r"(?:\s*,?\s+(?:and|&)\s+(?:the\s+)?" + _RUN + r")?)"
    + _CLAUSE_ENDS)
# Distrust of the whole group, urged where the sentence begins ("Never trust a Muslim", "You can't trust Jews"): one
# "a" or "any" names the whole group here, a plural name or "every" too.
_DISTRUSTED = re.compile(
    r"(?:(?:never|don't|dont|do not)\s+(?:ever\s+)?|(?:you|we|one|i)\s+(?:can't|cant|cannot|can not|can never|should "
    r"never|shouldn't|should not|could never|would never)\s+(?:ever\s+)?|(?:i'd|we'd)\s+never\s+(?:ever\s+)?)trust\s+"
    r"(?:(?:a|an|any|all|every|the)\s+)?" + _GROUPS + _LIST_ENDS + _ENDED)
# Hatred of the group carried by a pronoun: in a second clause about people the writer has met ("I have met many
# Muslims and I hate every single one of them"), or in the next sentence after a short one about the group as a
# whole ("Refugees think they are special. I hate them.", "Immigrants keep coming. They are vermin."), where nothing
# else the pronoun could stand for comes between: no preposition ("Muslims are attacked by thugs. I hate them."), no
# article, determiner or "and" ("Muslims fear the far right", "Muslims and the police clashed"), no other plural
# ("Women face double standards"), no passive ("Women get raped. They are animals."), no negation ("Refugees are not
# criminals. I hate them."); a review found each held.
_THEM_ALL = r"(?:them(?:\s+all)?|all of them|every (?:single )?one of them|each (?:and every )?one of them)"
_HATE_VERB = (r"(?:(?:really|just|honestly|fucking|truly|absolutely)\s+)*(?:hate|despise|loathe|detest|can't stand|"
              r"cannot stand)")
_MET_AND_HATED = re.compile(
    r"(?:i|we)(?:'ve|\s+have|\s+had)?\s+(?:(?:met|known|seen|worked with|lived with|lived among|lived next to|grown up with|"
    r"dealt with|been around)|(?:know|knew|grew up with))\s+(?:(?:many|lots of|a lot of|plenty of|loads of|some|enough|"
    r"hundreds of|dozens of|so many|too many|a few|all kinds of)\s+)?" + _GROUPS
    + r"(?:\s+in my (?:life|time)|\s+over the years)?\s*,?\s+(?:and|but)\s+(?:i\s+)?" + _HATE_VERB + r"\s+" + _THEM_ALL
    + _ENDED)
_TOPIC = re.compile(r"[^\w']*(?:(?:all|the|most)\s+)?(" + _GROUPS + r")\s+(?!(?:who|that|which|whom)\b)")
_ANOTHER_REFERENT = re.compile(
    r"\b(?:by|of|for|from|with|against|than|like|about|at|to|on|in|into|over|under|the|a|an|this|that|these|those|their|"
    r"our|my|your|his|her|its|and|or|nor|not|no|never|nobody|nothing)\b|n't\b"
    r"|\b(?!(?:always|perhaps|nowadays|sometimes|afterwards|towards|besides|anyways)\b)[a-z]{2,}(?<!ss|us|is)(?<!ou)s\b"
    r"|\b(?:are|were|be|been|being|get|gets|got|gotten|getting|is|was)\s+(?:\w+\s+)?\w+(?:ed|en)\b")
_BY_PRONOUN = re.compile(
    r"[^\w']*(?:(?:honestly|frankly|god|seriously)\s*,?\s+)?(?:(?:i|we)\s+" + _HATE_VERB + r"\s+" + _THEM_ALL
    + r"(?:\s+(?:so much|with a passion|more than anything))?|(?:they\s+(?:are|r)|they're)\s+" + _BETWEEN + _PREDICATE
    + r")(?=\s*[.!\u203d]*\s*$)")
# ... unless the writer then says whom they meant ("Women get abuse online. I hate them. The trolls.").
_MEANT = re.compile(r"\W*(?:the|those|these|i mean|i meant|meaning|that is|just kidding|kidding|joking|not really)\b")
# A positive said not to hold of the whole group ("negated positives"): the writer's own lack of regard, where the
# sentence begins ("I don't respect women", "I will never trust Muslims"; not "want" or "accept", which immigration
# policy says: "We can't accept more refugees"), and the group said not to be trusted or to be worth nothing, where
# its clause begins ("Muslims can't be trusted", "Immigrants are not worth anything"). Not "... lives don't matter",
# which protest says as often ("The verdict is clear: Black lives don't matter."). The sentence or its clause ends
# there, without "and neither ...", "or men", "unless ...", "as far as ..." or the writer's own correction ("I don't
# like women, I love them"; a review found each held).
_NEGATED_ENDS = (r"(?:\s+(?:at all|anymore|any more|one bit|one iota|an inch|whatsoever))?"
                 r"(?=\s*(?:[.!;:?\u203d)\u2013\u2014]|$)|\s*,(?!\s*(?:and|or|nor|neither|too|as|just like|same as|unless|"
                 r"if|except|when|until|not|but|i|i'm|we|it seems|evidently|is the|was the)\b)|\s+because\b)")
_DISREGARDED = re.compile(
    r"(?:(?:i|we)\s+(?:(?:really|just|honestly|simply|personally)\s+)*(?:don't|dont|do not|can't|cant|cannot|can never|"
    r"will never|won't|could never|would never|never)|(?:i'll|we'll|i'd|we'd)\s+never)\s+(?:ever\s+)?"
    r"(?:respect|like|trust|tolerate)\s+(?:(?:any|all|the)\s+)?" + _GROUPS + _LIST_ENDS + _NEGATED_ENDS)
# ... or corrected by the next sentence ("I don't like gays. I love them.").
_CORRECTED = re.compile(r"\W*(?:i|we)\s+(?:(?:really|actually|just|simply)\s+)?(?:love|accept|welcome|respect|trust|admire|"
                        r"adore|prefer)\b")
_NEGATED_POSITIVE = re.compile(
    r"(?<![\w'])" + _NOT_LISTED + _SUBJECT + r"\s+(?:"
    r"(?:can't|cannot|can not|can never|should never|shouldn't|should not|must never)\s+(?:ever\s+)?be\s+trusted"
    r"|(?:are|r)\s+(?:not|never)\s+to\s+be\s+trusted|aren't\s+to\s+be\s+trusted"
    r"|(?:(?:are|r)\s+(?:not|never)|aren't)\s+worth\s+(?:anything|a thing|shit|a damn|a penny|saving|the air they breathe|"
    r"the oxygen|spitting on))" + _NEGATED_ENDS)
# A question that takes a generalisation as given ("Why is it that immigrants are criminals?", "Isn't it obvious that
# women are inferior?", "Don't you think Muslims are vermin?"); "Why is it that women are paid less?" asks.
_ASKED = re.compile(
    r"(?:why\s+is\s+it\s+that|(?:isn't|is it not|ain't)\s+it\s+(?:obvious|clear|true|a fact|plain|common knowledge)"
    r"\s+that|(?:don't\s+you|dont\s+you|do\s+you\s+not)\s+(?:think|agree)(?:\s+that)?)\s+" + _SUBJECT + r"\s+(?:are|r)\s+"
    + _BETWEEN + _PREDICATE + r"(?=\s*[?!\u203d]|\s*$|\s+(?:to|than)\b)")
# The world said to be better without the group, where the sentence begins ("The world would be better without
# Muslims", "We'd be better off without immigrants"), or asked so as a question that takes it as given ("Wouldn't
# the world be better without Jews?").
_WORLD = (r"(?:the world|this world|the planet|this country|the country|our country|society|life|everyone|everybody|"
          r"we|we all|things|everything|britain|america|europe|the uk|the us|this town|this city)")
_BETTER_WITHOUT = (r"be\s+(?:a\s+)?(?:(?:so\s+)?(?:much|a lot|far|way|a great deal)\s+)?(?:better|safer|nicer|cleaner|"
                   r"happier|richer)(?:\s+place)?(?:\s+off)?\s+(?:without|with no|if there were no|if we got rid of|"
                   r"once we get rid of)\s+(?:(?:any|all|the|of)\s+)*" + _GROUPS + _LIST_ENDS)
_WITHOUT = re.compile(_WORLD + r"(?:\s+(?:would|will)|'d|'ll)(?:\s+all)?\s+" + _BETTER_WITHOUT + _ENDED)
_WITHOUT_ASKED = re.compile(r"(?:wouldn't|would not|won't)\s+" + _WORLD + r"(?:\s+all)?\s+" + _BETTER_WITHOUT
                            + r"(?=\s*[?!\u203d]|\s*$)")

class _Shape(NamedTuple):
    pattern: re.Pattern
    from_start: bool  # read from the start of the sentence (else of the clause)
    negatable: bool  # a negation inside a match leaves it alone
    # The group must be named in the plural (a singular "woman" or "Muslim" is one person: "I could kill the woman at
    # the call centre", "The woman should die in prison").
    plural: bool
    # Words one of which a match holds: a sentence without any is not searched. None: not looked for, the shape being
    # tried at the start of the sentence alone, or its words being in most sentences.
    words: tuple[str, ...] | None
    asks: bool = False  # a question that takes its statement as given (other shapes are not read in a question)


_SHAPES = (_Shape(_GENERALISATION, False, True, False, None), _Shape(_WHY, False, True, True, ("why",), True),
           _Shape(_WISHED, False, False, True, ("should", "must", "ought", "deserve", "need", "don", "doesn", "have",
                                                 "has")),
           _Shape(_URGED, True, False, True, None), _Shape(_HATED, True, False, True, None),
           _Shape(_SUFFERED, True, False, True, None), _Shape(_MET_AND_HATED, True, False, True, None),
           _Shape(_DISGUSTED, False, True, True, ("make", "disgust", "repulse", "revolt", "sicken", "nauseate")),
           _Shape(_BELONGING, False, True, True, ("belong", "place")),
           _Shape(_CONTROLLED, False, True, True, ("control", "own", "run")),
           _Shape(_DISTRUSTED, True, False, True, None), _Shape(_DISREGARDED, True, False, True, None),
           _Shape(_NEGATED_POSITIVE, False, False, True, ("trusted", "worth")),
           _Shape(_ASKED, False, False, False, ("why", "it", "you"), True),
           _Shape(_WITHOUT, True, True, True, None), _Shape(_WITHOUT_ASKED, True, False, True, None, True))
# Hearsay or sarcasm at the end of the sentence ("Jews control the media, apparently.").
_HEARSAY_AT_END = re.compile(r"[,\s]\s*(?:apparently|supposedly|allegedly|evidently|it seems|it would seem|or so it seems|"
                             r"or so (?:they say|i'm told|we're told|i hear)|(?!i\b|we\b)(?:\w+\s+){1,3}(?:argues|argued|thinks|"
                             r"thought|believes|believed|puts it|put it|claims|claimed|insists|insisted))\W*$")
# Said to be sarcasm where the sentence begins ("Yeah, let's just kill all the Muslims, that'll solve everything").
_SARCASM = re.compile(r"\W*(?:yeah|yea|yep|sure|oh|ah yes|ah yeah|right|great idea|good idea|brilliant|apparently|of course|"
                      r"because)\b")
# The next sentence says whose words these were ("I hate Muslims. That's what the man yelled at my daughter.").
_REPORTED_NEXT = re.compile(
    r"\W*(?:(?:that's|that is|this is|which is|those are|these are|those were|these were|that was|this was)\s+(?:what|"
    r"how|the words|the order|the message|the slogan|the chant|the logic|the line|the subtext|the narrative|the lesson|"
    r"(?:his|her|their)\s+(?:exact\s+|very\s+|actual\s+)?words)|so said|said|says|those words|these words|"
    r"(?:his|her|their|the)\s+(?:exact\s+|very\s+|actual\s+|own\s+)?words|the words|because)\b")
# ... or said so later in the sentence ("Disabled people should not exist: that is the logic of eugenics").
_REPORTED_AFTER = re.compile(r"[:,;\u2013\u2014-]\s*(?:that's|that is|this is|which is|that was|this was)\s+(?:what|how|"
                             r"the words|the order|the message|the slogan|the chant|the logic|the line|the subtext)\b")
# The next sentence calls it a trope ("Muslims are terrorists, immigrants are criminals. The same tired tropes."); not
# "racist" or "bigotry", which hate says of itself as often ("Call me racist, I don't care").
_COUNTER_NEXT = re.compile(r"\b(?:tropes?|stereotypes?|stereotyping|myths?|propaganda|dog ?whistles?|"
                           r"conspiracy theor(?:y|ies|ists?)|(?:antisemitic|racist|old|oldest) conspirac(?:y|ies)|"
                           r"canards?)\b")
# ... unless it denies that ("Not a conspiracy theory, just look at the names", "Call it a conspiracy theory if you
# want").
_DENIED = re.compile(r"\b(?:not|no|isn't|n't|never|nothing|call it|call me)\b")
# ... or the sentence goes on to call it so ("Jews control the media, the old antisemitic lie").
_COUNTER_AFTER = re.compile(r"[,;:\u2013\u2014-]\s*(?:the|a|an|that|this|what)\s+(?:(?:old|oldest|tired|same|classic|"
                            r"antisemitic|racist|usual|ancient|vile|big|bigoted)\s+){0,3}(?:lie|lies|myth|trope|canard|"
                            r"conspiracy theory|libel)\b")
# A question that takes a generalisation as given, answered "no" by the next sentence ("Why is it that immigrants
# are criminals? They aren't.").
_ANSWERED_NO = re.compile(r"\W*(?:no|nope|of course not|not at all|absolutely not|wrong|hardly|they aren't|they are not|"
                          r"they're not|they don't|i don't|i do not|it wouldn't|it would not|not really)"
                          r"\s*(?:[.!,;:\u2013\u2014-]|$)")
# A sentence that begins with a time, place or someone's view ("Until 1967, gays were ...", "For Hamas, Jews have
# no right to exist", "In Leviticus, women are unclean ..."): a statement after it is history or a report, unless
# what comes first is a lead-in ("In my opinion, ...").
_FRONTED = re.compile(r"[^\w']*(?:in|until|till|before|after|since|during|under|to|for|from|by|throughout|among|"
                      r"within|at|as|with|on|back then|historically|once|formerly)\b")
_LEAD_AT_START = re.compile(_LEAD_IN.pattern + r"\s*,?\s*")
# Plural forms that end in no "s", and the words for people that can follow a group's name ("Muslim men").
_PLURALS = frozenset("""men women people folk folks persons boys girls lads guys kids youths children jewry""".split())
# Words before a group named in the singular that make it the whole group ("every Jew", "never trust a Muslim"; no
# shape takes "a" or "any" before a group except where it means the whole group).
_WHOLE_GROUP = frozenset({"every", "each", "any", "a", "an", "next"})
# Said to be someone else's view anywhere in its sentence (a review found "According to the Daily Mail, Muslims are
# ...", "In Nazi propaganda, Jews were ...", "..., said the man in the dock").
_ATTRIBUTED = re.compile(r"\b(?:according to|in the eyes of|propaganda|said|says|claimed|claims|wrote|writes|"
                         r"reportedly|allegedly|supposedly|shouted|shouting|screamed|screaming|yelled|yelling|"
                         r"chanted|chanting|posted|tweeted|told|graffiti|banner|placard|slogan|saying|read|"
                         r"texted|taught|teaches|preached|preaches|manifesto|ideology|doctrine|used to say|would say|"
                         r"(?:\w+'s|his|her|their)\s+(?:philosophy|motto|mantra|creed|worldview|mindset|view|views)|"
                         r"or so\s+(?:the|they|he|she|people|some|many|his|her|their|my \w+)\b(?:\s+\w+){0,2}\s+"
                         r"(?:say|says|claim|claims|goes|go|believe|believes|think|thinks|thought|said|claimed))\b")
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


def derogation_spans(text: str, norm=None) -> list[tuple[int, int]]:
    """``(begin, end)`` in a normalised text of each statement the rule finds (see the module's notes), in order.

    ``norm``: the :class:`~moderation.normalise.Normalised` the text was made from (the same offsets), whose
    original words tell a group named in the plural from one person ("Muslims" from "Muslim"); without it, every
    group word is taken to be plural."""
    if GROUP_PLACEHOLDER not in text:
        return []
    found = set()
    quotations = None
    # A typographic apostrophe read as a straight one ("Don\u2019t trust ..." as typed on a phone; a review found every
    # shape with a contraction missed), the same length; quotations are still read from the text as written.
    marked, text = text, text.replace("\u2019", "'")
    sentences = list(_SENTENCE.finditer(text))
    for k, sentence in enumerate(sentences):
        s = sentence.group(0)
        if GROUP_PLACEHOLDER not in s:
            continue
        end_marks = s[len(s.rstrip(".!?\u203d ")):]
        question = "?" in end_marks or "\u203d" in end_marks
        left_alone = None  # read once a shape matches (most sentences that name a group match none)
        for pattern, from_start, negatable, plural, words, asks in _SHAPES:
            if question is not asks or (words and not any(w in s for w in words)):
                continue  # a question only in the shapes that take their statement as given
            for m in _statements(pattern, s, from_start):
                if left_alone is None:
                    left_alone = _left_alone(text, sentence, sentences[k + 1] if k + 1 < len(sentences) else None)
                if left_alone:
                    break
                if negatable and _NEGATION_INSIDE.search(_without_phrases(m.group(0))):
                    continue
                if _excepted(pattern, asks, m, s, sentences[k + 1].group(0) if k + 1 < len(sentences) else ""):
                    continue
                begin, end = sentence.start() + m.start(), sentence.start() + m.end()
                if plural and norm is not None and not _plural(text, norm, begin, end):
                    continue
                if _a_team(text, norm, begin, end):
                    continue
                quotations = _quotations(marked) if quotations is None else quotations
                if _inside(begin, quotations):
                    continue
                found.add((begin, end))
        if k + 1 < len(sentences) and not question:
            spans = _by_pronoun(text, sentence, sentences, k, norm)
            if spans and not _a_team(text, norm, *spans):
                quotations = _quotations(marked) if quotations is None else quotations
                if not any(_inside(at, quotations) for at in spans):
                    found.add(spans)
    return sorted(found)


def _by_pronoun(text: str, sentence, sentences, k: int, norm) -> tuple[int, int] | None:
    """The span from a short sentence about the group as a whole to the hate the next sentence says of it by a
    pronoun ("Refugees think they are special. I hate them."), or None (quotations not read here)."""
    s, following = sentence.group(0), sentences[k + 1]
    topic = _TOPIC.match(s)
    if (topic is None or len(s.split()) > 10 or _ANOTHER_REFERENT.search(s, topic.end())
            or _NEGATION_INSIDE.search(following.group(0))):
        return None
    m = _BY_PRONOUN.match(following.group(0))
    if m is None or "?" in following.group(0) or "\u203d" in following.group(0):
        return None
    begin, end = sentence.start() + topic.start(1), following.start() + m.end()
    if norm is not None and not _plural(text, norm, begin, sentence.start() + topic.end(1)):
        return None
    after = sentences[k + 2] if k + 2 < len(sentences) else None
    if (_left_alone(text, sentence, following) or _left_alone(text, following, after)
            or (after is not None and _MEANT.match(after.group(0)))):
        return None
    return begin, end


def _excepted(pattern, asks: bool, m, s: str, following: str) -> bool:
    """Whether a shape's match in sentence ``s`` is one of the exceptions reviews found (``following``: the next
    sentence, or "")."""
    end = m.end()
    return bool(
        # "Why are Muslims so violent but Christians not?"; "Why is it that immigrants are criminals? They aren't."
        (asks and (_CONTRAST.search(s, end) or (pattern is not _WHY and _ANSWERED_NO.match(following))))
        # "Kill the Jews and you become the Nazis": a warning
        or (pattern is _URGED and _BARE_VERB.match(m.group(0)) and _WARNING.match(s, end))
        # "I don't like gays. I love them."
        or (pattern is _DISREGARDED and _CORRECTED.match(following))
        # "Women belong in the kitchen... and the boardroom"
        or (pattern is _BELONGING and s[end:].strip() == "..." and _GOES_ON.match(following))
        # "Jews control the media, the old antisemitic lie"
        or _COUNTER_AFTER.search(s, end, end + _LOOK_BACK)
        # "Refugees are a burden sharing problem": a compound, not a participle saying more
        or (pattern is _GENERALISATION and _COMPOUND.match(s, end) and _AFTER_AN_ARTICLE.search(m.group(0))))


# Words of hate a comment may deny of a group and so affirm it ("Immigrants are not criminals.", "Disabled people are
# not a burden."): the predicates, less those that are themselves denials ("not human") and comparisons.
_DENIED_WORD = r"(?:" + "|".join(re.escape(p.removeprefix("a ").removeprefix("an ")) for p in PREDICATES
                                 if not p.startswith(("not ", "less ", "sub"))) + r")"
# A sentence that only affirms a group's humanity, place or identity ("Jews are people.", "Muslims are people too!",
# "Immigrants are our neighbours.", "Trans people are valid.", "We are Jews.", "I'm a proud Muslim."), or denies hate
# of it ("Immigrants are not criminals.", "I don't hate Muslims."): said, not asked, with nothing else in it.
# (Not "most" or "all" before the group: "Most Muslims are not vermin" says the rest are; a review found it passing.)
_AFFIRMATION = re.compile(
    r"\s*(?:(?:" + _GROUPS + r"|we|they)\s+(?:are|r)\s+(?:"
    r"(?:(?:all|just|also|still|simply|only|so)\s+)?"
    r"(?:people|human|humans|human beings|persons|(?:our\s+)?(?:neighbours|neighbors|friends|fellow citizens|colleagues|"
    r"family)|welcome(?:\s+here)?|equal|valid|loved|not the enemy)"
    r"(?:\s+(?:too|as well|like (?:you and me|everyone else|us|the rest of us)))?"
    r"|(?:(?:just|simply)\s+)?(?:not|never)\s+(?:(?:a|an)\s+)?" + _DENIED_WORD + r")"
    r"|(?:i am|i'm|we are|we're)\s+(?:(?:a|an|proud|all|also|both)\s+)*" + _GROUPS + r"(?:\s+(?:too|as well))?"
    r"|(?:i|we)\s+(?:really\s+|just\s+)?(?:don't|dont|do not)\s+hate\s+" + _GROUPS
    + r")[.!\s]*")


# The comment as written: words, spaces, plain punctuation and paragraph tags only (a review found an emoji before the
# sentence, a link around it or an image after it passing: "\U0001f400 Jews are people.", '<a href="...">...</a>'),
# and not white pride ("We are proud white men!").
_PLAIN = re.compile(r"(?:[\w\s.,!'\u2019-]|</?(?:p|br|div|span)\s*/?>)*")
_WHITE = re.compile(r"\bwhites?\b", re.IGNORECASE)


def affirmation_only(text: str, original: str | None = None) -> bool:
    """Whether a normalised text (``with_line_ends``) is only sentences that affirm a group, at most 200 characters,
    written (``original``, when given) in plain words and punctuation: the model reads such short statements by
    their shape ("Jews are people." scored 0.66 for identity attack), and nothing in them can attack anyone; the
    scorer keeps their identity attack, incitement, toxicity and personal attack at most ``AFFIRMED_AT_MOST``."""
    if GROUP_PLACEHOLDER not in text or len(text) > 200:
        return False
    if original is not None and (not _PLAIN.fullmatch(original) or _WHITE.search(original)):
        return False
    sentences = [m.group(0) for m in _SENTENCE.finditer(text.replace("\u2019", "'"))]
    return bool(sentences) and all(_AFFIRMATION.fullmatch(s) for s in sentences)


def _left_alone(text: str, sentence, following) -> bool:
    """Whether a sentence is someone else's view, a trope or sarcasm: attributed in it ("according to", "said") or by
    the next sentence ("That's what the man yelled"), called a trope by the next ("The same tired tropes"), opened as
    sarcasm ("Yeah, ...", "Apparently, ...") or marked "/s" at its end or just after it."""
    s = sentence.group(0)
    return bool(_ATTRIBUTED.search(_in_context(text, sentence.start(), s)) or s.rstrip().endswith("/s")
                or _HEARSAY_AT_END.search(s)
                or text[sentence.end():].lstrip().startswith("/s") or _SARCASM.match(s)
                or (following is not None and (_REPORTED_NEXT.match(following.group(0))
                                               or _countered(following.group(0)))))


_REBUTTED = re.compile(r"\W*(?:nonsense|rubbish|garbage|bullshit|bs|wrong|false|untrue|not true|absurd|what rubbish|"
                       r"what nonsense|utter nonsense|complete nonsense|total nonsense|utter rubbish)\W*$")


def _countered(sentence: str) -> bool:
    """Whether a sentence calls the one before a trope, a myth or a conspiracy theory, without denying it ("Not a
    conspiracy theory, just look at the names")."""
    if _REBUTTED.match(sentence):
        return True  # "Women can't be trusted. Nonsense."
    m = _COUNTER_NEXT.search(sentence)
    return m is not None and not _DENIED.search(sentence, 0, m.start())


def _statements(pattern, s: str, from_start: bool):
    """The matches of a shape in a sentence that are the writer's own statement: where the sentence begins, or
    after one lead-in ("Honestly, ..."), for a shape read from the start; else where its clause begins, or after
    one lead-in."""
    at = _START.match(s).end()  # emoji, dashes and the like before the first word are no lead-in
    if from_start:
        m = pattern.match(s, at)
        if m is None:
            lead = _LEAD_AT_START.match(s, at)
            m = pattern.match(s, lead.end()) if lead else None
        if m is not None:
            yield m
        return
    fronted = _FRONTED.match(s)
    for m in pattern.finditer(s):
        if _REPORTED_AFTER.search(s, m.end(), m.end() + _LOOK_BACK):  # near it (a long sentence is not read again)
            continue
        if fronted and m.start() > at and not _LEAD_IN.fullmatch(_SYMBOLS.sub(" ", s[at:m.start()]).strip()):
            continue  # "Until 1967, gays were ...", "For Hamas, Jews ..." (but "In my opinion, ...")
        lead = _lead_in(s, m.start())
        if not lead or _LEAD_IN.fullmatch(lead):
            yield m


_START = re.compile(r"[^\w']*")
_SYMBOLS = re.compile(r"[^\w\s']+")


def _lead_in(sentence: str, start: int) -> str:
    """What stands between the beginning of a statement's clause and the statement ("?" when it is further back
    than is read: no lead-in then)."""
    before = sentence[max(0, start - _LOOK_BACK):start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    # Without a break, the clause began with the sentence, or further back than is read.
    begin = breaks[-1].end() if breaks else 0
    return _SYMBOLS.sub(" ", before[begin:]).strip() if breaks or start <= _LOOK_BACK else "?"


def _plural(text: str, norm, begin: int, end: int) -> bool:
    """Whether every group a statement names is named in the plural ("Muslims", "gay people", "Muslim men",
    "every Jew"), as the commenter wrote it."""
    at = text.find(GROUP_PLACEHOLDER, begin, end)
    while at >= 0:
        after = text[at + len(GROUP_PLACEHOLDER):end].split()
        before = text[begin:at].split()
        if after and after[0] == GROUP_PLACEHOLDER:  # "Muslim women": the second word says
            pass
        elif not ((after and after[0] in _PLURALS) or _WHOLE_GROUP & set(before[-2:])):
            b, e = norm.original_span(at, at + len(GROUP_PLACEHOLDER))
            word = re.sub(r"[^a-z]", " ", norm.original[b:e].lower()).split()
            if not word or not (word[-1].endswith("s") or word[-1] in _PLURALS):
                return False
        at = text.find(GROUP_PLACEHOLDER, at + len(GROUP_PLACEHOLDER), end)
    return True


# A nation's name for its people is also its team's: in a comment about sport ("I hate the Mexicans, they always beat
# us", "The Nigerians make me sick, they dive every game") such a statement is left to the model.
_NATIONS = frozenset("mexican mexicans nigerian nigerians pakistani pakistanis somali somalis chinese indian indians".split())
_SPORT = re.compile(r"\b(?:match|matches|game|games|goal|goals|scored|scores|scoring|team|teams|squad|cup|league|pitch|"
                    r"penalty|penalties|innings|wickets?|bowlers?|bowling|batting|batsmen|striker|strikers|referee|ref|"
                    r"kick-off|kickoff|fixture|tournament|olympics|medals?|semi-finals?|quarter-finals?|qualifier|derby|"
                    r"keeper|goalkeeper|midfield|offside|dive|dives|diving|beat us|beat them|beat our|final|finals|"
                    r"season|coach|fans|stadium)\b")


def _a_team(text: str, norm, begin: int, end: int) -> bool:
    """Whether every group a statement names is a nation, in a comment that talks of sport."""
    if norm is None or not _SPORT.search(text):
        return False
    at = text.find(GROUP_PLACEHOLDER, begin, end)
    while at >= 0:
        b, e = norm.original_span(at, at + len(GROUP_PLACEHOLDER))
        if norm.original[b:e].lower().strip() not in _NATIONS:
            return False
        at = text.find(GROUP_PLACEHOLDER, at + len(GROUP_PLACEHOLDER), end)
    return True


def _in_context(text: str, start: int, sentence: str) -> str:
    """A sentence with the end of the line before it when only a line break parted them ("The leaflet said" then a
    new line), or with what came before an ellipsis ("He yelled... death to Jews"): what attributes the statement to
    someone else may stand there."""
    if start and text[start - 1] == "\n":
        before = text[max(0, start - _LOOK_BACK):start - 1].rstrip()
        if before and before[-1] not in ".!?\u203d":
            return before + " " + sentence
    before = text[max(0, start - _LOOK_BACK):start].rstrip()
    if before.endswith(("...", "\u2026")):  # "The defendant said... kill all Jews."
        return before + " " + sentence
    return sentence


def _without_phrases(statement: str) -> str:
    for phrase in _NOT_A_NEGATION:
        statement = statement.replace(phrase, "")
    return statement
