"""Offline language identification (py3langid's bundled model; no network)."""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["LANGUAGES", "identify_language"]

# The languages a news site's readers most often write in; restricting the candidates keeps
# very short English comments ("lol ok") from being read as Turkish or Czech.
LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "ru", "uk", "tr", "ar", "zh", "ja",
             "ko", "sv", "da", "no", "fi", "ro", "el", "cs", "hu", "hi")
_MIN_CONFIDENCE = 0.9
_LETTER = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(LANGUAGES))
    # The full 142-language table (27 MB) is only needed to restrict again; we never do.
    ident._full_model = None
    return ident


def identify_language(text: str, default: str = "en") -> tuple[str, float]:
    """ISO 639-1 code and confidence; ``und`` for text without letters.

    A short or uncertain text is given the site's ``default`` language: one-word reactions carry
    too little signal, and calling them foreign would send them all to a moderator.
    """
    if not _LETTER.search(text):
        return "und", 0.0
    lang, confidence = _identifier().classify(text)
    if lang != default and (confidence < _MIN_CONFIDENCE or len(text.split()) < 3):
        return default, float(confidence)
    return lang, float(confidence)
