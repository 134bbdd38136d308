"""The printable poster and leaflet that tell children the complaint service exists.

The QR codes are decoded from a real rendering in tests/browser/test_posters.py; here
the served QR is compared, module by module, with the code for the unit's address."""

import html as html_lib
import re

import pytest
import segno
from django.conf import settings
from django.utils import translation

from intake.readability import sentences, wording_of
from intake.wording import duration_for_child
from policies.demo import seed_demo
from policies.models import ChildProtectionPolicy, PosterPrint, Unit
from policies.selectors import unit_emergency_contacts
from policies.services import policy_draft_get_or_create

KINDS = ["poster", "leaflet"]
# One phrase per language that only a translated sheet shows.
PHRASES = {
    "en": "Did someone who works here treat you badly?",
    "fr": "Quelqu'un qui travaille ici t'a mal traité ?",
    "es": "¿Alguien que trabaja aquí te trató mal?",
}
# The default policy: standard cases acknowledged in 72 hours, resolved in 672.
DEADLINES = {
    "en": ("reads your complaint within 3 days", "Within 28 days, they decide"),
    "fr": ("lit ta plainte au plus tard dans 3 jours", "Au plus tard dans 28 jours"),
    "es": ("lee tu queja en 3 días como máximo", "En 28 días como máximo"),
}


def unit_url(unit) -> str:
    return f"{settings.PUBLIC_BASE_URL}/u/{unit.code}/"


def qr_modules(page_html: str) -> list[str]:
    """The dark-module paths of every QR code on the page (segno draws one per code)."""
    return re.findall(r'<path class="qrline" stroke="#000" d="([^"]+)"', page_html)


def sheet_text(page_html: str) -> str:
    """The words of the first printed sheet, as a child reads them."""
    article = re.search(r"<article class=\"sheet.*?</article>", page_html, re.DOTALL).group(0)
    article = re.sub(r"<svg.*?</svg>", " ", article, flags=re.DOTALL)
    article = re.sub(r"</(li|p|h1|h2|figcaption)>", ".\n", article)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", article))


@pytest.fixture
def demo_units(db):
    seed_demo()
    return list(Unit.objects.order_by("code"))


@pytest.mark.django_db
@pytest.mark.parametrize("language", PHRASES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_demo_unit_has_its_sheet_in_every_language(client, demo_units, kind, language):
    assert len(demo_units) == 4
    for unit in demo_units:
        response = client.get(f"/u/{unit.code}/{kind}/", {"lang": language})
        page = html_lib.unescape(response.content.decode())
        assert response.status_code == 200, unit.code
        assert response["Content-Language"] == language
        assert f'<html lang="{language}" dir="ltr">' in page
        assert PHRASES[language] in page
        for phrase in DEADLINES[language]:
            assert phrase in page
        assert unit.name in page
        # The SMS number and the unit's code to text (each kept left to right, as in an
        # Arabic sheet), the address written out.
        number = settings.SMS_PUBLIC_NUMBER
        assert number and f'<strong><bdi dir="ltr">{number}</bdi></strong>' in page
        assert f'<strong><bdi dir="ltr">{unit.code}</bdi></strong>' in page
        assert unit_url(unit).split("://", 1)[1] in page
        for contact in unit_emergency_contacts(unit):
            assert contact["number"] in page and contact["label"] in page
        # The QR code is the one for the unit's page, once per printed copy.
        expected = segno.make(unit_url(unit), error="m").svg_inline()
        expected_modules = qr_modules(expected)
        assert qr_modules(page) == expected_modules * (2 if kind == "leaflet" else 1)


@pytest.mark.django_db
def test_qr_code_differs_per_unit(client, demo_units):
    codes = {
        unit.code: qr_modules(client.get(f"/u/{unit.code}/poster/").content.decode())[0]
        for unit in demo_units
    }
    assert len(set(codes.values())) == len(demo_units)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_sheet_is_in_the_units_language_unless_lang_asks(client, demo_units, kind):
    # The printer's own language choice (the cookie) does not change the sheet.
    client.cookies["django_language"] = "es"
    page = html_lib.unescape(client.get(f"/u/DKR1/{kind}/").content.decode())
    assert PHRASES["fr"] in page and PHRASES["es"] not in page
    page = html_lib.unescape(client.get(f"/u/dkr1/{kind}/?lang=en").content.decode())
    assert PHRASES["en"] in page and PHRASES["fr"] not in page
    # An unknown language falls back to the unit's.
    page = html_lib.unescape(client.get(f"/u/CMJ3/{kind}/?lang=de").content.decode())
    assert PHRASES["es"] in page
    # The screen view links the other languages of the same sheet.
    assert 'href="?lang=en"' in page and 'href="?lang=fr"' in page


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_unknown_inactive_or_policyless_unit_is_404(client, unit, kind):
    assert client.get(f"/u/NOPE/{kind}/").status_code == 404
    Unit.objects.filter(pk=unit.pk).update(is_active=False)
    assert client.get(f"/u/{unit.code}/{kind}/").status_code == 404
    draft_only = Unit.objects.create(code="DRF1", name="Draft only", sector="justice")
    ChildProtectionPolicy.objects.create(
        unit=draft_only, version=1, categories={"other": "standard"}
    )
    assert client.get(f"/u/{draft_only.code}/{kind}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_sheet_answers_get_only_and_writes_nothing(client, unit, kind):
    assert client.post(f"/u/{unit.code}/{kind}/").status_code == 405
    assert client.get(f"/u/{unit.code}/{kind}/").status_code == 200
    assert not PosterPrint.objects.exists()


@pytest.mark.django_db
def test_deadlines_come_from_the_policy_in_force(client, unit):
    draft = policy_draft_get_or_create(unit=unit)
    draft.deadlines["standard"] = {"acknowledge": 24, "assess": 48, "resolve": 240}
    draft.save()
    page = client.get(f"/u/{unit.code}/poster/").content.decode()
    assert "within 3 days" in page  # a draft promises nothing yet
    ChildProtectionPolicy.objects.filter(pk=draft.pk).update(published_at="2026-01-01T00:00Z")
    page = client.get(f"/u/{unit.code}/poster/").content.decode()
    assert "reads your complaint within 24 hours." in page
    assert "Within 10 days, they decide what to do and tell you." in page


@pytest.mark.parametrize(
    "language, hours, expected",
    [
        ("en", 1, "1 hour"),
        ("en", 47, "47 hours"),
        ("en", 48, "2 days"),
        ("en", 24, "24 hours"),
        # Rounded up: a promise to a child is never shorter than the policy's deadline.
        ("en", 60, "3 days"),
        ("en", 672, "28 days"),
        ("fr", 1, "1 heure"),
        ("fr", 72, "3 jours"),
        ("es", 2, "2 horas"),
        ("es", 49, "3 días"),
    ],
)
def test_durations_are_in_plain_words_with_plurals(language, hours, expected):
    with translation.override(language):
        assert duration_for_child(hours) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_sheet_loads_nothing_from_elsewhere(client, unit, kind):
    page = client.get(f"/u/{unit.code}/{kind}/").content.decode()
    # No external address at all: even the quick exit goes through our /exit/ first.
    assert re.findall(r"https?://|//", page) == []
    for tag in ("<img", "<iframe", "<object", "<embed", "@import", "url(", " style="):
        assert tag not in page, tag
    assert "<script" not in page.replace('<script src="/static/recourse/quick-exit.js" defer>', "")


@pytest.mark.django_db
@pytest.mark.parametrize("language", PHRASES)
def test_wording_is_short_and_plain(client, demo_units, language):
    """Short sentences in every language, and in English a Flesch-Kincaid grade a
    10-year-old (grade 4 to 5) reads."""
    unit = Unit.objects.get(code="RVS2")
    text = sheet_text(client.get(f"/u/{unit.code}/poster/?lang={language}").content.decode())
    for skip in [unit.name, unit_url(unit).split("://", 1)[1], settings.SMS_PUBLIC_NUMBER]:
        text = text.replace(skip, " ")
    said = sentences(text)
    assert len(said) >= 12
    for sentence in said:
        assert len(sentence.split()) <= 16, sentence
    if language == "en":
        assert wording_of(text).grade <= 5, wording_of(text)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_a_unit_with_a_whatsapp_number_shows_its_link_and_code(client, unit, kind):
    link = "https://wa.me/221770000000?text=TST1"
    before = client.get(f"/u/{unit.code}/{kind}/").content.decode()
    assert "wa.me" not in before and "WhatsApp" not in before
    assert len(qr_modules(before)) == (2 if kind == "leaflet" else 1)
    unit.whatsapp_number = "+221770000000"
    unit.save()
    page = client.get(f"/u/{unit.code}/{kind}/").content.decode()
    copies = 2 if kind == "leaflet" else 1
    assert page.count(f'href="{link}"') == copies
    assert page.count("<strong>+221770000000</strong>") == copies
    # Each sheet: the web address's code, then WhatsApp's, which is the wa.me link's.
    web = segno.make(unit_url(unit), error="m").svg_inline(svgclass="qr-code")
    whatsapp = segno.make(link, error="m").svg_inline(svgclass="qr-code")
    assert qr_modules(page) == (qr_modules(web) + qr_modules(whatsapp)) * copies


@pytest.mark.django_db
@pytest.mark.parametrize("language", PHRASES)
def test_the_whatsapp_lines_are_translated(client, unit, language):
    unit.whatsapp_number = "+221770000000"
    unit.save()
    page = html_lib.unescape(
        client.get(f"/u/{unit.code}/poster/", {"lang": language}).content.decode()
    )
    expected = {
        "en": "scan this code, or write to",
        "fr": "scanne ce code, ou écris au",
        "es": "escanea este código o escribe al",
    }[language]
    assert expected in page
