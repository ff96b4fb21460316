"""Language identification: one text at a time through py3langid, and the vectorised batch path."""

from __future__ import annotations

import pytest

from moderation import language
from moderation.language import identify_language, identify_languages
from moderation.normalise import normalise_text
from training import corpus

EDGE = ["", "!!!", "123 456", "OK", "lol ok", "ÇA VA BIEN, MERCI BEAUCOUP POUR TOUT", "你好世界今天天气很好",
        "Привет, как дела у тебя сегодня?", "Das ist eine sehr schlechte Entscheidung der Regierung.",
        "😀😀 emoji only", "x" * 1_500, "El gobierno " * 200, "The council voted 7-2 to close the library."]


def _corpus_texts() -> list[str]:
    _, comments = corpus.load_corpus(corpus.DATA_DIR)
    return [normalise_text(t) for t in comments["text"]]


@pytest.mark.parametrize("batch_min", [16, 1])
def test_the_batch_gives_what_one_at_a_time_gives(monkeypatch, batch_min):
    monkeypatch.setattr(language, "_BATCH_MIN", batch_min)
    texts = _corpus_texts() + EDGE
    one = [identify_language(t) for t in texts]
    many = identify_languages(texts)
    assert [lang for lang, _ in many] == [lang for lang, _ in one]
    assert max(abs(a - b) for (_, a), (_, b) in zip(one, many)) < 1e-4


def test_small_batches_and_texts_without_letters():
    assert identify_languages([]) == []
    assert identify_languages(["", "!!!"] * 10) == [("und", 0.0)] * 20
    answers = identify_languages(EDGE * 2)
    assert answers[EDGE.index("Das ist eine sehr schlechte Entscheidung der Regierung.")][0] == "de"
    assert answers[EDGE.index("lol ok")][0] == "en", "too short to call foreign: the site's default"


@pytest.mark.parametrize("text,expected", [
    ("你是个白痴，先读文章。", "zh"),  # no spaces: each character counts as a word
    ("この記事はとても良いです", "ja"),
    ("مقالة رائعة", "ar"),  # two words, but no Latin letter: not English
    ("Очень плохо", "ru"),
    ("lol ok", "en"),  # short Latin-script text keeps the default
    ("Danke schön", "en"),
    ("¯\\_(ツ)_/¯", "en"),  # one letter is too little to call a language
    ("π", "en"),
])
def test_short_text_gets_the_default_only_in_its_script(text, expected):
    assert identify_language(text)[0] == expected
    assert identify_languages([text] * 20)[0][0] == expected


@pytest.mark.parametrize("text,expected", [
    ("Eres un idiota, vete a la mierda", "es"),  # 0.87: under the 0.9 a shorter text needs
    ("Sei un idiota totale e un cretino", "it"),  # 0.71
    ("haha that was so funny", "en"),  # five words: the default unless the guess is sure
    ("The council voted 7-2 to close the library on Tuesday.", "en"),
])
def test_a_text_of_six_words_or_more_is_read_as_its_language_at_a_lower_confidence(text, expected):
    assert identify_language(text)[0] == expected
    assert identify_languages([text] * 20)[0][0] == expected
