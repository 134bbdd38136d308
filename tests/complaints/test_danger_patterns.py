"""The danger list is searched with one compiled pattern per kind and language
(complaints.danger._patterns), not phrase by phrase: whatever a child writes, it must
find exactly what reading the list phrase by phrase finds, in every language, for
every kind (now, ask, safe, past, present)."""

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from complaints import danger
from complaints.danger import KINDS, _any, _phrases, _squeezed, danger_language

EVERY_PHRASE = sorted({p.strip() for kind in KINDS for ps in _phrases()[kind].values() for p in ps})
FILLER = ["he", "the", "me", "a", "not", "now", "yesterday", "ya", "el", "la", "في", "|", "ok"]


def phrase_by_phrase(kind: str, words: str) -> bool:
    return any(p in words for phrases in _phrases()[kind].values() for p in phrases)


def languages_phrase_by_phrase(words: str) -> set[str]:
    return {
        language
        for kind in ("now", "ask")
        for language, phrases in _phrases()[kind].items()
        if any(p in words for p in phrases)
    }


# Texts made of the list's own phrases, cut and mixed with common words: the near
# misses ("hitting" for "hit", half a phrase, two phrases run together) are where a
# pattern could differ from a substring search.
pieces = st.one_of(
    st.sampled_from(EVERY_PHRASE),
    st.sampled_from(EVERY_PHRASE).map(lambda p: p[: max(1, len(p) // 2)]),
    st.sampled_from(EVERY_PHRASE).map(lambda p: p + "ing"),
    st.sampled_from(FILLER),
    st.text(max_size=8),
)
texts = st.lists(pieces, max_size=8).map(" ".join)


@hypothesis_settings(max_examples=400, deadline=None)
@given(texts)
def test_the_patterns_find_what_the_list_phrase_by_phrase_finds(text):
    words = _squeezed(text)
    for kind in KINDS:
        assert _any(kind, words) == phrase_by_phrase(kind, words), (kind, words)
    found = languages_phrase_by_phrase(words)
    assert danger_language(text) == (found.pop() if len(found) == 1 else None)


def test_every_phrase_of_the_list_is_found_by_its_pattern():
    for kind in KINDS:
        for language, phrases in _phrases()[kind].items():
            pattern = danger._patterns()[kind][language]
            for phrase in phrases:
                assert pattern.search(f" and then{phrase}again "), (kind, language, phrase)
