"""Issue 12: the error pages a child can meet while filing are reporter pages in their
language, with a main landmark, and show the unit's own emergency numbers (from its
policy in force, never a number written into the code) when the page is the unit's."""

import html as html_lib
import re
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.test import Client, RequestFactory
from django.urls import get_resolver
from django.utils import timezone, translation

from complaints.models import Case
from intake import errors
from intake.selectors import unit_from_path
from policies.models import Unit
from policies.services import policy_draft_get_or_create, unit_create_with_policy
from tests.conftest import complaint_data

CONTACTS = [
    {"label": "Ligne verte enfance", "number": "+221800004242"},
    {"label": "Gendarmerie", "number": "800 00 17"},
]
NUMBERS = ["+221800004242", "800 00 17"]
EXIT_LABEL = {"en": "Exit this page", "fr": "Quitter cette page", "es": "Salir de esta página"}
NO_NUMBER = "Call your local emergency number now."


@pytest.fixture
def acc_unit(db):
    return unit_create_with_policy(
        code="ACC1",
        name="Commissariat central",
        sector=Unit.Sector.SECURITY,
        default_language="fr",
        emergency_contacts=CONTACTS,
    )


def page(response) -> str:
    return html_lib.unescape(response.content.decode())


def numbers_shown(html: str) -> list[str]:
    """The numbers as written on the page; their tel: links drop the spaces (RFC 3966)."""
    shown = re.findall(r'href="tel:([^"]+)"><span class="number" dir="ltr">([^<]+)<', html)
    assert all(link == number.replace(" ", "") for link, number in shown), shown
    return [number for _link, number in shown]


def assert_reporter_page(html: str, language: str) -> None:
    assert f'<html lang="{language}" dir="ltr">' in html
    assert html.count("<main") == 1
    assert EXIT_LABEL[language] in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_a_form_sent_without_its_csrf_token_gets_a_reporter_page_with_the_units_numbers(
    acc_unit, language
):
    client = Client(enforce_csrf_checks=True)
    client.cookies["django_language"] = language
    response = client.post(f"/u/{acc_unit.code}/", complaint_data())
    html = page(response)
    assert response.status_code == 403
    assert_reporter_page(html, language)  # Django's own page: lang="en", no <main>
    assert numbers_shown(html) == NUMBERS
    assert f'href="/u/{acc_unit.code}/"' in html  # back to the form
    assert "CSRF" not in html
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_a_csrf_failure_outside_a_unit_needs_no_number(acc_unit):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/follow-up/", {"reference": "AAAA-BBBB", "code": "1"})
    html = page(response)
    assert response.status_code == 403
    assert_reporter_page(html, "en")
    assert numbers_shown(html) == []
    assert NO_NUMBER in html


@pytest.mark.django_db
def test_a_body_too_large_to_read_shows_the_units_numbers_in_the_childs_language(client, acc_unit):
    client.cookies["django_language"] = "es"
    response = client.post(f"/u/{acc_unit.code}/", complaint_data(narrative="x" * 100_000))
    html = page(response)
    assert response.status_code == 400
    assert_reporter_page(html, "es")
    assert numbers_shown(html) == NUMBERS


@pytest.mark.django_db
def test_a_throttled_complaint_shows_the_units_numbers(client, acc_unit, settings):
    settings.SUBMISSIONS_PER_CLIENT = 0
    response = client.post(f"/u/{acc_unit.code}/", complaint_data(narrative="Keep my words."))
    html = page(response)
    assert response.status_code == 429 and "Keep my words." in html
    # The form leads with them, and shows them again by its danger question.
    assert numbers_shown(html) == NUMBERS * 2


@pytest.mark.django_db
def test_a_database_failure_while_filing_shows_the_units_numbers(client, acc_unit):
    database_gone = OperationalError("gone")
    with mock.patch("complaints.services.case_copies_issue", side_effect=database_gone):
        response = client.post(f"/u/{acc_unit.code}/", complaint_data())
    assert response.status_code == 503
    assert (
        numbers_shown(page(response)) == NUMBERS * 2
    )  # leading the form, and by its danger question


@pytest.mark.django_db
def test_the_numbers_are_those_of_the_policy_in_force(acc_unit):
    client = Client(enforce_csrf_checks=True)
    draft = policy_draft_get_or_create(unit=acc_unit)
    draft.emergency_contacts = [{"label": "Nouvelle ligne", "number": "+221800009999"}]
    draft.save()
    assert numbers_shown(page(client.post(f"/u/{acc_unit.code}/", {}))) == NUMBERS  # a draft
    draft.published_at = timezone.now()
    draft.save()
    assert numbers_shown(page(client.post(f"/u/{acc_unit.code}/", {}))) == ["+221800009999"]


@pytest.mark.django_db
def test_an_unknown_unit_is_404_with_words_that_need_no_number(client, acc_unit):
    response = client.get("/u/NOPE9/")
    html = page(response)
    assert response.status_code == 404
    assert_reporter_page(html, "en")
    assert numbers_shown(html) == [] and NO_NUMBER in html


@pytest.mark.django_db
def test_permission_denied_is_a_reporter_page_with_the_units_numbers(acc_unit):
    assert get_resolver().resolve_error_handler(403) is errors.permission_denied
    request = RequestFactory().get(f"/u/{acc_unit.code}/poster/")
    with translation.override("fr"):
        response = errors.permission_denied(request, exception=Exception("secret detail"))
    html = page(response)
    assert response.status_code == 403
    assert_reporter_page(html, "fr")
    assert numbers_shown(html) == NUMBERS and "secret detail" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, code",
    [
        ("/u/ACC1/", "ACC1"),
        ("/u/acc1/", "ACC1"),
        ("/u/ACC1/poster/", "ACC1"),
        ("/u/ACC1/leaflet/", "ACC1"),
        ("/u/NOPE9/", None),
        ("/u/ACC1/nothing/", None),
        ("/follow-up/", None),
        ("/staff/", None),
        ("/", None),
        ("/u/", None),
    ],
)
def test_unit_from_path(acc_unit, path, code):
    unit = unit_from_path(path)
    assert (unit.code if unit else None) == code


@pytest.mark.django_db
def test_unit_from_path_ignores_a_unit_children_cannot_reach(acc_unit):
    Unit.objects.filter(pk=acc_unit.pk).update(is_active=False)
    assert unit_from_path("/u/ACC1/") is None


def test_the_500_page_needs_no_database_and_no_translation(settings):
    """No database fixture: pytest-django fails any query. Four languages, each marked
    (Arabic right to left)."""
    settings.QUICK_EXIT_URL = "https://example.org/somewhere-neutral"
    assert get_resolver().resolve_error_handler(500) is errors.server_error
    with translation.override("fr"):
        response = errors.server_error(RequestFactory().get("/"))
    html = page(response)
    assert response.status_code == 500
    assert '<html lang="en">' in html and 'lang="fr"' in html and 'lang="es"' in html
    assert '<div lang="ar" dir="rtl">' in html and "رقم الطوارئ" in html
    assert html.count("<main") == 1
    assert 'href="https://example.org/somewhere-neutral"' in html
    assert 'href="/static/recourse/site.css"' in html
    for words in ("emergency number", "numéro d'urgence", "número de emergencias"):
        assert words in html


@pytest.mark.django_db
def test_an_uncaught_error_gets_the_500_page(client, acc_unit):
    client.raise_request_exception = False
    with mock.patch("intake.views.units_open_to_reporters", side_effect=RuntimeError("bug")):
        response = client.get("/")
    assert response.status_code == 500
    assert "Sorry, something went wrong on our side" in page(response)


ERROR_PAGE_SOURCES = [
    "templates/400.html",
    "templates/403.html",
    "templates/403_csrf.html",
    "templates/404.html",
    "templates/500.html",
    "templates/intake/_emergency_contacts.html",
    "templates/intake/_error_back.html",
    "intake/errors.py",
    "intake/selectors.py",
]


@pytest.mark.parametrize("source", ERROR_PAGE_SOURCES)
def test_error_pages_write_no_phone_number_of_their_own(source):
    """Numbers differ by country and change: they come from the unit's policy only."""
    text = (Path(django_settings.BASE_DIR) / source).read_text()
    assert not re.search(r"(?<![\w.])(?:1\d{1,5}|911|999)(?![\w])", text), source
    assert re.findall(r"tel:[^\"'\s]*", text) in ([], ["tel:{{"]), source
