"""Offline language identification (py3langid's bundled model; no network)."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

__all__ = ["LANGUAGES", "NO_WORDS", "REPORTED_LANGUAGES", "UNKNOWN_SCRIPT", "identify_language", "identify_languages"]

# The language given to a text with no letter at all ("+1", "!!!", emoji): ISO 639's "undetermined".
NO_WORDS = "und"

# The languages a news site's readers most often write in; restricting the candidates keeps
# very short English comments ("lol ok") from being read as Turkish or Czech. Indonesian, Tagalog,
# Vietnamese and Swahili joined when a review found them all read as English ("Papatayin kita kapag
# nakita kita ulit", "I'll kill you if I see you again", approved): on 47,221 texts of the English
# sources they took two more (a Tagalog tweet and "Kratataaaaa swag bitch"), and made identification no
# slower on 2,000 news comments (95 against 96 ms, side by side). Malay reads as Indonesian.
LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "ru", "uk", "tr", "ar", "zh", "ja",
             "ko", "sv", "da", "no", "fi", "ro", "el", "cs", "hu", "hi", "id", "tl", "vi", "sw")
_MIN_CONFIDENCE = 0.9
# A text of six words or more is read as the language it was guessed in at a lower confidence:
# "Eres un idiota, vete a la mierda" is Spanish at 0.87 and "Sei un idiota totale e un cretino"
# Italian at 0.71, and both were scored as English. Measured on 30,726 comments and tweets of the
# English training sources (all of validation and 20,000 of training): 59 were read as another
# language, against 56 at 0.9 ("haha zombie week is so real": Dutch, 0.71).
_LONG_TEXT_WORDS = 6
_LONG_TEXT_MIN_CONFIDENCE = 0.7
# A shorter text holding a letter English never uses (``_NOT_ENGLISH_LETTERS``) is read as its language at this
# confidence: with more candidates the guess is spread thinner ("Kurwa mać" is Polish at 0.86 since Swahili joined).
_FOREIGN_LETTERS_MIN_CONFIDENCE = 0.8
_LETTER = re.compile(r"[^\W\d_]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
# Scripts written without spaces between words: each character counts as a word.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")
_MIN_SCRIPT_CONFIDENCE = 0.5
_LATIN_SCRIPT = frozenset("en es fr de it pt nl pl tr sv da no fi ro cs hu id tl vi sw".split())
# What a text is said to be in when its script is none of the candidates' and ``_SCRIPTS`` does not know it:
# ISO 639-2's "uncoded languages".
UNKNOWN_SCRIPT = "mis"
# Scripts of languages that are not candidates, each written by one language above all: a text in one of
# them that the candidates fit badly is that language (Hebrew was read as Czech at 0.19, and so given
# English; found by a review).
_SCRIPTS = (("\u0590", "\u05ff", "he"), ("\u0530", "\u058f", "hy"), ("\u0980", "\u09ff", "bn"),
            ("\u0a00", "\u0a7f", "pa"), ("\u0a80", "\u0aff", "gu"), ("\u0b00", "\u0b7f", "or"),
            ("\u0b80", "\u0bff", "ta"), ("\u0c00", "\u0c7f", "te"), ("\u0c80", "\u0cff", "kn"),
            ("\u0d00", "\u0d7f", "ml"), ("\u0d80", "\u0dff", "si"), ("\u0e00", "\u0e7f", "th"),
            ("\u0e80", "\u0eff", "lo"), ("\u0f00", "\u0fff", "bo"), ("\u1000", "\u109f", "my"),
            ("\u10a0", "\u10ff", "ka"), ("\u1200", "\u139f", "am"), ("\u1780", "\u17ff", "km"))


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(LANGUAGES))
    # The full 142-language table (27 MB) is only needed to restrict again; we never do.
    ident._full_model = None
    return ident


def _decide(text: str, lang: str, confidence: float, default: str) -> tuple[str, float]:
    if lang == default:
        return lang, float(confidence)
    # Text whose letters are mostly not Latin is not in a Latin-script default language, however short
    # ("مقالة رائعة", and "אני ארצח אותך lol", which one Latin letter used to make English: found by a review);
    # one letter is too little to go on ("π", the shrug's "ツ").
    letters = len(_LETTER.findall(text))
    if default in _LATIN_SCRIPT and letters >= 2 and 2 * len(_LATIN.findall(text)) < letters:
        if confidence >= _MIN_SCRIPT_CONFIDENCE and lang not in _LATIN_SCRIPT:
            return lang, float(confidence)
        # The candidates fit it badly (Thai was read as Indonesian at 0.52): the language of its script where
        # one is known, else the best guess in another script, else "a language without a code".
        return _script_language(text) or (lang if lang not in _LATIN_SCRIPT else UNKNOWN_SCRIPT), float(confidence)
    words = len(text.split()) + len(_UNSPACED.findall(text))
    foreign = _foreign_letters(text, default)
    needed = (_LONG_TEXT_MIN_CONFIDENCE if words >= _LONG_TEXT_WORDS
              else _FOREIGN_LETTERS_MIN_CONFIDENCE if foreign else _MIN_CONFIDENCE)
    if confidence < needed or (words < 3 and not foreign):
        return default, float(confidence)
    return lang, float(confidence)


# Every code identification reports, bar NO_WORDS: what a policy's ``languages`` may list.
REPORTED_LANGUAGES = LANGUAGES + tuple(lang for _, _, lang in _SCRIPTS) + (UNKNOWN_SCRIPT,)


def _script_language(text: str) -> str | None:
    """The language of the first letter's script, where ``_SCRIPTS`` knows it."""
    for c in text:
        if c.isalpha():
            for low, high, lang in _SCRIPTS:
                if low <= c <= high:
                    return lang
    return None


# Letters of other Latin-script languages that English words, names and loanwords do not use (unlike é, ñ,
# ü, ç: "café", "jalapeño", "Müller"): a short text holding one is not given the default language
# ("Jesteś idiotą", "Kurwa mać" and "Scheiße" were reported as English and scored as it; found by a review).
# Upper and lower case listed, not matched ignoring case: Python's regular expressions then take "ı" (Turkish dotless
# i) for "i" and "I", which every English text holds (found by a review).
_NOT_ENGLISH_LETTERS = re.compile("[ąęśćźżłńřěůčšžďťňßğşıțșăőűœĄĘŚĆŹŻŁŃŘĚŮČŠŽĎŤŇĞŞİȚȘĂŐŰŒ]")


def _foreign_letters(text: str, default: str) -> bool:
    return default == "en" and _NOT_ENGLISH_LETTERS.search(text) is not None


def identify_language(text: str, default: str = "en") -> tuple[str, float]:
    """ISO 639-1 code and confidence; ``und`` for text without letters.

    A short or uncertain text is given the site's ``default`` language: one-word reactions carry
    too little signal, and calling them foreign would send them all to a moderator (a short text
    confidently in another language is not, when it holds a letter English never uses: "Scheiße",
    "Jesteś idiotą"). Two exceptions:
    text with two or more letters but no Latin one is not given a Latin-script default ("مقالة رائعة"
    is not English), and in scripts written without spaces (Chinese, Japanese, Thai) each character counts
    as a word.
    """
    if not _LETTER.search(text):
        return NO_WORDS, 0.0
    lang, confidence = _identifier().classify(text)
    return _decide(text, lang, confidence, default)


def identify_languages(texts: list[str], default: str = "en") -> list[tuple[str, float]]:
    """``identify_language`` of each text, from one vectorised pass over all of them.

    py3langid walks its byte automaton one byte at a time in Python; here every byte position of
    every text is stepped at once (``_hits``: exactly py3langid's feature counts, tested), and the
    naive Bayes scores are summed as py3langid sums them but in another order, so a confidence can
    differ from py3langid's in the sixth decimal (tested within 1e-4; the languages are the same).
    """
    with_letters = [i for i, t in enumerate(texts) if _LETTER.search(t)]
    out: list[tuple[str, float]] = [(NO_WORDS, 0.0)] * len(texts)
    ident = _identifier()
    start = 0
    while start < len(with_letters):  # at most _PASS_CHARS characters a pass (its arrays' memory follows them)
        end, size = start + 1, len(texts[with_letters[start]])
        while end < len(with_letters) and size + len(texts[with_letters[end]]) <= _PASS_CHARS:
            size += len(texts[with_letters[end]])
            end += 1
        part = with_letters[start:end]
        probs = _batch_probabilities(ident, [texts[i] for i in part])
        best = probs.argmax(axis=1)
        for row, i in enumerate(part):
            out[i] = _decide(texts[i], ident.nb_classes[best[row]], float(probs[row, best[row]]), default)
        start = end
    return out


_PASS_CHARS = 200_000


@lru_cache(maxsize=1)
def _nb_ptc32(ident) -> np.ndarray:
    """py3langid's per-feature class log-probabilities as float32 (the sums below are float32, as before)."""
    return np.ascontiguousarray(ident.nb_ptc, dtype=np.float32)


@lru_cache(maxsize=1)
def _automaton():
    """py3langid's automaton as arrays, and its depth: the longest string a state stands for."""
    ident = _identifier()
    moves = np.frombuffer(ident.tk_nextmove, dtype=f"u{ident.tk_nextmove.itemsize}")  # a view, not a copy
    row_base = np.asarray(ident.tk_row, dtype=np.int64) << 8
    output = np.asarray(ident.tk_output, dtype=np.int64)
    # A state is the longest suffix of the bytes read that its trie holds, so its depth is the fewest
    # bytes that reach it from the start: breadth first over every byte.
    seen = np.zeros(len(row_base), dtype=bool)
    seen[0] = True
    frontier, depth = np.zeros(1, dtype=np.int64), 0
    byte = np.arange(256)
    while True:
        found = []
        for block in range(0, len(frontier), 1024):  # 256 moves a state: blocks bound the arrays' memory
            reached = moves[(row_base[frontier[block:block + 1024]][:, None] + byte).ravel()]
            found.append(np.unique(reached[~seen[reached]]))
        frontier = np.unique(np.concatenate(found)).astype(np.int64)
        if not len(frontier):
            break
        seen[frontier] = True
        depth += 1
    if moves[row_base[0]] != 0:
        raise RuntimeError("py3langid's automaton: byte 0 leaves the start state; the windowed walk needs it not to")
    return moves, row_base, output, depth


def _hits(encoded: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(text, feature) of each output py3langid's walk meets, for every byte of every text at once.

    The walk's state after a byte is the longest suffix of the bytes so far that the automaton's trie
    holds, at most ``depth`` bytes: so it is the state that walking just the last ``depth`` bytes from
    the start gives. Each text is preceded by ``depth - 1`` zero bytes (which keep the start state), and
    all positions take those ``depth`` steps together.
    """
    moves, row_base, output, depth = _automaton()
    if not encoded:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pad = b"\0" * (depth - 1)
    data = np.frombuffer(b"".join(pad + e for e in encoded), dtype=np.uint8)
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    # Every place of ``data`` from the first text byte on takes its steps, the padding's too (a few per cent more
    # places, whose states are dropped): each step's bytes are then one slice of ``data``, not gathered.
    walked = len(data) - (depth - 1)
    state = np.zeros(walked, dtype=np.int64)
    for back in range(depth - 1, -1, -1):
        state = moves[row_base[state] + data[depth - 1 - back:len(data) - back]]
    # The text bytes among the places walked: each text's bytes, then the next text's padding.
    is_text = np.repeat(np.tile(np.array([True, False]), len(encoded)),
                        np.stack([lengths, np.full(len(encoded), depth - 1)], axis=1).ravel())[:walked]
    feature = output[state[is_text]]
    text_of = np.repeat(np.arange(len(encoded)), lengths)
    hit = feature >= 0
    return text_of[hit], feature[hit]


def _batch_probabilities(ident, texts: list[str]) -> np.ndarray:
    """py3langid's normalised class probabilities, (n_texts, n_languages), for texts with letters."""
    encoded = [ident._encode(t) for t in texts]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    rows, features = _hits(encoded)
    if len(encoded) == 1:
        # One text (a service's call): the same sum with numpy alone, its features' rows added in the order the
        # sparse product adds them (ascending features), so the same float32 sums bit for bit (tested), in
        # about two thirds of the time scipy's matrix costs for one row.
        found, counts = np.unique(features, return_counts=True)
        scores = (np.log1p(counts.astype(np.float32))[:, None] * _nb_ptc32(ident)[found]).sum(axis=0, keepdims=True)
        has = np.array([len(found) > 0])
    else:
        # Each text's log1p(count)-weighted sum of its features' rows: one sparse product (texts x features). The
        # counts: scipy sums a row's repeated features (sorting each row's few, not all the hits at once: a
        # quarter faster than one sort of every (text, feature) key; whole numbers, so exactly the same).
        weights = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, features)),
                                shape=(len(encoded), ident.nb_ptc.shape[0]))
        weights.sum_duplicates()
        np.log1p(weights.data, out=weights.data)
        scores = np.asarray(weights @ _nb_ptc32(ident), dtype=np.float32)
        has = np.diff(weights.indptr) > 0  # a text with no features scores py3langid's 0
    scores[has] += ident.nb_pc
    scores *= (1.0 / np.sqrt(np.maximum(lengths, 1)))[:, None]
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    scores /= scores.sum(axis=1, keepdims=True)
    for i, j in ident._alias_pairs:  # script aliases share one label, as py3langid folds them
        scores[:, i] += scores[:, j]
        scores[:, j] = 0.0
    return scores
