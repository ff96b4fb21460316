"""Word lists used to undo obfuscation, and to find the words scoring reads alone.

They are not a classifier: the model learns what is abusive from labelled data. The lists let
normalisation decide what a masked or leet-spelled token stands for ("f*ck", "sh1t", "1d10t"),
which character n-grams alone recover poorly, and tell scoring which words to read on their own
as well as in their comment (``inference.LEXICON``), so that one swear word is not diluted by a
long comment; the score such a word gets is still the model's.
"""

# Swear words and vulgarities with their common inflections (lower case, ASCII).
PROFANITY = frozenset(
    """
    fuck fucks fucked fucker fuckers fucking fuckin fuckwit fuckwits fuckface motherfucker
    motherfuckers shit shits shitty shite shithead shitheads bullshit horseshit dipshit shitshow
    ass arse asses arsehole arseholes asshole assholes asshat jackass dumbass smartass
    bitch bitches bitching bitchy son-of-a-bitch cunt cunts twat twats wanker wankers wank
    dick dicks dickhead dickheads cock cocks cocksucker prick pricks pussy bollocks bugger
    bastard bastards damn damned dammit goddamn crap crappy piss pissed pissing
    slut sluts whore whores hoe hoes tits douche douchebag turd scumbag
    """.split()
)

# Words of PROFANITY whose innocent sense turns up in news comments (a name, a bird, a tool): scoring
# reads the other swear words alone as well as in their comment (``inference.LEXICON``), and "Dick
# Smith was elected..." or "The cock crowed at dawn" must not be held for the word by itself. Words
# whose other sense is rare in comments stay read ("ass", "pussy", "prick": leaving them out too
# lowered OLID macro-F1 from 0.745 to 0.743, on tweets where they are nearly always vulgar).
INNOCENT_SENSES = frozenset("dick dicks cock cocks tits hoe hoes".split())

# Insults that people obfuscate as well ("1d10t", "m0r0n").
INSULTS = frozenset(
    """
    idiot idiots idiotic moron morons moronic stupid imbecile imbeciles cretin cretins
    retard retarded loser losers scum clown clowns dumb dimwit halfwit nitwit
    pig pigs rat rats vermin trash garbage coward cowards liar liars hack hacks
    """.split()
)

# Words of hate and violence that people disguise to get past filters ("hat3", "k!ll", "h8").
HOSTILE = frozenset(
    """
    hate hates hated hater haters hateful hating kill kills killed killing murder murdered
    """.split()
)

# Spellings by sound rather than look: a digit standing for a syllable.
PHONETIC = {
    "h8": "hate", "h8s": "hates", "h8d": "hated", "h8ed": "hated", "h8er": "hater", "h8ers": "haters",
    "h8ful": "hateful", "h8ing": "hating", "h8r": "hater", "h8rs": "haters",
}

OBFUSCATION_TARGETS = PROFANITY | INSULTS | HOSTILE
