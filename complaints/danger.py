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

PHRASES_FILE = Path(__file__).parent / "data" / "danger_phrases.json"


class Danger(enum.Enum):
    NONE = "none"
    ASK = "ask"  # it may be danger: ask the child
    NOW = "now"  # the child says they are in danger now


def normalise(text: str) -> str:
    """Lower case, no accents, letters and digits only, single spaces, with a space
    at each end so phrases match whole words: " il m a frappe "."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return f" {' '.join(re.sub(r'[^a-z0-9]+', ' ', folded).split())} "


@cache
def _phrases() -> dict[str, tuple[str, ...]]:
    data = json.loads(PHRASES_FILE.read_text(encoding="utf-8"))
    by_kind: dict[str, list[str]] = {"now": [], "ask": [], "safe": []}
    for language, kinds in data.items():
        if language.startswith("_"):
            continue
        for kind, phrases in kinds.items():
            by_kind[kind] += [normalise(p) for p in phrases]
    # Longest first, so "not in danger" is removed before "in danger" is looked for.
    return {kind: tuple(sorted(set(p), key=len, reverse=True)) for kind, p in by_kind.items()}


def danger_in(text: str) -> Danger:
    """NOW, ASK or NONE for one message."""
    words = normalise(text)
    phrases = _phrases()
    for safe in phrases["safe"]:
        words = words.replace(safe, " | ")
    if any(p in words for p in phrases["now"]):
        return Danger.NOW
    if any(p in words for p in phrases["ask"]):
        return Danger.ASK
    return Danger.NONE
