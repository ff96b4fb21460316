"""Text normalisation that undoes common obfuscation while keeping a map back to the original.

Every step is a small pure function from a :class:`Normalised` to a new one. Each character of the
normalised text remembers the span ``[start, end)`` of the ORIGINAL text it came from, so evidence
found in the normalised text can be reported as offsets into what the commenter actually wrote.
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata
from dataclasses import dataclass

from .lexicon import (
    GIVEN_NAMES,
    GROUP_ADJECTIVES,
    GROUP_WORDS,
    INNOCENT_SENSE_PHRASES,
    NAMES_LIKE_SWEARING,
    OBFUSCATION_TARGETS,
    PERSON_NOUNS,
    PHONETIC,
    SLURS,
)

__all__ = [
    "CHARACTER_REFERENCE",
    "LONE_SURROGATE",
    "GROUP_PLACEHOLDER",
    "NAME_PLACEHOLDER",
    "Normalised",
    "collapse_whitespace",
    "decode_reference",
    "decode_references",
    "drop_combining_marks",
    "drop_invisible",
    "fold_homoglyphs",
    "join_spaced_letters",
    "lower",
    "mask_given_names",
    "mask_group_words",
    "normalise",
    "normalise_text",
    "normalise_texts",
    "read_innocent_senses",
    "replace_surrogates",
    "spell_out_obscene_emoji",
    "squeeze_repeats",
    "strip_html",
    "undo_leet_and_masks",
    "undo_right_to_left_override",
    "undo_slips",
    "unicode_nfkc",
]


@dataclass(frozen=True)
class Normalised:
    """Normalised text with, for each of its characters, the original span it came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    original: str

    @classmethod
    def of(cls, original: str) -> Normalised:
        n = len(original)
        if n < len(_POSITIONS):  # slices of one tuple: a fifth of the time of two new ones
            return cls(original, _POSITIONS[:n], _POSITIONS[1:n + 1], original)
        return cls(original, tuple(range(n)), tuple(range(1, n + 1)), original)

    def original_span(self, begin: int, end: int) -> tuple[int, int]:
        """Map a span of the normalised text to the span of the original text it came from."""
        if begin >= end or not self.text:
            return (0, 0)
        end = min(end, len(self.text))
        return (self.starts[begin], self.ends[end - 1])


# 0, 1, 2, ...: the offset maps of unchanged texts up to 20,000 characters, the most the service scores at once.
_POSITIONS = tuple(range(20_001))


@dataclass(frozen=True)
class Spelled:
    """A replacement whose i-th character stands for ``match[spans[i][0]:spans[i][1]]``."""

    text: str
    spans: tuple[tuple[int, int], ...]


# Cheap looks before a step's regular expression: most comments need few steps, and a regular expression
# scan costs about as much per character as the steps' own work. Each look may say yes when the step
# turns out to change nothing (the step then runs and returns the text as it was), never no when it would.
def _ascii_table(keep: bytes) -> bytes:
    """A ``bytes.translate`` table that keeps the bytes of ``keep`` and turns every other byte into a space."""
    return bytes(c if c in keep else 32 for c in range(256))


_LOWER = b"abcdefghijklmnopqrstuvwxyz"
_LOWER_RUNS = _ascii_table(_LOWER)
_LETTER_RUNS = _ascii_table(_LOWER + _LOWER.upper())


def _runs(text: str, table: bytes) -> list[bytes]:
    """The maximal runs of the characters ``table`` keeps, as ASCII bytes. Every other character, and
    each non-ASCII one (encoded as "?", which no table keeps), separates runs: a whole word of those
    characters that a regular expression finds between non-word characters is always one of the runs.

    The last text's runs are kept: the looks of several steps (and ``targets``) read the same text's runs,
    as most steps change nothing. Callers must not change the list."""
    global _LAST_RUNS
    last = _LAST_RUNS
    if last[0] is text and last[1] is table:
        return last[2]
    runs = text.encode("ascii", "replace").translate(table).split()
    _LAST_RUNS = (text, table, runs)  # one tuple, swapped whole: threads never see a text with another's runs
    return runs


_LAST_RUNS: tuple = (None, None, [])


def _rewrite(norm: Normalised, pattern: re.Pattern, replace, matches=None) -> Normalised:
    """Replace each match of ``pattern`` with ``replace(match)``, carrying the offset map along.

    A replacement string inherits the original span of the whole match; when it has the same
    length as the match, each character keeps its own span; a :class:`Spelled` says each
    character's span itself. ``matches``: the pattern's matches in the text, in order, when the caller
    finds them faster than ``pattern.finditer``.
    """
    text = norm.text
    matches = list(pattern.finditer(text) if matches is None else matches)
    if not matches:
        return norm
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for m in matches:
        a, b = m.span()
        new = replace(m)
        if new == m.group(0):
            continue
        chars.append(text[pos:a])
        starts.extend(norm.starts[pos:a])
        ends.extend(norm.ends[pos:a])
        if isinstance(new, Spelled):  # each new character says which characters of the match it stands for
            chars.append(new.text)
            starts.extend(norm.starts[a + i] for i, _ in new.spans)
            ends.extend(norm.ends[a + j - 1] for _, j in new.spans)
        elif new:
            chars.append(new)
            if len(new) == b - a:
                starts.extend(norm.starts[a:b])
                ends.extend(norm.ends[a:b])
            else:
                s = norm.starts[a] if a < b else (norm.starts[a] if a < len(text) else norm.ends[-1])
                e = norm.ends[b - 1] if a < b else s
                starts.extend([s] * len(new))
                ends.extend([e] * len(new))
        pos = b
    if pos == 0 and not chars:
        return norm
    chars.append(text[pos:])
    starts.extend(norm.starts[pos:])
    ends.extend(norm.ends[pos:])
    return Normalised("".join(chars), tuple(starts), tuple(ends), norm.original)


# HTML's element names. Only these are tags, written as HTML writes them (the name straight after "<"
# or "</"): "I think <you are a ...> honestly" in a plain-text comment is text to score, not a tag.
_ELEMENTS = frozenset("""a abbr acronym address area article aside audio b base bdi bdo big blockquote body br button
    canvas caption center cite code col colgroup data datalist dd del details dfn dialog dir div dl dt em embed
    fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe
    img input ins kbd label legend li link main map mark menu meta meter nav nobr noscript object ol optgroup option
    output p param picture pre progress q rp rt ruby s samp script section select small source span strike strong
    style sub summary sup svg table tbody td template textarea tfoot th thead time title tr track tt u ul var video
    wbr""".split())
# After the name: nothing ("<b>", "<br/>"), or attributes of which at least one has a value ("<a href=...>"):
# "<a total moron>" and "<i hate you all>" are words.
# Written so that no run of characters can be matched two ways (a review found "<a " and 20,000 spaces taking a
# second, "\s+[^<>=]*" splitting the spaces every way, and a comment without its end scanned to the end of the
# text from each "<!--"): a comment ends at its "-->" and holds no other "<!--" (the inner one starts it).
_TAG = re.compile(r"<(/?)(" + "|".join(sorted(_ELEMENTS, key=len, reverse=True))
                  + r")(?:\s*/?>|\s[^<>=]*=[^<>]*>)|<!--(?:(?!<!--).)*?-->", re.DOTALL | re.IGNORECASE)
# Inline tags vanish ("<b>mor</b>on" is one word); block tags separate words.
_INLINE_TAGS = frozenset("a abbr b bdi bdo cite code del em font i ins kbd mark q s small span strong sub sup u".split())
# A character reference as a browser reads one in text: the ";" may be left out ("&#102uck" shows as
# "fuck", "fish &amp chips" as "fish & chips"); ``html.unescape`` decides which names need it.
CHARACTER_REFERENCE = r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]{0,31});?"
_ENTITY = re.compile(CHARACTER_REFERENCE)


def decode_reference(ref: str) -> str:
    """The text a character reference (a match of ``CHARACTER_REFERENCE``) stands for; itself if none."""
    if ref[1] == "#":
        hexadecimal = ref[2] in "xX"
        # The number without its leading zeros: int() reads at most 4,300 decimal digits ("&#000...0102").
        digits = ref[2 + hexadecimal:].rstrip(";").lstrip("0") or "0"
        if len(digits) > 8:  # beyond Unicode
            return "\ufffd"
        return html.unescape(f"&#{'x' if hexadecimal else ''}{digits};")
    return html.unescape(ref)


def decode_references(text: str) -> str:
    """``text`` with its character references decoded (``html.unescape``, safe with a number of any length)."""
    return _ENTITY.sub(lambda m: decode_reference(m.group(0)), text) if "&" in text else text


LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""A lone UTF-16 surrogate: in a Python string, always unpaired, and no encoder or hash takes it."""


def _may_hold_surrogates(text: str) -> bool:
    return not text.isascii() and LONE_SURROGATE.search(text) is not None


def replace_surrogates(norm: Normalised) -> Normalised:
    """Replace lone UTF-16 surrogates (from broken encoders, or undecodable bytes that Python kept
    as surrogates) with U+FFFD, one for one: no text encoding or hash can take them."""
    if not _may_hold_surrogates(norm.text):
        return norm
    return _rewrite(norm, LONE_SURROGATE, lambda m: "\ufffd")


# Tags and references in one pass, as a browser reads them: a reference without its ";" ends at a tag
# ("&#x66<b></b>aggot" shows as "faggot"; reading tags first made it "&#x66aggot").
_MARKUP = re.compile(_TAG.pattern + "|" + CHARACTER_REFERENCE, re.DOTALL | re.IGNORECASE)


def _markup_replacement(m: re.Match) -> str:
    if m.group(0)[0] == "&":
        return decode_reference(m.group(0))
    return "" if (m.group(2) or "").lower() in _INLINE_TAGS else " "


def strip_html(norm: Normalised) -> Normalised:
    """Drop HTML tags (each becomes a space, an inline one nothing) and decode character references:
    Coral sends comments as HTML."""
    if "<" not in norm.text and "&" not in norm.text:
        return norm
    return _rewrite(norm, _MARKUP, _markup_replacement)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def unicode_nfkc(norm: Normalised) -> Normalised:
    """Apply Unicode NFKC character by character (full-width letters, ligatures, math letters)."""
    if norm.text.isascii():
        return norm
    return _rewrite(norm, _NON_ASCII, lambda m: unicodedata.normalize("NFKC", m.group(0)))


_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\ufff9-\ufffb\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)


# A right-to-left override (U+202E, or a character reference to it) with no tag, reference, other override,
# embedding or isolate after it before its pop (U+202C, or a reference to it), the line's end or the text's.
_RLO = "(?:\u202e|&#x0*202e;?|&#0*8238;?|&rlo;)"
_PDF = "(?:\u202c|&#x0*202c;?|&#0*8236;?|&pdf;)"
_PARAGRAPH_END = "(?=\n|</?(?:p|div|li|ul|ol|blockquote|h[1-6])\\b|<br\\b|$)"
_OVERRIDDEN = re.compile(_RLO + "([^\u202a-\u202e\u2066-\u2069\n<&]*)(?:" + _PDF + "|" + _PARAGRAPH_END + ")",
                         re.IGNORECASE)
_MAY_OVERRIDE = re.compile("\u202e|&#x0*202e|&#0*8238|&rlo;", re.IGNORECASE)


def undo_right_to_left_override(norm: Normalised) -> Normalised:
    """Put text written backwards after a right-to-left override in the order a reader sees it:
    "\u202etoidi na era uoy\u202c" shows on screen as "you are an idiot". The run shares one span.

    The run ends at the override's pop or at the end of its line or paragraph (a new line, a block tag such
    as "</p>" or "<br>", the text's end), as on screen, before tags are read; an override written as a
    character reference ("&#x202e;", as HTML from Coral may carry it) counts as one. Where another tag or a
    reference stands in the run, the override is only dropped (``drop_invisible``) and the text read as
    written (reversing "everything after a stray override" let abuse that a reader sees the right way round
    through)."""
    if not _may_override(norm.text):
        return norm
    return _rewrite(norm, _OVERRIDDEN, lambda m: m.group(1)[::-1])


def _may_override(text: str) -> bool:
    # Every override starts with U+202E or "&": two substring scans skip the pattern for nearly every text.
    return ("\u202e" in text or "&" in text) and _MAY_OVERRIDE.search(text) is not None


# The ASCII characters ``_INVISIBLE`` matches (control characters but tab, line feed and carriage return).
_ASCII_INVISIBLE = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def drop_invisible(norm: Normalised) -> Normalised:
    """Remove zero-width, directional, soft-hyphen and control characters."""
    if not _may_hold_invisible(norm.text):
        return norm
    return _rewrite(norm, _INVISIBLE, lambda m: "")


def _may_hold_invisible(text: str) -> bool:
    if text.isascii():
        raw = text.encode("ascii")
        return len(raw.translate(None, _ASCII_INVISIBLE)) != len(raw)
    return _INVISIBLE.search(text) is not None


# A letter followed by combining diacritics (the general-purpose blocks, not a script's own vowel signs).
_MARKED_LETTER = re.compile(r"([^\W\d_])([\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+)")


def drop_combining_marks(norm: Normalised) -> Normalised:
    """Compose a letter with the accents that make one letter ("e" + acute -> "é") and drop the rest:
    strike-through ("f̶u̶c̶k̶") and "zalgo" marks stacked on letters, which hide words from a reader of
    code points but not from a reader of the screen. Each letter keeps the span of itself and its marks."""
    if norm.text.isascii():
        return norm

    def compose(m: re.Match) -> str:
        composed = unicodedata.normalize("NFC", m.group(0))
        return "".join(c for c in composed if not unicodedata.combining(c)) or m.group(1)

    return _rewrite(norm, _MARKED_LETTER, compose)


# The middle finger emoji (any skin tone) says what the word says.
_OBSCENE_EMOJI = re.compile("\U0001f595[\U0001f3fb-\U0001f3ff]?")


def spell_out_obscene_emoji(norm: Normalised) -> Normalised:
    """Read the middle-finger emoji as the word it stands for, so "🖕" alone is profanity as the word is."""
    if norm.text.isascii() or "\U0001f595" not in norm.text:
        return norm
    return _rewrite(norm, _OBSCENE_EMOJI, lambda m: " fuck ")


# Cyrillic and Greek letters that look like Latin ones.
_HOMOGLYPHS = str.maketrans(
    "аеорсухіјѕԁɡһӏԛԝ"  # Cyrillic lower
    "АВЕКМНОРСТХУІЈЅ"  # Cyrillic upper
    "αβεικνορτυχ"  # Greek lower
    "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",  # Greek upper
    "aeopcyxijsdghlqw"
    "ABEKMHOPCTXYIJS"
    "abeikvoptux"
    "ABEZHIKMNOPTYX",
)
_WORD = re.compile(r"\w+")
_LATIN = re.compile(r"[a-zA-Z]")


# Latin letters that look like others and that NFKC leaves alone: small capitals ("ꜰᴜᴄᴋ"), the dotless i, a
# Cyrillic te (lower case it looks like a small capital T). Folded only in a word they turn into an abusive one.
_LOOKALIKES = str.maketrans("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢıт", "abcdefghijklmnoprstuvwyzit")


def _unaccented(word: str) -> str:
    """``word`` with each accented Latin letter as its plain letter ("fück" -> "fuck") and the look-alikes
    above folded; a letter that has no one-letter plain form ("ß") stays."""
    out = []
    for c in word.translate(_LOOKALIKES):
        plain = unicodedata.normalize("NFKD", c)[0] if not c.isascii() else c
        out.append(plain if plain.isascii() and plain.isalpha() else c)
    return "".join(out)


def fold_homoglyphs(norm: Normalised) -> Normalised:
    """Map Cyrillic/Greek look-alikes to Latin inside words that mix them with Latin letters, and read a word
    whose accents or look-alike letters hide an abusive word as that word ("fück", "shït", "ꜰᴜᴄᴋ").

    Words written wholly in another script are left alone, so that Russian or Greek comments stay
    Russian or Greek, unless all their letters are look-alikes that spell one of the abusive words;
    accented words that spell no abusive word keep their accents ("café", "Müller"), which the language
    identifier reads.
    """
    if norm.text.isascii():
        return norm

    def fold(m: re.Match) -> str:
        word = m.group(0)
        if word.isascii():
            return word
        folded = word.translate(_HOMOGLYPHS)
        plain = _unaccented(folded)
        if plain.lower() in OBFUSCATION_TARGETS:
            return plain
        # A word with no Latin letter is folded only when it spells an abusive word ("аѕѕһоӏе").
        return folded if _LATIN.search(word) else word

    return _rewrite(norm, _WORD, fold)


# What a capitalised given name (``lexicon.GIVEN_NAMES``) reads as: one word that no comment contains.
NAME_PLACEHOLDER = "xxname"
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")


_NAMES = GIVEN_NAMES | NAMES_LIKE_SWEARING


def mask_given_names(norm: Normalised) -> Normalised:
    """Read each capitalised given name as :data:`NAME_PLACEHOLDER`, so no name scores differently, and so a
    surname or place whose letters hold a swear word (``lexicon.NAMES_LIKE_SWEARING``: Dickens, Scunthorpe).

    Only names written with a capital are read so ("Dave, ..."), not the same letters in lower case
    or capitals; the offset map sends the placeholder back to the name the commenter wrote.
    """
    if not _may_name_someone(norm.text):  # most texts name nobody
        return norm
    return _rewrite(norm, _CAPITALISED, lambda m: NAME_PLACEHOLDER if m.group(0) in _NAMES else m.group(0))


_GIVEN_NAME_BYTES = frozenset(name.encode("ascii") for name in _NAMES)


def _may_name_someone(text: str) -> bool:
    return not _GIVEN_NAME_BYTES.isdisjoint(_runs(text, _LETTER_RUNS))


# What a word naming a protected group (``lexicon.GROUP_WORDS``) reads as.
GROUP_PLACEHOLDER = "xxgroup"
_COLLECTIVE = r"(?:\s+(?:people|persons|folks?)\b)"  # "gay people" is the group, as "gays" is
_GROUP_WORD = re.compile(
    r"(?<![\w'])(?:"
    + "|".join(re.escape(w) for w in sorted(GROUP_WORDS, key=len, reverse=True))
    + r")(?:(?![\w+])" + _COLLECTIVE + r"|(?![\w+]))"
    + r"|(?<![\w'])(?:" + "|".join(sorted(GROUP_ADJECTIVES)) + r")(?:" + _COLLECTIVE + r"|(?=\s+(?:"
    + "|".join(sorted(PERSON_NOUNS, key=len, reverse=True)) + r")\b))"
    + r"|(?<=\bthe )(?:disabled|deaf)\b"
)


def mask_group_words(norm: Normalised) -> Normalised:
    """Read each word naming a protected group as :data:`GROUP_PLACEHOLDER`, so no group scores differently.

    Works on lower-case text. ``lexicon.GROUP_ADJECTIVES`` ("black", "trans", "disabled", ...) are
    read so only before a word for people ("black voters"), and "disabled" and "deaf" after "the". A
    group word with "people" or "folk" after it is the placeholder as a whole ("gay people" reads as
    "gays" does): read as the placeholder and "people", the groups named that way scored apart from
    the rest (functional probes' hateful half 56% against 61%). The offset map sends the placeholder
    back to the words the commenter wrote.
    """
    if not _may_name_a_group(norm.text):  # most texts name no group
        return norm
    return _rewrite(norm, _GROUP_WORD, lambda m: GROUP_PLACEHOLDER, _group_word_matches(norm.text))


def _group_word_matches(text: str):
    """``_GROUP_WORD.finditer(text)``'s matches, the pattern tried only where a word that may start one stands
    alone (below): at most a few places a text, rather than at every character (about half the time on the
    news comments that name a group)."""
    starts = []
    for run in _GROUP_WORD_START_BYTES.intersection(_runs(text, _LOWER_RUNS)):
        word = run.decode("ascii")
        at = text.find(word)
        while at >= 0:
            end = at + len(word)
            if (at == 0 or not "a" <= text[at - 1] <= "z") and (end == len(text) or not "a" <= text[end] <= "z"):
                starts.append(at)
            at = text.find(word, at + 1)
    done = 0
    for at in sorted(starts):
        if at >= done:  # finditer goes on from the end of each match
            m = _GROUP_WORD.match(text, at)  # its look-behind reads the characters before ``at``
            if m:
                done = m.end()
                yield m


# Every match of _GROUP_WORD starts a run of word characters (nothing of \w or ' before it) and that run
# is one of these: a group word's first run ("lgbtq" of "lgbtq+"), an adjective, "disabled" or "deaf".
_WORD_RUN = re.compile(r"\w+")
_GROUP_WORD_STARTS = frozenset([_WORD_RUN.match(w).group(0) for w in GROUP_WORDS] + list(GROUP_ADJECTIVES)
                               + ["disabled", "deaf"])
# All are runs of a-z, so a text holds one as a whole \w run only if it holds it as a run of a-z, and a match
# starts only where one stands with no letter a-z either side.
_GROUP_WORD_START_BYTES = frozenset(w.encode("ascii") for w in _GROUP_WORD_STARTS)


def _may_name_a_group(text: str) -> bool:
    return not _GROUP_WORD_START_BYTES.isdisjoint(_runs(text, _LOWER_RUNS))


def lower(norm: Normalised) -> Normalised:
    """Lower-case, keeping one character per character (the rare expanding ones stay as they are)."""
    low = norm.text.lower()
    if len(low) == len(norm.text):
        return Normalised(low, norm.starts, norm.ends, norm.original)
    # "İ" (Turkish dotted capital I) lower-cases to two characters: read it as "i".
    text = "".join(c.lower() if len(c.lower()) == 1 else ("i" if c == "\u0130" else c) for c in norm.text)
    return Normalised(text, norm.starts, norm.ends, norm.original)


# Three or more single letters split by the same separator: "b u l l s h i t", "f.u.c.k", "s-h-i-t".
_SPACED = re.compile(r"(?<![\w*])([a-z])([ .\-_*·/,+|•]) ?(?:[a-z0134578@$]\2 ?){1,}[a-z0134578@$](?![\w])")
# After the first letter, leet characters may stand among spaced letters ("s h 1 t"); a word holding one
# is joined only when it reads as a target word once they are letters.
_SPACED_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a",
                              "$": "s"})
_SPACED_LEET_CHARS = frozenset("0134578@$")


# Words that three spread-out letters are joined into: the target words and the group words ("g a y people").
_JOINED_THREE = OBFUSCATION_TARGETS | GROUP_WORDS


def _leading_words(joined: str) -> int:
    """How many leading letters of joined spaced letters are one-letter words ("a", "i", "u" for you,
    "r" for are) before a target word, when the whole is not one: "uracunt" -> 3 ("u r a cunt"); else 0."""
    if joined in OBFUSCATION_TARGETS:
        return 0
    for k in range(1, min(3, len(joined) - 1) + 1):
        if joined[k - 1] not in "aiur":
            return 0
        if joined[k:] in OBFUSCATION_TARGETS:
            return k
    return 0


def join_spaced_letters(norm: Normalised) -> Normalised:
    """Join letters spread out with spaces or dots into one word ("b u l l s h i t" -> "bullshit").

    A run of four or more letters is joined; three only when the result is a known target word,
    so that ordinary text such as "a b c" or "I a m" stays as it is. Two spaces end a word
    ("f u c k  y o u" is two), and up to three leading one-letter words ("a", "i", "u", "r") that
    would otherwise be swallowed stay words of their own when the rest is a target ("you are a
    m o r o n", "u r a c u n t"). Leet characters may stand among the letters after the first ("s h 1 t"):
    a word holding one is joined only when it then spells a target, else its runs of letters are read
    as they would be without it ("h e l l o 4 u" -> "hello 4 u"). Each joined letter keeps its own span.
    """

    def join(m: re.Match) -> str | Spelled:
        s = m.group(0)
        letters = [i for i, c in enumerate(s) if "a" <= c <= "z" or c in _SPACED_LEET_CHARS]
        groups = [[letters[0]]]
        for i in letters[1:]:
            if m.group(2) == " " and s[groups[-1][-1] + 1:i].count(" ") >= 2:
                groups.append([i])
            else:
                groups[-1].append(i)
        text: list[str] = []
        spans: list[tuple[int, int]] = []

        def as_written(a: int, b: int) -> None:
            text.extend(s[a:b])
            spans.extend((i, i + 1) for i in range(a, b))

        def word(group: list[int]) -> bool:
            """Write one spread-out word joined, if it is one; False when it is not."""
            joined = "".join(s[i] for i in group).translate(_SPACED_LEET)
            words = _leading_words(joined)
            if words:
                for k in range(words):
                    text.extend([joined[k], " "])
                    spans.extend([(group[k], group[k] + 1), (group[k] + 1, group[k + 1])])
                group = group[words:]
            elif not (len(joined) >= 4 or joined in _JOINED_THREE):
                return False
            text.extend(s[i].translate(_SPACED_LEET) for i in group)
            spans.extend((i, i + 1) for i in group)
            return True

        for n, group in enumerate(groups):
            if n:  # the gap between two words, as written
                as_written(groups[n - 1][-1] + 1, group[0])
            joined = "".join(s[i] for i in group).translate(_SPACED_LEET)
            if all("a" <= s[i] <= "z" for i in group) or joined in _JOINED_THREE or _leading_words(joined):
                if not word(group):
                    as_written(group[0], group[-1] + 1)
                continue
            # Leet that spells no target: each run of three or more letters between the leet characters is
            # read as before ("h e l l o 4 u" -> "hello 4 u"), the rest as written.
            start = group[0]
            runs = [[]]
            for i in group:
                if s[i] in _SPACED_LEET_CHARS:
                    runs.append([])
                else:
                    runs[-1].append(i)
            for run in runs:
                if len(run) >= 3:
                    as_written(start, run[0])
                    if word(run):
                        start = run[-1] + 1
            as_written(start, group[-1] + 1)
        out = "".join(text)
        return s if out == s else Spelled(out, tuple(spans))

    if not _may_space_out(norm.text):
        return norm
    return _rewrite(norm, _SPACED, join)


def _ascii_classes() -> bytes:
    # a-z "a"; the leet characters "d" (digits) and "x" (the symbols, which are not word characters); other
    # word characters "w"; _SPACED's separators "s" ("_" and "*" too: as separators they are); the rest "o".
    table = bytearray(b"o" * 256)
    for chars, cls in ((_LOWER, b"a"), (b"0134578", b"d"), (b"@$", b"x"), (_LOWER.upper() + b"269", b"w"),
                       (b" .-_*/,+|", b"s")):
        for c in chars:
            table[c] = cls[0]
    return bytes(table)


_SPACED_CLASSES = _ascii_classes()
# What every match of _SPACED holds, in those classes: a letter after no word character (or first), a separator
# and maybe a space, a letter or leet character, a separator and maybe a space, a letter or leet character
# followed by no word character. "s" is put before the text for its first letter (and "_" or "*" may come before,
# which _SPACED does not allow: a look may say yes where the step does nothing, never the other way round).
_SPACED_LOOK = re.compile(rb"[sox]as{1,2}[adx]s{1,2}[adx](?:[sox]|$)")


def _may_space_out(text: str) -> bool:
    """Whether ``text`` may hold letters spread out (``_SPACED``). ASCII text is read in character classes, where
    a search is about twice as fast as _SPACED's (whose look-behind is tried at every character); other text
    is left to the step."""
    if not text.isascii():  # the step's own search decides (searching here too would read the text twice)
        return True
    return _SPACED_LOOK.search(b"s" + text.encode("ascii").translate(_SPACED_CLASSES)) is not None


_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "@": "a", "$": "s", "!": "i", "|": "l", "+": "t", "€": "e"})
_LEET_TOKEN = re.compile(r"(?<![\w@$!|+*#%€•∗°☆★†–¡·])[\w@$!|+*#%€•∗°☆★†–¡·]*[a-z][\w@$!|+*#%€•∗°☆★†–¡·]*")
# Only texts with a letter next to a digit or symbol can hold leet or masked words.
_LEET_HINT = re.compile(r"[a-z][0-9@$!|+*#%€_•∗°☆★†–¡·]|[0-9@$!|+*#%€_•∗°☆★†–¡·][a-z]")
# Characters that stand for hidden letters: ASCII ones, and the bullets, stars, daggers and dashes that a
# review found getting "f•ck", "f∗ck", "sh†t" and "f–ck" through.
_MASK_CHARS = "*#%_•∗°☆★†–¡·"
# Leet symbols that, where no leet reading spells a word, may be masks as well: "f@ck" (read as leet, "fack").
_LEET_MASKS = "@$!|+€"
_INNER_LEET = re.compile(r"[a-z][0134578@$!|+€]+[a-z]")
_CODE = re.compile(r"[A-Z]{1,3}[0-9]{2,}")
# An exam grade: "three A*s at A-level", "an A**" (not "a*s", "a**", which mask "ass").
_GRADE = re.compile(r"A\*{1,2}s?")
_TARGET_WORDS_BY_LEN: dict[int, list[str]] = {}
# Slurs are looked for only where a mask fits none of the other target words, so that listing them changed
# no reading of a mask that fits a swear word or an insult ("k***s" stays "kills", not "kikes"; "w******"
# "wankers", not "wetback").
_SLUR_WORDS_BY_LEN: dict[int, list[str]] = {}
# ... and only where more than half its letters show ("n*gg*rs", "p*ki"): a mask that shows its first letter or
# two may hide any word, and was read as a slur where it hid one no list holds ("t*****" tosser, "b****rs"
# buggers, "w******s" wazzocks; found by a review).
_SLUR_MIN_SHOWN = 0.5
# Sorted: where a masked token fits several words ("p****": prick, pussy) the first one wins, and a
# set's order changes from process to process (string hashing is salted), so training would not be
# reproducible.
for _w in sorted(OBFUSCATION_TARGETS):
    (_SLUR_WORDS_BY_LEN if _w in SLURS else _TARGET_WORDS_BY_LEN).setdefault(len(_w), []).append(_w)


# The words people mask most, the most masked first. A mask that fits several target words is read as the
# first of these it fits ("s***": shit, not scum; "c***": cunt), and one that fits none of them is left as
# written ("h***": hack, hate, hoes): a reader masks swear words, and guessing an insult from one letter made
# "oh s***!" and "go to h***" personal attacks (found by a review).
_MOST_MASKED = ("fuck", "fucking", "fucked", "fucker", "fuckers", "fuckin", "motherfucker", "shit", "shite",
                "shitty", "bullshit", "cunt", "cunts", "dick", "dickhead", "prick", "piss", "pissed", "twat", "wank",
                "wanker", "bitch", "bastard", "bollocks", "arse", "arsehole", "asshole", "crap", "damn", "cock",
                "slut", "whore", "pussy", "bugger")


def _unmask(core: str, masks: str = _MASK_CHARS) -> str | None:
    """Resolve a masked token ("f*ck", "f**king", "a$$") against the target words: the one word it fits, or
    the most masked of several (see ``_MOST_MASKED``); None when none fits or the guess is no better than chance."""
    fits = _fits(core, masks, _TARGET_WORDS_BY_LEN)
    if not fits and _SLUR_MIN_SHOWN * len(core) < sum(c not in masks for c in core):
        fits = _fits(core, masks, _SLUR_WORDS_BY_LEN)
    if len(fits) <= 1:
        return fits[0] if fits else None
    return next((word for word in _MOST_MASKED if word in fits), None)


def _fits(core: str, masks: str, words_by_len: dict[int, list[str]]) -> list[str]:
    """The words of ``words_by_len`` that the masked token ``core`` may stand for."""
    return [word for word in words_by_len.get(len(core), ())
            if all(c == w or c in masks or c.translate(_LEET) == w for c, w in zip(core, word))]


# Markdown-style emphasis around a word: "*am*", "**I**", "_really_" (the marks are not masked letters).
_EMPHASIS = re.compile(r"(\*{1,2}|_{1,2})([^*_]+)\1")
# Symbols that stand for more than one letter: "ki11" is "kill", "1diot" is "idiot".
_AMBIGUOUS_LEET = {"1": "il", "|": "li", "!": "il"}
_MAX_AMBIGUOUS = 4


def _leet_readings(core: str):
    """``core`` with its leet translated, each ambiguous symbol read every way it can be (at most 2**4 readings)."""
    base = core.translate(_LEET)
    places = [i for i, c in enumerate(core) if c in _AMBIGUOUS_LEET][:_MAX_AMBIGUOUS]
    yield base
    for choice in itertools.product(*(_AMBIGUOUS_LEET[core[i]] for i in places)):
        letters = list(base)
        for i, letter in zip(places, choice):
            letters[i] = letter
        yield "".join(letters)


def _fix_token(core: str) -> str:
    if core in PHONETIC:
        return PHONETIC[core]
    emphasis = _EMPHASIS.fullmatch(core)
    if emphasis:
        marks = emphasis.group(1)
        return marks + _fix_token(emphasis.group(2)) + marks
    # A mask stands for letters inside or at the end of a word whose first letter shows ("f*ck", "f***");
    # a leading "#" is a hashtag and a leading "*" a footnote or emphasis.
    if core[:1] not in _MASK_CHARS and any(c in _MASK_CHARS for c in core.strip("_")):
        resolved = _unmask(core)
        if resolved:
            return resolved
    for reading in _leet_readings(core):
        if reading in OBFUSCATION_TARGETS:
            return reading
    if core[:1].isalpha() and any(c in _LEET_MASKS for c in core):
        resolved = _unmask(core, _MASK_CHARS + _LEET_MASKS)
        if resolved:
            return resolved
    if _INNER_LEET.search(core) and not core[:1].isdigit():
        return _INNER_LEET.sub(lambda x: x.group(0).translate(_LEET), core)
    return core


def undo_leet_and_masks(norm: Normalised) -> Normalised:
    """Undo leetspeak and masked letters: "sh1t" -> "shit", "@ss" -> "ass", "f*ck" -> "fuck", "h8" -> "hate".

    Digits and symbols between letters are always translated; elsewhere only when the result is a
    known target word, so "covid19", "g7" and "$5" keep their meaning.
    """
    if not _may_hold_leet(norm.text):
        return norm
    return _undo_leet(norm)


def _undo_leet(norm: Normalised) -> Normalised:
    """``undo_leet_and_masks`` of every token, without the look first."""

    def fix(m: re.Match) -> str:
        token = m.group(0)
        core = token.rstrip("!")
        if core.isalpha() or not core:
            return token
        # Written in capitals as letters then two or more digits, a token is a code, not leet: the A55
        # (a road), T175, ID107.
        a = m.start()
        written = unicodedata.normalize("NFKC", norm.original[norm.starts[a]:norm.ends[a + len(core) - 1]])
        if _CODE.fullmatch(written) or _GRADE.fullmatch(written):
            return token
        return _fix_token(core) + token[len(core):]

    return _rewrite(norm, _LEET_TOKEN, fix)


def _may_hold_leet(text: str) -> bool:
    """Whether ``undo_leet_and_masks`` may change ``text``. ASCII: whether it holds a token the step looks at
    (one of _LEET_TOKEN's runs with a letter a-z and, but for trailing "!", a character that is not a letter).
    Otherwise whether a letter a-z stands next to a digit or symbol: no token changes without one.

    In ASCII, such a token holds a letter next to one of its other characters that is not "!" ("an", "na" in
    the classes below), a letter after "!" ("!a"), or a letter before "!"s that more of the token follows
    ("a!+" then "n"; then "a" holds "!a"): walking from the letter towards the other character, a letter first meets one
    that is not a letter. A capital counts as a letter here (the step sees lower-case text), so the look may
    say yes for "A1", which the step leaves; never no where it acts."""
    if not text.isascii():
        return _LEET_HINT.search(text) is not None
    classes = text.encode("ascii").translate(_LEET_CLASSES)  # C-speed scans: a quarter of a token loop's time
    return (b"an" in classes or b"na" in classes or b"!a" in classes
            or (b"a!" in classes and _LEET_BANG.search(classes) is not None))


def _leet_classes() -> bytes:
    # Letters "a", the other characters of _LEET_TOKEN's runs in ASCII "n" but "!" itself, the rest a space.
    table = bytearray(b" " * 256)
    for chars, cls in ((_LOWER + _LOWER.upper(), b"a"), (b"0123456789_@$|+*#%", b"n"), (b"!", b"!")):
        for c in chars:
            table[c] = cls[0]
    return bytes(table)


_LEET_CLASSES = _leet_classes()
_LEET_BANG = re.compile(rb"a!+n")


_REPEAT = re.compile(r"([a-z])\1{2,}")
# A whole word of letters a-z. (Matching words that hold a repeat in one pattern,
# r"\b[a-z]*([a-z])\1{2,}[a-z]*\b", backtracks cubically where the letters run into a digit or "_":
# 13 s for 1,600 characters, hours at the 20,000 a comment may have.)
_LETTER_WORD = re.compile(r"\b[a-z]+\b")


def squeeze_repeats(norm: Normalised) -> Normalised:
    """Shorten letters repeated three or more times ("fuuuuck" -> "fuck", "soooo" -> "soo")."""

    def squeeze(m: re.Match) -> str:
        word = m.group(0)
        if not _REPEAT.search(word):
            return word
        single = _REPEAT.sub(r"\1", word)
        if single in OBFUSCATION_TARGETS:
            return single
        return _REPEAT.sub(r"\1\1", word)

    if not _may_repeat(norm.text):
        return norm
    return _rewrite(norm, _LETTER_WORD, squeeze)


_THRICE = re.compile(r"([a-z])\1\1")  # what _REPEAT finds, without its open repeat: a faster search


def _may_repeat(text: str) -> bool:
    # One search for a letter three times over: about half the time of 26 substring scans on news comments.
    return _THRICE.search(text) is not None


# Slips of the keyboard, written or meant: two letters of an abusive word swapped ("fcuk", "idoit",
# "haet") or one of its letters doubled ("scumm", "idiiot"). Each such spelling of a target word of four
# or more letters reads as the word, unless it is the spelling of two targets or listed here: English
# words ("arts" is not "rats", "lair" not "liar", "looser" not "loser", "Shiite" not "shite", "hatted",
# "retraded"), the same slip of a common innocent word ("itts" is "its", "certin" "certain", "admmit" "admit", "lsut" "lust",
# "hatse" "haste", "wtat" "watt"), names and abbreviations (Omron, Hoess, RTAs, hockey's "dman"), and
# words of other languages (German "hatte", Danish "sult", Polish "trud"). Listed by hand, and by a review
# against two English dictionaries and word frequencies. Kept: "haet", which is also "heat" misspelt
# ("the haet wave" reads as hate), for "I haet ..." (a functional test's kind of slip).
_NOT_SLIPS = frozenset("""ares arts carp cnut cnuts hose lair lairs lira liras rase assess looser loosers hatter
    hatters shiite hatted hatting psis retrad retraded itts admmit lsut lsuts hatse wtat wtats moorn hoess assses
    ipss rtas dman omron hatte sult trud rast morno ilar certin""".split())


# A word naming a group (``lexicon.GROUP_WORDS``, ``GROUP_ADJECTIVES``) is read through the same slips, and one
# of seven letters or more also with one letter inside it missing ("Musilms", "Disbaled people", "immigrnts"),
# so that a misspelt group word is the group's placeholder as the word is (``mask_group_words``): written
# as slips, "Musilms are all savages." scored 0.49 for identity attack, "Immigrnts are parasites." 0.16.
# Not read so: the slips that are words or names ("morons" for "mormons", "refuge", "refuges", "tarns", "chines",
# "Paik", "Raab", "Christina", "Cristian", "Romain", "Milvus migrans", Italian "chiese"), words of other languages
# that are slips of slurs (Norwegian "ikke", Dutch "kiek", Hungarian "Paksi"), a country's name with its
# possessive's apostrophe left out ("indias", "africas", "pakistans") and the "lbgt" the model has learnt as it is
# (a review found most of them).
_NOT_GROUP_SLIPS = frozenset("""morons refuge refuges tarns chines indias lbgt paik paiks raab christina christin christan
    cristian romain migrans africas nigerias pakistans mexicas arba latios latias chiese poolish defa lation ikke kiek
    paksi""".split())
_GROUP_SLIP_MIN_MISSING = 7


def _slips() -> dict[str, str]:
    found: dict[str, set[str]] = {}
    groups = {w for w in GROUP_WORDS | GROUP_ADJECTIVES if w.isalpha()}
    for word in OBFUSCATION_TARGETS | groups:
        if len(word) < 4 or not word.isalpha():
            continue
        swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)}
        doubled = {word[:i + 1] + word[i:] for i in range(len(word))}
        missing = ({word[:i] + word[i + 1:] for i in range(1, len(word) - 1)}
                   if word in groups and len(word) >= _GROUP_SLIP_MIN_MISSING else set())
        for slip in swapped | doubled | missing:
            found.setdefault(slip, set()).add(word)
    known, excluded = OBFUSCATION_TARGETS | groups, _NOT_SLIPS | _NOT_GROUP_SLIPS
    return {slip: words.pop() for slip, words in found.items()
            if len(words) == 1 and slip not in known and slip not in excluded}


SLIPS = _slips()
_SLIP_BYTES = frozenset(s.encode("ascii") for s in SLIPS)


def _may_slip(text: str) -> bool:
    return not _SLIP_BYTES.isdisjoint(_runs(text, _LOWER_RUNS))


def undo_slips(norm: Normalised) -> Normalised:
    """Read a slip of an abusive word as the word: "fcuk" -> "fuck", "idoit" -> "idiot", "scumm" -> "scum"
    (two letters swapped or one doubled; see ``SLIPS``). Other words are left as they are."""
    if not _may_slip(norm.text):
        return norm
    return _rewrite(norm, _LETTER_WORD, lambda m: SLIPS.get(m.group(0), m.group(0)))


# Each phrase of ``lexicon.INNOCENT_SENSE_PHRASES`` as one group of one pattern, so a match's group says what it reads as.
_INNOCENT_SENSE = re.compile(r"(?<!\w)(?:" + "|".join(f"({pattern})" for _, pattern, _ in INNOCENT_SENSE_PHRASES) + ")")
_INNOCENT_READINGS = tuple(reading for _, _, reading in INNOCENT_SENSE_PHRASES)
_INNOCENT_PIECES = tuple(sorted({piece for piece, _, _ in INNOCENT_SENSE_PHRASES}))


def read_innocent_senses(norm: Normalised) -> Normalised:
    """Read a swear word in a set phrase that gives it its innocent sense as a plain word for the same
    thing ("pussy willow" -> "catkin willow", "spotted dick" -> "spotted pudding", "bastard file" ->
    "coarse file"; ``lexicon.INNOCENT_SENSE_PHRASES``). Works on lower-case text with its whitespace
    collapsed; the word alone ("you pussy") is left as it is. The offset map sends the new word back to
    the word the commenter wrote.
    """
    if not _may_hold_innocent_sense(norm.text):  # most texts hold none of the words
        return norm
    return _rewrite(norm, _INNOCENT_SENSE, lambda m: _INNOCENT_READINGS[m.lastindex - 1])


def _may_hold_innocent_sense(text: str) -> bool:
    return any(piece in text for piece in _INNOCENT_PIECES)


_SPACES = re.compile(r"\s{2,}|[\t\r\n\f\v]")
_SPACES_HINT = re.compile(r"\s\s|[\t\r\n\f\v]|^\s|\s$")
_EDGE_SPACES = re.compile(r"^\s+|\s+$")
# ASCII whitespace other than the space (str.isspace, which \s follows, counts \x1c-\x1f too).
_ASCII_BREAKS = b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"


def _may_space_oddly(text: str) -> bool:
    if text.isascii():
        raw = text.encode("ascii")
        return (b"  " in raw or len(raw.translate(None, _ASCII_BREAKS)) != len(raw)
                or raw[:1].isspace() or raw[-1:].isspace())
    return _SPACES_HINT.search(text) is not None


def collapse_whitespace(norm: Normalised) -> Normalised:
    """Turn any run of whitespace into one space and trim both ends."""
    if not _may_space_oddly(norm.text):
        return norm
    norm = _rewrite(norm, _SPACES, lambda m: " ")
    return _rewrite(norm, _EDGE_SPACES, lambda m: "")


STEPS = (
    replace_surrogates,
    undo_right_to_left_override,
    strip_html,
    unicode_nfkc,
    drop_invisible,
    drop_combining_marks,
    spell_out_obscene_emoji,
    fold_homoglyphs,
    mask_given_names,
    lower,
    join_spaced_letters,
    undo_leet_and_masks,
    squeeze_repeats,
    undo_slips,
    mask_group_words,
    collapse_whitespace,
    read_innocent_senses,  # after collapse_whitespace: its look-arounds hold one space
)


def normalise(text: str) -> Normalised:
    """Run every normalisation step over ``text``, keeping the map back to it."""
    norm = Normalised.of(text)
    for step in STEPS:
        norm = step(norm)
    return norm


def normalise_text(text: str) -> str:
    """The normalised text alone."""
    return normalise(text).text


def normalise_texts(texts) -> list[str]:
    """Normalise a sequence of texts (a module-level function so that pipelines can be saved)."""
    return [normalise(t).text for t in texts]
