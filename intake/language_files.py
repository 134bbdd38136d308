"""A translator's work on one language: what is left to translate, whether every SMS
still fits two segments, and a new file to start from (`manage.py language_report`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polib
from django.conf import settings
from django.utils import translation

from config.languages import (
    CODE_PATTERN,
    DIRECTION_HEADER,
    LOCAL_NAME_HEADER,
    NAME_HEADER,
)
from intake.sms_budget import sms_samples
from notifications.gsm import is_gsm, length_units, segments

# The catalogue whose strings a new language starts from: `make messages` keeps every
# catalogue in step with the code, and English has none of its own.
SOURCE_LANGUAGE = "fr"


@dataclass(frozen=True)
class SmsLength:
    name: str
    segments: int
    length: int
    gsm: bool

    @property
    def over(self) -> bool:
        return self.segments > 2


@dataclass(frozen=True)
class LanguageReport:
    code: str
    po_path: Path
    total: int
    untranslated: list[polib.POEntry]
    fuzzy: list[polib.POEntry]
    sms: list[SmsLength]


def po_path(code: str) -> Path:
    """Where a language's catalogue is: locale/ for a built-in one, else LOCALE_EXTRA_DIR."""
    built_in = Path(settings.BASE_DIR) / "locale" / code / "LC_MESSAGES" / "django.po"
    if built_in.exists():
        return built_in
    return Path(settings.LOCALE_EXTRA_DIR) / code / "LC_MESSAGES" / "django.po"


def language_report(code: str) -> LanguageReport:
    """The strings still to translate (empty or fuzzy: they show in English) and each SMS
    text's length in the language, as of the catalogue compiled at start."""
    path = po_path(code)
    po = polib.pofile(str(path))
    entries = [e for e in po if not e.obsolete]
    fuzzy = [e for e in entries if "fuzzy" in e.flags]
    untranslated = [e for e in entries if not e.translated() and "fuzzy" not in e.flags]
    lengths = []
    # The texts are rendered as a child would get them, in this language (a string left
    # untranslated counts in English).
    with translation.override(code):
        for name, text in sms_samples(code):
            lengths.append(SmsLength(name, segments(text), length_units(text), is_gsm(text)))
    return LanguageReport(code, path, len(entries), untranslated, fuzzy, lengths)


class NewLanguageRefused(Exception):
    pass


def new_language_file(*, code: str, name: str, name_local: str, rtl: bool) -> Path:
    """A new catalogue for `code` in LOCALE_EXTRA_DIR holding every current string, none
    translated, with the header that names the language. Offered from the next start."""
    if not CODE_PATTERN.match(code):
        raise NewLanguageRefused(f"{code!r} is not a language code (like wo or mos).")
    if code in dict(settings.LANGUAGES):
        raise NewLanguageRefused(f"{code} is already offered: run the report on it instead.")
    path = Path(settings.LOCALE_EXTRA_DIR) / code / "LC_MESSAGES" / "django.po"
    if path.exists():
        raise NewLanguageRefused(f"{path} exists already: it would be overwritten.")
    source = polib.pofile(
        str(Path(settings.BASE_DIR) / "locale" / SOURCE_LANGUAGE / "LC_MESSAGES" / "django.po")
    )
    po = polib.POFile(wrapwidth=0)
    po.header = (
        f"{name} ({code}) for Recourse. Translate each msgstr; leave a placeholder such as "
        '%(reference)s or {{ date }} as it is. README, "Adding a language".'
    )
    po.metadata = {
        "Project-Id-Version": "Recourse",
        "Language": code,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        # One form for 1, another for the rest: change it if the language counts otherwise.
        "Plural-Forms": "nplurals=2; plural=(n != 1);",
        NAME_HEADER: name,
        LOCAL_NAME_HEADER: name_local,
        DIRECTION_HEADER: "rtl" if rtl else "ltr",
    }
    for entry in source:
        if entry.obsolete:
            continue
        po.append(
            polib.POEntry(
                msgctxt=entry.msgctxt,
                msgid=entry.msgid,
                msgid_plural=entry.msgid_plural,
                msgstr="",
                msgstr_plural={0: "", 1: ""} if entry.msgid_plural else {},
                occurrences=entry.occurrences,
                comment=entry.comment,
                flags=[flag for flag in entry.flags if flag != "fuzzy"],
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    return path
