"""Does what a child wrote say they are in danger right now?

A small word and phrase list per language (complaints/data/danger_phrases.json),
matched whole-word without case or accents, in every language at once: children mix
languages and a phone may have the wrong one set. No model and no third-party
service: the list can be read, reviewed and tested. When the list is unsure, the
caller asks the child ("Are you in danger right now?") rather than guess.
"""

from __future__ import annotations

import enum
import json
import re
import unicodedata
from functools import cache
from pathlib import Path

from complaints.digits import ascii_digits

PHRASES_FILE = Path(__file__).parent / "data" / "danger_phrases.json"
KINDS = ("now", "ask", "safe", "past", "present")


class Danger(enum.Enum):
    NONE = "none"
    ASK = "ask"  # it may be danger: ask the child
    NOW = "now"  # the child says they are in danger now


# Arabic letters (U+0621-U+064A, and ٱ ی ک ...) once NFKD has taken the hamza and madda
# off (أ إ آ read as ا) and the vowel marks are dropped as accents are.
# Spellings children mix up, read as one: ى as ي ("فى" is "في"), ة as ه, and the
# tatweel that stretches a word (خــطر).
ARABIC_VARIANTS = str.maketrans({"ى": "ي", "ة": "ه", "ـ": None})
NOT_A_LETTER = re.compile(r"[^a-z0-9\u0621-\u064a\u0671-\u06d3]+")


def normalise(text: str) -> str:
    """Lower case, no accents (nor Arabic vowel marks), letters and digits only (Arabic
    letters too, digits made ASCII), single spaces, with a space at each end so phrases
    match whole words: " il m a frappe "."""
    folded = unicodedata.normalize("NFKD", ascii_digits(text).casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c)).translate(ARABIC_VARIANTS)
    return f" {' '.join(NOT_A_LETTER.sub(' ', folded).split())} "


def _squeezed(text: str) -> str:
    """Normalised, and every run of one letter made one: a stretched cry ("ayudaaa",
    "heeelp") reads as the word. Phrases are squeezed the same way."""
    return re.sub(r"([a-z])\1+", r"\1", normalise(text))


@cache
def _phrases() -> dict[str, dict[str, tuple[str, ...]]]:
    """{kind: {language: phrases, longest first}}."""
    data = json.loads(PHRASES_FILE.read_text(encoding="utf-8"))
    by_kind: dict[str, dict[str, tuple[str, ...]]] = {kind: {} for kind in KINDS}
    for language, kinds in data.items():
        if language.startswith("_"):
            continue
        for kind, phrases in kinds.items():
            # Longest first, so "not in danger" is removed before "in danger" is looked for.
            by_kind[kind][language] = tuple(
                sorted({_squeezed(p) for p in phrases}, key=len, reverse=True)
            )
    return by_kind


@cache
def _patterns() -> dict[str, dict[str, re.Pattern]]:
    """{kind: {language: one pattern for its phrases}}: a search for it finds what
    `any(phrase in words ...)` finds, in one pass in C rather than a loop in Python
    (an inbound text is read for danger at least twice: issue 20)."""
    return {
        kind: {
            language: re.compile("|".join(re.escape(p) for p in phrases))
            for language, phrases in by_language.items()
            if phrases
        }
        for kind, by_language in _phrases().items()
    }


def _any(kind: str, words: str) -> bool:
    return any(pattern.search(words) for pattern in _patterns()[kind].values())


def danger_in(text: str) -> Danger:
    """NOW, ASK or NONE for one message. A 'now' phrase told as past ("last week he
    was hitting me") is asked about, unless the text also says it is now or again."""
    words = _squeezed(text)
    for phrases in _phrases()["safe"].values():
        for safe in phrases:
            words = words.replace(safe, " | ")
    if _any("now", words):
        if _any("past", words) and not _any("present", words):
            return Danger.ASK
        return Danger.NOW
    if _any("ask", words):
        return Danger.ASK
    return Danger.NONE


def danger_language(text: str) -> str | None:
    """The language of the danger words in a text ("au secours": fr), when only one
    language's list holds them; a child's first cry is answered in it."""
    words = _squeezed(text)
    found = {
        language
        for kind in ("now", "ask")
        for language, pattern in _patterns()[kind].items()
        if pattern.search(words)
    }
    return found.pop() if len(found) == 1 else None


def first_word(text: str) -> str:
    """The first word as the phrase list reads it: "Siii, tengo miedo" -> "si"."""
    words = _squeezed(text).split()
    return words[0] if words else ""
