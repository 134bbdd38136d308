"""Which language a child's first text is in, from greetings and common words
(intake/data/language_words.json). Used only while the number has no language yet;
EN/FR/ES switch at any time."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils import translation

from complaints.danger import danger_language, normalise

WORDS_FILE = Path(__file__).parent / "data" / "language_words.json"


@cache
def _lists() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    data = json.loads(WORDS_FILE.read_text(encoding="utf-8"))
    return {
        language: (
            frozenset(normalise(g).strip() for g in lists["greetings"]),
            frozenset(normalise(w).strip() for w in lists["words"]),
        )
        for language, lists in data.items()
        if not language.startswith("_")
    }


def is_greeting_only(text: str) -> bool:
    """ "Hola!", "bonjour madame", "hi there :)": nothing to keep as a story."""
    words = normalise(text).strip()
    return bool(words) and any(words in greetings for greetings, _words in _lists().values())


def language_of(text: str) -> str | None:
    """The language of a text, or None when it cannot tell. A greeting decides, then
    Arabic script (whatever the words); a cry for help ("au secours", "socorro"); else the language with the most common
    words, if it leads by two or more. Digits and keywords say nothing."""
    words = normalise(text).split()
    if not words or all(w.isdigit() for w in words):
        return None
    lists = _lists()
    joined = f" {' '.join(words)} "
    for language, (greetings, _common) in lists.items():
        # A greeting at the start: "hola", "buenos dias, me pegaron".
        if any(joined.startswith(f" {g} ") for g in greetings):
            return language
    if _in_arabic_script(joined) and "ar" in dict(settings.LANGUAGES):
        return "ar"  # whatever the words: the reply must be readable
    cry = danger_language(text)
    if cry:
        return cry
    scores = sorted(
        ((sum(w in common for w in words), language) for language, (_g, common) in lists.items()),
        reverse=True,
    )
    (best, language), (second, _other) = scores[0], scores[1]
    return language if best >= 2 and best - second >= 2 else None


def _in_arabic_script(normalised: str) -> bool:
    letters = [c for c in normalised if c.isalpha()]
    return bool(letters) and all("\u0621" <= c <= "\u06d3" for c in letters)


def offered_languages(unit=None) -> list[tuple[str, str]]:
    """(code, name in that language) of the languages a child may choose: the unit's
    (Unit.languages; empty means all), or every language the service has."""
    languages = unit.offered_languages() if unit is not None else list(settings.LANGUAGES)
    named = []
    for code, name in languages:
        with translation.override(code):
            named.append((code, str(name)))
    return named
