"""How hard a reporter page is to read: its words, sentences and, in English, the
Flesch-Kincaid grade (grade 4 to 5 is what a 10-year-old reads). Measured by
`manage.py reporter_wording` and held by the tests; the syllable count is the usual
vowel-group estimate, good enough to compare pages and catch a page gone formal."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# Block ends count as sentence ends: a list item or a heading is read as one.
_BLOCK_END = re.compile(r"</(li|p|h1|h2|h3|legend|label|button|a|figcaption|dt|dd)>", re.I)
_HIDDEN = re.compile(r"<(script|style|svg|head)\b.*?</\1>", re.I | re.S)


def visible_text(page_html: str) -> str:
    """The words a child reads on a page, one block per line."""
    text = _HIDDEN.sub(" ", page_html)
    text = _BLOCK_END.sub(".\n", text)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def sentences(text: str) -> list[str]:
    """Sentences with at least one real word (not a reference, number or code)."""
    return [s.strip() for s in re.split(r"[.?!:;\n]+", text) if re.search(r"[^\W\d]{2}", s)]


def syllables(word: str) -> int:
    word = word.lower().strip("'")
    count = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1  # a silent e: "care", "phone"
    return max(count, 1)


@dataclass(frozen=True)
class Wording:
    words: int
    sentences: int
    longest_sentence: int
    grade: float  # Flesch-Kincaid; meaningful for English only


def wording_of(text: str) -> Wording:
    said = sentences(text)
    words = [w for s in said for w in re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", s)]
    if not said or not words:
        return Wording(0, 0, 0, 0.0)
    grade = (
        0.39 * len(words) / len(said) + 11.8 * sum(syllables(w) for w in words) / len(words) - 15.59
    )
    return Wording(
        words=len(words),
        sentences=len(said),
        longest_sentence=max(len(s.split()) for s in said),
        grade=round(grade, 1),
    )
