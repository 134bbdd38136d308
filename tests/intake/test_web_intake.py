import html as html_lib
import re

import pytest
from django.urls import reverse

from complaints.models import Case, Message
from tests.conftest import complaint_data, receipt_from

LANGUAGES = {
    "en": ("Tell us if someone treated you badly", "Exit this page", "We have your complaint"),
    "fr": (
        "Dis-nous si quelqu'un t'a mal traité",
        "Quitter cette page",
        "Nous avons reçu ta plainte",
    ),
    "es": ("Cuéntanos si alguien te trató mal", "Salir de esta página", "Recibimos tu queja"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_start_page_lists_units_in_the_childs_language(client, unit, language):
    client.cookies["django_language"] = language
    response = client.get("/")
    html = html_lib.unescape(response.content.decode())
    heading, exit_label, _ = LANGUAGES[language]
    assert response.status_code == 200
    assert f'lang="{language}"' in html
    assert heading in html
    assert exit_label in html
    assert reverse("intake:complaint_form", args=[unit.code]) in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_complaint_form_shows_child_labels_in_every_language(client, unit, language):
    client.cookies["django_language"] = language
    response = client.get(f"/u/{unit.code.lower()}/")
    html = html_lib.unescape(response.content.decode())
    assert response.status_code == 200
    labels = {
        "en": "Someone hurt my body",
        "fr": "Quelqu'un a fait mal à mon corps",
        "es": "Alguien lastimó mi cuerpo",
    }
    assert labels[language] in html
    # Every field has a label or a legend.
    for name in ("narrative", "contact_detail"):
        assert f'<label for="id_{name}">' in html
    assert html.count("<legend>") == 5  # who it is about, category, danger, staff, contact


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_filing_shows_reference_code_and_deadlines(file_complaint, unit, language):
    response = file_complaint(unit, language=language)
    html = html_lib.unescape(response.content.decode())
    assert response.status_code == 200
    assert LANGUAGES[language][2] in html
    reference, code = receipt_from(response)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", reference)
    assert re.fullmatch(r"\d{4} \d{4} \d{4}", code)
    case = Case.objects.get()
    assert case.display_reference == reference
    assert case.language == language
    assert case.channel == Case.Channel.WEB
    assert case.urgency == "urgent"  # physical_violence under the default policy
    # The child is told by when: the acknowledgement deadline appears on the page.
    assert case.acknowledge_due_at is not None
    assert str(case.acknowledge_due_at.year) in html


@pytest.mark.django_db
def test_in_danger_shows_emergency_contacts_first(file_complaint, unit):
    response = file_complaint(unit, in_danger="yes")
    html = response.content.decode()
    assert Case.objects.get().urgency == "emergency"
    emergency = html.index('id="emergency-title"')
    assert emergency < html.index("<h1>")
    assert 'href="tel:116"' in html and 'href="tel:17"' in html


@pytest.mark.django_db
def test_not_in_danger_does_not_lead_with_emergency_contacts(file_complaint, unit):
    html = file_complaint(unit).content.decode()
    assert 'id="emergency-title"' not in html


@pytest.mark.django_db
def test_double_submission_files_one_case(client, unit):
    url = reverse("intake:complaint_form", args=[unit.code])
    data = complaint_data(submission_token="token-abc-123")
    first = client.post(url, data)
    second = client.post(url, data)
    assert Case.objects.count() == 1
    assert receipt_from(first)[0] == receipt_from(second)[0]
    assert receipt_from(second)[1] == ""  # the code is never shown again
    assert "did not send it twice" in second.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"narrative": "   "}, "Please tell us what happened."),
        ({"narrative": "x" * 5001}, "Please keep it under 5000 characters"),
        ({"category": ""}, "Please choose the closest answer"),
        ({"category": "not-a-category"}, "Select a valid choice"),
        ({"in_danger": ""}, "are you in danger right now?"),
        ({"contact_preference": "sms", "contact_detail": ""}, "Please write a phone number"),
        (
            {"contact_preference": "email", "contact_detail": "nope"},
            "Please write an email address",
        ),
    ],
)
def test_bad_input_is_refused_politely_and_nothing_is_lost(
    file_complaint, unit, overrides, message
):
    response = file_complaint(unit, **overrides)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert "Nothing you wrote is lost." in html
    assert Case.objects.count() == 0
    narrative = overrides.get("narrative", complaint_data()["narrative"]).strip()
    if narrative:
        assert narrative[:200] in html  # the child's text comes back in the form


@pytest.mark.django_db
def test_bad_input_error_is_in_the_childs_language(file_complaint, unit):
    response = file_complaint(unit, language="es", narrative="")
    assert "Por favor, cuéntanos qué pasó." in html_lib.unescape(response.content.decode())
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_unknown_unit_is_404(client, unit):
    assert client.get("/u/NOPE/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/u/TST1/", "/follow-up/"])
def test_reporter_pages_are_not_cached_and_send_no_referrer(client, unit, path):
    response = client.get(path)
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "default-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/u/TST1/", "/follow-up/"])
def test_reporter_pages_load_no_third_party_assets(client, unit, path):
    html = client.get(path).content.decode()
    for attr in re.findall(r'(?:src|href)="([^"]+)"', html):
        if attr.startswith(("http://", "https://", "//")):
            # The only external address is the quick-exit link, which loads nothing.
            assert attr == "https://www.bbc.co.uk/weather", attr
    assert "<iframe" not in html
    assert 'id="exit-this-page"' in html


@pytest.mark.django_db
def test_confirmation_does_not_put_secrets_in_urls(file_complaint, unit):
    response = file_complaint(unit)
    reference, code = receipt_from(response)
    # Rendered in place: no redirect carries the reference or code.
    assert response.status_code == 200
    assert not response.has_header("Location")
    html = response.content.decode()
    for href in re.findall(r'(?:href|action)="([^"]+)"', html):
        assert code.replace(" ", "") not in href.replace(" ", "")
        assert reference not in href


# --- Follow-up ----------------------------------------------------------------------------


def _open_followup(client, reference, code):
    return client.post(reverse("intake:followup"), {"reference": reference, "code": code})


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_followup_shows_status_and_replies(client, file_complaint, unit, focal_point, language):
    from complaints.services import case_reply

    reference, code = receipt_from(file_complaint(unit, language=language))
    case_reply(
        case=Case.objects.get(), actor=focal_point, body="We read your complaint. We are sorry."
    )
    response = _open_followup(client, reference.lower(), code.replace(" ", ""))
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:followup_case")
    page = client.get(response["Location"])
    html = html_lib.unescape(page.content.decode())
    assert reference in html
    assert "We read your complaint. We are sorry." in html
    status_words = {
        "en": "We have your complaint. Someone will read it soon.",
        "fr": "Nous avons ta plainte. Quelqu'un va bientôt la lire.",
        "es": "Tenemos tu queja. Alguien la leerá pronto.",
    }
    assert status_words[language] in html


@pytest.mark.django_db
def test_child_adds_information(client, file_complaint, unit):
    reference, code = receipt_from(file_complaint(unit))
    _open_followup(client, reference, code)
    response = client.post(
        reverse("intake:followup_case"), {"body": "It happened again on Monday."}
    )
    assert response.status_code == 302
    message = Message.objects.get()
    assert message.author_kind == Message.Author.REPORTER
    assert b"It happened again" not in bytes(message.body)
    assert (
        "It happened again on Monday."
        in client.get(reverse("intake:followup_case")).content.decode()
    )


@pytest.mark.django_db
def test_empty_addition_is_refused_politely(client, file_complaint, unit):
    reference, code = receipt_from(file_complaint(unit))
    _open_followup(client, reference, code)
    response = client.post(reverse("intake:followup_case"), {"body": "  "})
    assert response.status_code == 400
    assert "Please write your message first." in response.content.decode()
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_wrong_code_is_refused_with_a_clear_message(client, file_complaint, unit):
    reference, _code = receipt_from(file_complaint(unit))
    response = _open_followup(client, reference, "000000000000")
    assert response.status_code == 400
    assert "We could not find a complaint with that reference and code" in response.content.decode()
    assert client.get(reverse("intake:followup_case")).status_code == 302  # no access


@pytest.mark.django_db
def test_wrong_guesses_are_throttled_per_reference(client, file_complaint, unit, settings):
    reference, code = receipt_from(file_complaint(unit))
    for i in range(settings.FOLLOWUP_MAX_FAILURES_PER_REFERENCE):
        # A different client each time: the per-reference limit still holds.
        r = client.post(
            reverse("intake:followup"),
            {"reference": reference, "code": f"{i:012d}"},
            REMOTE_ADDR=f"10.0.0.{i + 1}",
        )
        assert r.status_code == 400
    blocked = client.post(
        reverse("intake:followup"), {"reference": reference, "code": code}, REMOTE_ADDR="10.0.1.1"
    )
    assert blocked.status_code == 429
    assert "Too many tries" in blocked.content.decode()


@pytest.mark.django_db
def test_wrong_guesses_are_throttled_per_client(client, file_complaint, unit, settings):
    settings.FOLLOWUP_MAX_FAILURES_PER_CLIENT = 3
    reference, code = receipt_from(file_complaint(unit))
    for i in range(3):
        client.post(reverse("intake:followup"), {"reference": f"AAAA{i}AAA", "code": "1" * 12})
    blocked = _open_followup(client, reference, code)
    assert blocked.status_code == 429
    # Another client is not blocked by this one.
    other = client.post(
        reverse("intake:followup"), {"reference": reference, "code": code}, REMOTE_ADDR="192.0.2.7"
    )
    assert other.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, text",
    [
        ("fr", "Trop d'essais"),
        ("es", "Demasiados intentos"),
    ],
)
def test_throttle_message_is_in_the_childs_language(client, unit, settings, language, text):
    settings.FOLLOWUP_MAX_FAILURES_PER_CLIENT = 1
    client.cookies["django_language"] = language
    client.post(reverse("intake:followup"), {"reference": "AAAAAAAA", "code": "1" * 12})
    blocked = client.post(reverse("intake:followup"), {"reference": "AAAAAAAA", "code": "1" * 12})
    assert blocked.status_code == 429
    assert text in html_lib.unescape(blocked.content.decode())


@pytest.mark.django_db
def test_followup_access_expires_when_idle(client, file_complaint, unit, settings):
    reference, code = receipt_from(file_complaint(unit))
    _open_followup(client, reference, code)
    session = client.session
    session["followup_seen"] -= settings.FOLLOWUP_SESSION_IDLE_MINUTES * 60 + 1
    session.save()
    assert client.get(reverse("intake:followup_case"))["Location"] == reverse("intake:followup")


@pytest.mark.django_db
def test_leaving_ends_followup_access(client, file_complaint, unit):
    reference, code = receipt_from(file_complaint(unit))
    _open_followup(client, reference, code)
    client.post(reverse("intake:followup_leave"))
    assert client.get(reverse("intake:followup_case")).status_code == 302


@pytest.mark.django_db
def test_form_post_with_null_origin_from_our_own_page_is_accepted(unit):
    """Referrer-Policy: no-referrer makes browsers send `Origin: null`; a same-origin
    POST (Sec-Fetch-Site) with a valid CSRF token must still be accepted."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/u/{unit.code}/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    data = complaint_data(csrfmiddlewaretoken=token)
    url = f"/u/{unit.code}/"
    ok = client.post(url, data, HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="same-origin")
    assert ok.status_code == 200 and Case.objects.count() == 1
    # The same null origin from another site is still refused.
    refused = client.post(url, data, HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="cross-site")
    assert refused.status_code == 403
    # And no token, no complaint, even from our own origin.
    missing = client.post(
        url, complaint_data(), HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="same-origin"
    )
    assert missing.status_code == 403
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_no_cookie_outlives_the_browser_session(client, file_complaint, unit):
    client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    client.get(f"/u/{unit.code}/")
    reference, code = receipt_from(file_complaint(unit, language="es"))
    client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    assert {"csrftoken", "sessionid", "django_language"} <= set(client.cookies)
    for morsel in client.cookies.values():
        assert not morsel["expires"] and not morsel["max-age"], morsel.key
