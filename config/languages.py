"""The languages Recourse speaks: the built-in ones (locale/) and any a unit adds by
dropping a translation file into LOCALE_EXTRA_DIR, read at start.

An added language is `<LOCALE_EXTRA_DIR>/<code>/LC_MESSAGES/django.po` whose header
names it (`manage.py language_report CODE --new` writes one):

    X-Language-Name: Wolof            (in English, for staff pages)
    X-Language-Name-Local: Wolof      (in itself, for the language switch)
    X-Language-Direction: ltr         (or rtl)

At start the file is compiled to django.mo beside it (polib: no gettext tools in the
production image) and the language joins LANGUAGES and Django's LANG_INFO. A string it
leaves untranslated shows in English. This module is imported by config/settings.py, so
it must not read django.conf.settings at import time.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import polib

# A language code as Django takes it: "wo", "mos", "pt-br".
CODE_PATTERN = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
NAME_HEADER = "X-Language-Name"
LOCAL_NAME_HEADER = "X-Language-Name-Local"
DIRECTION_HEADER = "X-Language-Direction"


@dataclass(frozen=True)
class AddedLanguage:
    code: str
    name: str
    name_local: str
    rtl: bool
    po_path: Path


class LanguageFileError(Exception):
    """A translation file that cannot be offered (named in the message, never hidden)."""


def added_languages(extra_dir: Path, *, built_in: set[str]) -> list[AddedLanguage]:
    """Every language under extra_dir, compiled and ready; a built-in code is skipped
    (locale/ holds it). Sorted by code, so LANGUAGES has a stable order."""
    if not extra_dir.is_dir():
        return []
    found = []
    for po_path in sorted(extra_dir.glob("*/LC_MESSAGES/django.po")):
        code = po_path.parent.parent.name
        if code in built_in:
            continue
        found.append(_read(code, po_path))
    return found


def _read(code: str, po_path: Path) -> AddedLanguage:
    if not CODE_PATTERN.match(code):
        raise LanguageFileError(f"{po_path}: {code!r} is not a language code (like wo or mos).")
    po = polib.pofile(str(po_path))
    name = po.metadata.get(NAME_HEADER, "").strip()
    if not name:
        raise LanguageFileError(
            f"{po_path}: the header {NAME_HEADER} (its name in English) is missing."
        )
    direction = po.metadata.get(DIRECTION_HEADER, "ltr").strip().lower()
    if direction not in {"ltr", "rtl"}:
        raise LanguageFileError(f"{po_path}: {DIRECTION_HEADER} must be ltr or rtl.")
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
        # Fuzzy and empty entries are left out: English shows. Written aside and renamed,
        # as the web and worker processes may start (and compile) at once.
        partial = mo_path.with_name(f".{mo_path.name}.{os.getpid()}")
        po.save_as_mofile(str(partial))
        os.replace(partial, mo_path)
    return AddedLanguage(
        code=code,
        name=name,
        name_local=po.metadata.get(LOCAL_NAME_HEADER, "").strip() or name,
        rtl=direction == "rtl",
        po_path=po_path,
    )


@dataclass(frozen=True)
class LanguageSettings:
    languages: list[tuple[str, str]]
    languages_bidi: list[str]
    locale_paths: list[Path]


def with_added_languages(
    extra_dir: Path,
    *,
    languages: list[tuple[str, str]],
    languages_bidi: list[str],
    locale_paths: list[Path],
    lang_info: dict,
) -> LanguageSettings:
    """The language settings once the languages in extra_dir are added (each named in
    itself, as the built-in ones are), and Django's LANG_INFO told about them."""
    added = added_languages(extra_dir, built_in={code for code, _name in languages})
    for language in added:
        lang_info[language.code] = {
            "bidi": language.rtl,
            "code": language.code,
            "name": language.name,
            "name_local": language.name_local,
        }
    return LanguageSettings(
        languages=[*languages, *((a.code, a.name_local) for a in added)],
        languages_bidi=[*languages_bidi, *(a.code for a in added if a.rtl)],
        locale_paths=[*locale_paths, extra_dir] if added else list(locale_paths),
    )


def language_choices() -> list[tuple[str, str]]:
    """Choices for a model field holding a language: read when asked, so adding a
    language needs no migration."""
    # cycle: config.settings imports this module.
    from django.conf import settings

    return list(settings.LANGUAGES)


def right_to_left(language: str | None) -> bool:
    """Is this language written right to left (Arabic, or an added rtl language)?"""
    # cycle: config.settings imports this module.
    from django.conf import settings

    return bool(language) and language.split("-")[0] in settings.LANGUAGES_BIDI


# Left-to-right isolate ... pop directional isolate: a reference, code or number inside
# right-to-left text keeps its own order.
LRI, PDI = "\u2066", "\u2069"


def isolate_ltr(text: str, language: str | None) -> str:
    """`text` isolated as left to right when `language` is written right to left; as it
    is otherwise (the marks are not GSM-7 and would make a text cost more)."""
    return f"{LRI}{text}{PDI}" if text and right_to_left(language) else text
