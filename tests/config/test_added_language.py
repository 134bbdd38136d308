"""A language a unit adds with a translation file alone (config/languages.py): dropped
into LOCALE_EXTRA_DIR, it is offered from the next start, served with English where a
string is not translated yet, and `manage.py language_report` tells the translator
what is left and whether every SMS still fits. Unit.languages limits what a unit offers."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import django.conf.locale
import polib
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.languages import LanguageFileError, with_added_languages
from intake.models import SmsReporter
from tests.conftest import PASSWORD, staff_login

TRANSLATED = {
    "Exit this page": "Génn xët wii",
    "OK, we will write in English.": "Waaw, dinanu la bind ci wolof.",
    "Tell us what happened, in your own words. You can send several messages. Send DONE "
    "when you have finished.": "Wax nu li xew. Bu pare, yonnee DONE.",
}
# Far past two segments: the report must flag it.
TOO_LONG = {"Got it. Send more, or DONE when you have finished.": "Jël naa ko. " * 40}


def write_po(
    extra_dir, code, *, name, name_local, direction="ltr", translated=None, fuzzy=None
) -> str:
    """A catalogue as a translator hands it in: every current string (from the French
    catalogue's msgids), some translated, some fuzzy, the rest empty."""
    source = polib.pofile(
        str(django_settings.BASE_DIR / "locale" / "fr" / "LC_MESSAGES" / "django.po")
    )
    po = polib.POFile()
    po.metadata = {
        "Content-Type": "text/plain; charset=UTF-8",
        "Plural-Forms": "nplurals=2; plural=(n != 1);",
        "X-Language-Name": name,
        "X-Language-Name-Local": name_local,
        "X-Language-Direction": direction,
    }
    translated, fuzzy = translated or {}, fuzzy or {}
    for entry in source:
        new = polib.POEntry(msgctxt=entry.msgctxt, msgid=entry.msgid, msgstr="")
        if entry.msgid_plural:
            new.msgid_plural, new.msgstr_plural = entry.msgid_plural, {0: "", 1: ""}
        elif entry.msgid in translated:
            new.msgstr = translated[entry.msgid]
        elif entry.msgid in fuzzy:
            new.msgstr, new.flags = fuzzy[entry.msgid], ["fuzzy"]
        po.append(new)
    folder = extra_dir / code / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po.save(str(folder / "django.po"))
    return str(folder / "django.po")


def add_languages(settings, monkeypatch, extra_dir) -> None:
    """What config/settings.py does at start, for this test's settings."""
    monkeypatch.setattr(django.conf.locale, "LANG_INFO", dict(django.conf.locale.LANG_INFO))
    built = with_added_languages(
        extra_dir,
        languages=list(settings.LANGUAGES),
        languages_bidi=list(settings.LANGUAGES_BIDI),
        locale_paths=list(settings.LOCALE_PATHS),
        lang_info=django.conf.locale.LANG_INFO,
    )
    settings.LOCALE_EXTRA_DIR = extra_dir
    settings.LANGUAGES = built.languages
    settings.LANGUAGES_BIDI = built.languages_bidi
    settings.LOCALE_PATHS = built.locale_paths


@pytest.fixture
def wolof(tmp_path, settings, monkeypatch):
    extra = tmp_path / "locale"
    write_po(
        extra,
        "wo",
        name="Wolof",
        name_local="Wolof",
        translated={**TRANSLATED, **TOO_LONG},
        fuzzy={"Skip to main content": "Dem ci li am solo"},
    )
    add_languages(settings, monkeypatch, extra)
    return extra


def test_a_file_dropped_in_the_extra_dir_is_offered_at_the_next_start(tmp_path):
    extra = tmp_path / "locale"
    po_path = write_po(extra, "wo", name="Wolof", name_local="Wolof", translated=TRANSLATED)
    write_po(extra, "ps", name="Pashto", name_local="پښتو", direction="rtl")
    script = """
import json
import django
django.setup()
from django.conf import settings
from django.conf.locale import LANG_INFO
print(json.dumps({
    "languages": [(code, str(name)) for code, name in settings.LANGUAGES],
    "bidi": settings.LANGUAGES_BIDI,
    "paths": [str(path) for path in settings.LOCALE_PATHS],
    "wo": LANG_INFO["wo"],
    "ps": LANG_INFO["ps"],
}))
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "LOCALE_EXTRA_DIR": str(extra),
    }
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    started = json.loads(out.stdout)
    codes = [code for code, _name in started["languages"]]
    assert codes == ["en", "fr", "es", "ar", "ps", "wo"]
    assert ["wo", "Wolof"] in started["languages"] and ["ps", "پښتو"] in started["languages"]
    assert "ps" in started["bidi"] and "wo" not in started["bidi"]
    assert str(extra) in started["paths"]
    assert started["wo"]["name_local"] == "Wolof" and started["wo"]["bidi"] is False
    assert started["ps"]["name"] == "Pashto" and started["ps"]["bidi"] is True
    # Compiled at start, with what is translated only.
    mo = polib.mofile(po_path[:-3] + ".mo")
    assert {e.msgid: e.msgstr for e in mo}["Exit this page"] == "Génn xët wii"
    assert "Skip to main content" not in {e.msgid for e in mo}


def test_a_file_without_its_name_is_refused_by_name(tmp_path):
    extra = tmp_path / "locale"
    path = write_po(extra, "wo", name="", name_local="Wolof")
    with pytest.raises(LanguageFileError, match="X-Language-Name") as refused:
        with_added_languages(
            extra, languages=[("en", "English")], languages_bidi=[], locale_paths=[], lang_info={}
        )
    assert path in str(refused.value)


@pytest.mark.django_db
def test_an_added_language_is_offered_and_served_with_english_where_untranslated(
    client, wolof, unit
):
    page = client.get("/").content.decode()
    assert '<button type="submit" name="language" value="wo" lang="wo"' in page
    client.post("/i18n/setlang/", {"language": "wo", "next": "/"})
    page = client.get(f"/u/{unit.code}/").content.decode()
    assert '<html lang="wo" dir="ltr">' in page
    assert "Génn xët wii" in page  # translated
    assert "Skip to main content" in page  # fuzzy: English until the translator confirms it
    assert "Make a complaint" in page  # not translated: English


@pytest.mark.django_db
def test_an_added_right_to_left_language_lays_pages_out_right_to_left(
    client, tmp_path, settings, monkeypatch, unit
):
    extra = tmp_path / "locale"
    write_po(extra, "ps", name="Pashto", name_local="پښتو", direction="rtl")
    add_languages(settings, monkeypatch, extra)
    client.cookies["django_language"] = "ps"
    page = client.get(f"/u/{unit.code}/").content.decode()
    assert '<html lang="ps" dir="rtl">' in page and ">پښتو</button>" in page


@pytest.mark.django_db
def test_a_child_switches_to_an_added_language_by_sms(sms, wolof, unit):
    # A first contact picks it from the unit's language menu...
    first = "+221770000011"
    assert sms("TST1", phone=first).startswith(
        "TST1: 1 English 2 Francais 3 Espanol 4 Arabic 5 Wolof\n"
    )
    assert sms("5", phone=first) == "Wax nu li xew. Bu pare, yonnee DONE."
    # ...or anyone sends its code, at any time.
    assert sms("WO") == "Waaw, dinanu la bind ci wolof."
    assert SmsReporter.objects.filter(language="wo").count() == 2


@pytest.mark.django_db
def test_the_report_lists_missing_strings_and_each_sms_length(wolof):
    out = io.StringIO()
    call_command("language_report", "wo", stdout=out)
    report = out.getvalue()
    total = len([e for e in polib.pofile(str(wolof / "wo/LC_MESSAGES/django.po"))])
    translated = len(TRANSLATED) + len(TOO_LONG)
    assert (
        f"{total} strings, {total - translated} missing ({total - translated - 1} untranslated, 1 fuzzy)"
        in report
    )
    assert "fuzzy: Skip to main content" in report
    assert "missing: Tell us what happened" in report
    assert "missing: Exit this page" not in report
    lines = report.splitlines()
    assert "  ask_narrative: 1 segments, " in "\n".join(lines)
    too_long = [line for line in lines if "TOO LONG" in line]
    assert too_long and all(line.startswith("  narrative_received:") for line in too_long)
    assert "1 too long" in report or f"{len(too_long)} too long" in report


def test_the_report_of_a_language_without_a_file_says_how_to_start(settings, tmp_path):
    settings.LOCALE_EXTRA_DIR = tmp_path
    with pytest.raises(CommandError, match="--new"):
        call_command("language_report", "mos", stdout=io.StringIO())


@pytest.mark.django_db
def test_new_creates_the_file_to_translate_with_every_string(settings, tmp_path):
    settings.LOCALE_EXTRA_DIR = tmp_path
    out = io.StringIO()
    call_command(
        "language_report", "mos", "--new", "--name", "Mooré", "--name-local", "Mooré", stdout=out
    )
    path = tmp_path / "mos" / "LC_MESSAGES" / "django.po"
    assert str(path) in out.getvalue()
    po = polib.pofile(str(path))
    assert po.metadata["X-Language-Name"] == "Mooré"
    assert po.metadata["X-Language-Direction"] == "ltr"
    source = polib.pofile(str(settings.BASE_DIR / "locale" / "fr" / "LC_MESSAGES" / "django.po"))
    assert {(e.msgctxt, e.msgid) for e in po} == {(e.msgctxt, e.msgid) for e in source}
    assert po.percent_translated() == 0
    # Then the report reads it: everything missing, in English.
    report = io.StringIO()
    call_command("language_report", "mos", stdout=report)
    assert f"{len(po)} strings, {len(po)} missing" in report.getvalue()
    assert "not offered yet: restart" in report.getvalue()
    # Never over an existing file, nor for a language the service has.
    with pytest.raises(CommandError, match="exists already"):
        call_command("language_report", "mos", "--new", "--name", "Mooré")
    with pytest.raises(CommandError, match="already offered"):
        call_command("language_report", "fr", "--new", "--name", "French")
    call_command("language_report", "ckb", "--new", "--name", "Kurdish", "--rtl", stdout=out)
    kurdish = polib.pofile(str(tmp_path / "ckb" / "LC_MESSAGES" / "django.po"))
    assert kurdish.metadata["X-Language-Direction"] == "rtl"


@pytest.mark.django_db
def test_unit_languages_limit_the_switch_the_sheets_and_the_sms_menu(client, sms, unit):
    unit.languages = ["fr", "ar"]
    unit.full_clean()
    unit.save()
    page = client.get(f"/u/{unit.code}/").content.decode()
    offered = [
        code for code in ("en", "fr", "es", "ar") if f'name="language" value="{code}"' in page
    ]
    assert offered == ["fr", "ar"]
    assert ">العربية</button>" in page and ">Français</button>" in page
    # The start page is no unit's: every language.
    start = client.get("/").content.decode()
    assert all(f'name="language" value="{c}"' in start for c in ("en", "fr", "es", "ar"))
    poster = client.get(f"/u/{unit.code}/poster/").content.decode()
    assert 'href="?lang=ar"' in poster and 'href="?lang=es"' not in poster
    # A language the unit does not offer: the sheet is in the unit's own.
    assert client.get(f"/u/{unit.code}/poster/", {"lang": "es"})["Content-Language"] == "en"
    assert sms("TST1").startswith("TST1: 1 Francais 2 Arabic\n")
    assert sms("2").startswith("أخبرنا")


@pytest.mark.django_db
def test_unit_languages_accept_only_languages_the_service_has(unit):
    unit.languages = ["fr", "xx"]
    with pytest.raises(ValidationError, match="xx"):
        unit.full_clean()
    unit.languages = "fr"
    with pytest.raises(ValidationError):
        unit.full_clean()


@pytest.mark.django_db
def test_the_admin_edits_unit_languages_as_boxes(client, django_user_model, unit):
    admin_user = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    staff_login(client, admin_user)
    page = client.get(f"/admin/policies/unit/{unit.pk}/change/").content.decode()
    assert 'type="checkbox" name="languages" value="ar"' in page
    form = {
        "code": unit.code,
        "name": unit.name,
        "sector": unit.sector,
        "default_language": "fr",
        "languages": ["fr", "ar"],
        "time_zone": "UTC",
        "is_active": "on",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/policies/unit/{unit.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    unit.refresh_from_db()
    assert unit.languages == ["fr", "ar"]
