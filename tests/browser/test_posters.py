"""The poster and leaflet as a printer sees them: Debian's chromium renders every demo
unit's sheets in every language, a real decoder (zxing-cpp) reads the QR code off the
rendered page, and the PDF chromium prints from them is a single A4 page."""

import io

import pytest
import zxingcpp
from django.conf import settings
from PIL import Image

from policies.demo import seed_demo
from policies.models import Unit
from policies.services import unit_create_with_policy
from tests.browser.printing import pdf_pages, print_pdf

pytestmark = pytest.mark.browser

LANGUAGES = ["en", "fr", "es", "ar"]
KINDS = ["poster", "leaflet"]


def scanned(png: bytes) -> list[str]:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_the_page_counter_sees_a_second_page(page):
    # The one-page assertions below mean something only if this can say 2.
    page.set_content('<p>one</p><p style="break-before: page">two</p>')
    assert pdf_pages(page.pdf(format="A4")) == 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_demo_sheet_scans_to_its_unit_and_prints_on_one_page(page, live_server, language):
    seed_demo()
    units = list(Unit.objects.order_by("code"))
    assert len(units) == 4
    for unit in units:
        for kind in KINDS:
            page.emulate_media(media="null")  # as a browser opens it (not forced "screen")
            page.goto(f"{live_server.url}/u/{unit.code}/{kind}/?lang={language}")
            assert page.locator("html").get_attribute("lang") == language
            expected = [f"{settings.PUBLIC_BASE_URL}/u/{unit.code}/"]
            assert scanned(page.locator(".sheet-qr svg").first.screenshot()) == expected
            assert pdf_pages(print_pdf(page)) == 1, (unit.code, kind, language)
            # On paper too (print styles), every copy scans.
            page.emulate_media(media="print")
            copies = page.locator(".sheet-qr svg")
            assert copies.count() == (2 if kind == "leaflet" else 1)
            for i in range(copies.count()):
                assert scanned(copies.nth(i).screenshot()) == expected, (unit.code, kind, i)


def longest_sheet_unit(code: str, *, whatsapp_number: str = "") -> Unit:
    """A unit whose sheet is as long as one gets: a long name, four emergency numbers,
    and an oversight unit (the sheet then also says how to ask for a review)."""
    oversight = unit_create_with_policy(
        code=f"OV{code}",
        name="Commission nationale des droits de l'enfant",
        sector=Unit.Sector.OVERSIGHT,
        default_language="fr",
        emergency_contacts=[{"label": "Allô 116", "number": "116"}],
    )
    unit = unit_create_with_policy(
        oversight_unit=oversight,
        code=code,
        name="Centre de détention et de rééducation pour mineurs en conflit avec la loi "
        "de la région de Saint-Louis",
        sector=Unit.Sector.DEPRIVATION_OF_LIBERTY,
        default_language="fr",
        emergency_contacts=[
            {
                "label": "Allô 116 (ligne d'aide aux enfants, gratuite, jour et nuit)",
                "number": "116",
            },
            {"label": "Police secours", "number": "17"},
            {"label": "Sapeurs-pompiers", "number": "18"},
            {"label": "Centre de guidance infantile et familiale", "number": "+221338234567"},
        ],
    )
    if whatsapp_number:
        unit.whatsapp_number = whatsapp_number
        unit.save()
    return unit


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_long_name_and_many_numbers_still_fit_one_page(page, live_server, language):
    unit = longest_sheet_unit("LONG9")
    for kind in KINDS:
        page.goto(f"{live_server.url}/u/{unit.code}/{kind}/?lang={language}")
        assert pdf_pages(print_pdf(page)) == 1, (kind, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_unit_with_whatsapp_shows_its_link_and_code_and_still_fits_one_page(
    page, live_server, language
):
    """The longest sheet with the WhatsApp block too; both codes scan, on screen and on
    paper."""
    unit = longest_sheet_unit("WAPP9", whatsapp_number="+221770000000")
    web = [f"{settings.PUBLIC_BASE_URL}/u/WAPP9/"]
    whatsapp = ["https://wa.me/221770000000?text=WAPP9"]
    for kind in KINDS:
        page.emulate_media(media="null")
        page.goto(f"{live_server.url}/u/{unit.code}/{kind}/?lang={language}")
        assert scanned(page.locator(".sheet-qr svg").first.screenshot()) == web
        assert scanned(page.locator(".sheet-whatsapp svg").first.screenshot()) == whatsapp
        page.emulate_media(media="print")
        assert pdf_pages(print_pdf(page)) == 1, (kind, language)
        copies = page.locator(".sheet-whatsapp svg")
        assert copies.count() == (2 if kind == "leaflet" else 1)
        for i in range(copies.count()):
            assert scanned(copies.nth(i).screenshot()) == whatsapp, (kind, i)


def test_paper_shows_the_sheet_only(page, live_server, unit):
    page.goto(f"{live_server.url}/u/{unit.code}/leaflet/")
    # On screen: one copy, the quick exit and the printing hint.
    assert page.get_by_role("link", name="Exit this page").is_visible()
    assert page.locator(".print-hint").is_visible()
    assert page.locator(".sheet").nth(1).is_hidden()
    page.emulate_media(media="print")
    for selector in (".exit-bar", ".site-header", ".site-footer", ".print-hint"):
        assert page.locator(selector).is_hidden(), selector
    assert page.locator(".sheet").nth(0).is_visible() and page.locator(".sheet").nth(1).is_visible()
