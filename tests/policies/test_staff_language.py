"""Issue 14 §3: staff read Recourse in their own language (by default their unit's),
with times in their unit's zone, on pages and in the notices sent to them; a child's
pages keep the child's language."""

import re
import zoneinfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django_otp.plugins.otp_totp.models import TOTPDevice

from complaints.models import Case
from complaints.services import complaint_receive
from notifications.backends import locmem
from notifications.models import Notification
from notifications.services import notification_deliver, notify_new_reader
from policies.models import Membership, StaffProfile, Unit
from policies.staff_locale import staff_home_unit, staff_locale_for
from tests.conftest import PASSWORD, make_staff, make_unit, totp_now

GUATEMALA = zoneinfo.ZoneInfo("America/Guatemala")  # UTC-6 all year: never UTC's clock


def choose_language(user, language: str) -> None:
    StaffProfile.objects.update_or_create(user=user, defaults={"language": language})


def emergency_case(unit, language="es") -> Case:
    return complaint_receive(
        unit=unit,
        channel="web",
        language=language,
        narrative="He hits me now, the guard in block C",
        category="physical_violence",
        in_danger=True,
        about_staff_answer="no",
        contact_preference="none",
    ).case


@pytest.fixture
def dakar_unit(db):
    return make_unit("DKR9", language="fr")


@pytest.mark.django_db
def test_a_person_with_no_choice_reads_staff_pages_in_their_units_language(
    django_user_model, dakar_unit, staff_client
):
    focal = make_staff(django_user_model, "awa", dakar_unit, Membership.Role.FOCAL_POINT)
    page = staff_client(focal).get(reverse("staff:queue"))
    html = page.content.decode()
    assert '<html lang="fr" dir="ltr">' in html and page["Content-Language"] == "fr"
    assert "Se déconnecter" in html and "Mot de passe" in html and "Sign out" not in html
    # The choice offered names the unit's language as the default.
    assert "La langue de mon unité (Français)" in html


@pytest.mark.django_db
def test_a_chosen_language_beats_the_units_and_blank_goes_back_to_it(
    client, focal_point, staff_client
):
    staff_client(focal_point)
    assert "Sign out" in client.get(reverse("staff:queue")).content.decode()  # unit: English

    response = client.post(reverse("staff:language"), {"language": "es", "next": "/staff/"})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert StaffProfile.objects.get(user=focal_point).language == "es"
    page = client.get(reverse("staff:queue")).content.decode()
    assert "Cerrar sesión" in page and "Idioma guardado." in page  # said in the new language
    # Kept on the profile, not in the browser's language cookie (a child's choice).
    assert "django_language" not in response.cookies

    client.post(reverse("staff:language"), {"language": "", "next": "/staff/"})
    assert StaffProfile.objects.get(user=focal_point).language == ""
    assert "Sign out" in client.get(reverse("staff:queue")).content.decode()


@pytest.mark.django_db
def test_only_a_fully_signed_in_person_may_change_their_language(client, focal_point):
    response = client.post(reverse("staff:language"), {"language": "fr"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("staff:login"))
    client.post(reverse("staff:login"), {"username": focal_point.username, "password": PASSWORD})
    response = client.post(reverse("staff:language"), {"language": "fr"})  # no second factor yet
    assert response["Location"].startswith(reverse("staff:verify"))
    assert not StaffProfile.objects.filter(user=focal_point, language="fr").exists()


@pytest.mark.django_db
def test_an_unknown_language_is_refused_and_nothing_changes(client, focal_point, staff_client):
    staff_client(focal_point)
    choose_language(focal_point, "fr")
    client.post(reverse("staff:language"), {"language": "de"})
    assert StaffProfile.objects.get(user=focal_point).language == "fr"
    assert "Choisissez l&#x27;une des langues proposées." in client.get("/staff/").content.decode()


@pytest.mark.django_db
def test_sign_in_steps_speak_the_persons_language_once_they_are_known(
    client, django_user_model, dakar_unit
):
    focal = make_staff(django_user_model, "awa", dakar_unit, Membership.Role.FOCAL_POINT)
    # Before the password nobody is known: the browser's language, here English.
    login_page = client.get(reverse("staff:login")).content.decode()
    assert "Step 1 of 2" in login_page
    client.cookies["django_language"] = "fr"
    assert (
        "Étape 1 sur 2 : votre mot de passe." in client.get(reverse("staff:login")).content.decode()
    )
    del client.cookies["django_language"]

    client.post(reverse("staff:login"), {"username": "awa", "password": PASSWORD})
    verify_page = client.get(reverse("staff:verify")).content.decode()
    assert "Code d'authentification" in verify_page and "Étape 2 sur 2" in verify_page
    device = TOTPDevice.objects.get(user=focal)
    wrong = "000000" if totp_now(device) != "000000" else "111111"
    assert (
        "Ce code ne correspond pas."
        in client.post(reverse("staff:verify"), {"token": wrong}).content.decode()
    )


@pytest.mark.django_db
def test_times_on_staff_pages_read_in_the_units_zone_which_the_header_names(
    client, unit, focal_point, staff_client
):
    Unit.objects.filter(pk=unit.pk).update(time_zone="America/Guatemala")
    case = emergency_case(unit)
    page = staff_client(focal_point).get(reverse("staff:queue")).content.decode()
    in_guatemala = date_format(timezone.localtime(case.received_at, GUATEMALA), "Y-m-d H:i")
    in_utc = date_format(
        timezone.localtime(case.received_at, zoneinfo.ZoneInfo("UTC")), "Y-m-d H:i"
    )
    assert in_guatemala in page and in_utc not in page
    assert "Times in America/Guatemala" in page
    # Nothing stays active on this thread for the next request (a child's, the admin).
    assert timezone.get_current_timezone_name() == "UTC"


@pytest.mark.django_db
def test_a_waiting_case_says_its_deadline_with_the_zone(
    client, django_user_model, unit, focal_point, staff_client
):
    Unit.objects.filter(pk=unit.pk).update(time_zone="America/Guatemala")
    case = emergency_case(unit)
    # A colleague who joined after the case was filed: routed to, no copy of the key yet.
    late = make_staff(django_user_model, "late", unit, Membership.Role.FOCAL_POINT)
    Case.objects.filter(pk=case.pk).update(assignee=late)
    choose_language(late, "fr")
    page = staff_client(late).get(reverse("staff:case", args=[case.reference]))
    html = page.content.decode()
    assert "en attente d'accès" in html
    due = timezone.localtime(case.acknowledge_due_at, GUATEMALA)
    with translation.override("fr"):
        assert f"{date_format(due, 'j F Y')} à {due:%H}h{due:%M} (America/Guatemala)" in html


@pytest.mark.django_db
def test_reporter_pages_keep_the_childs_language_after_a_staff_visit(
    client, django_user_model, dakar_unit, staff_client
):
    focal = make_staff(django_user_model, "awa", dakar_unit, Membership.Role.FOCAL_POINT)
    staff_client(focal)
    assert "Se déconnecter" in client.get("/staff/").content.decode()
    client.cookies["django_language"] = "es"
    start = client.get(f"/u/{dakar_unit.code}/")
    assert start["Content-Language"] == "es" and '<html lang="es"' in start.content.decode()
    client.cookies["django_language"] = "en"
    assert client.get("/")["Content-Language"] == "en"


@pytest.mark.django_db
def test_notices_are_in_each_recipients_language_and_zone_not_the_childs(django_user_model, unit):
    Unit.objects.filter(pk=unit.pk).update(time_zone="America/Guatemala")
    unit.refresh_from_db()
    french = make_staff(django_user_model, "claire", unit, Membership.Role.FOCAL_POINT)
    choose_language(french, "fr")
    StaffProfile.objects.filter(user=french).update(alert_phone="+15005550101")
    english = make_staff(django_user_model, "sam", unit, Membership.Role.FOCAL_POINT)
    case = emergency_case(unit, language="es")  # the child wrote in Spanish
    for notice in Notification.objects.filter(case=case, kind=Notification.Kind.NEW_CASE):
        assert notification_deliver(notice.pk) == "sent"

    by_person = {m.to[0]: m for m in mail.outbox}
    due = timezone.localtime(case.acknowledge_due_at, GUATEMALA)
    to_french = by_person[french.email]
    assert to_french.subject.startswith(f"[Recourse] Nouveau dossier {case.display_reference}")
    assert "Urgence absolue" in to_french.subject
    assert f"à {due:%H}h{due:%M} (America/Guatemala)" in to_french.body
    assert "Ce message ne contient jamais ce que l'enfant a écrit." in to_french.body
    to_english = by_person[english.email]
    assert to_english.subject.startswith(f"[Recourse] New case {case.display_reference}")
    assert f", {due:%H:%M} (America/Guatemala)." in to_english.body
    assert due.strftime("%H:%M") != timezone.localtime(
        case.acknowledge_due_at, zoneinfo.ZoneInfo("UTC")
    ).strftime("%H:%M")
    alert = [m for m in locmem.outbox if m["to"] == "+15005550101"]
    assert len(alert) == 1 and alert[0]["body"].startswith("Recourse : URGENCE ABSOLUE, dossier")
    # Metadata only, in every language.
    for text in [
        to_french.subject + to_french.body,
        to_english.subject + to_english.body,
        alert[0]["body"],
    ]:
        assert "hits" not in text and "block C" not in text
        assert case.display_reference in text


@pytest.mark.django_db
def test_a_new_reader_notice_reaches_a_manager_in_their_units_language(
    django_user_model, dakar_unit
):
    manager = make_staff(django_user_model, "moussa", dakar_unit, Membership.Role.MANAGER)
    newcomer = make_staff(django_user_model, "fatou", dakar_unit, Membership.Role.FOCAL_POINT)
    membership = Membership.objects.get(user=newcomer)
    with translation.override("es"):  # whoever added the membership read Spanish
        notices = notify_new_reader(membership=membership)
    assert [n.recipient for n in notices] == [manager]
    assert notification_deliver(notices[0].pk) == "sent"
    assert mail.outbox[0].subject == "[Recourse] Nouveau point focal à DKR9 : fatou"
    assert "est désormais point focal de Unit DKR9" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_person_in_several_units_reads_in_their_first_units_language_and_zone(django_user_model):
    dakar = make_unit("DKR8", language="fr")
    Unit.objects.filter(pk=dakar.pk).update(time_zone="Africa/Dakar")
    madrid = make_unit("MAD1", language="es")
    Unit.objects.filter(pk=madrid.pk).update(time_zone="Europe/Madrid")
    person = make_staff(django_user_model, "ines", madrid, Membership.Role.FOCAL_POINT)
    Membership.objects.create(user=person, unit=dakar, role=Membership.Role.MANAGER)
    locale = staff_locale_for(person)
    assert staff_home_unit(person) == madrid
    assert (locale.language, locale.zone_name) == ("es", "Europe/Madrid")
    # Leaving the first unit moves them to the next one they joined.
    Membership.objects.filter(user=person, unit=madrid).update(is_active=False)
    assert (staff_locale_for(person).language, staff_locale_for(person).zone_name) == (
        "fr",
        "Africa/Dakar",
    )


@pytest.mark.django_db
def test_the_refusal_after_too_many_passwords_is_in_the_browsers_language(
    client, settings, focal_point
):
    settings.STAFF_LOGIN_MAX_FAILURES_PER_ACCOUNT = 1
    client.cookies["django_language"] = "fr"
    client.post(reverse("staff:login"), {"username": "focal", "password": "wrong"})
    page = client.post(reverse("staff:login"), {"username": "focal", "password": "wrong"})
    assert page.status_code == 429
    assert re.search(r"Veuillez réessayer après \d\dh\d\d \(UTC\)", page.content.decode())


def test_the_time_of_a_notice_names_its_zone():
    from policies.staff_locale import staff_time

    moment = timezone.now().replace(
        year=2026,
        month=12,
        day=3,
        hour=9,
        minute=0,
        second=0,
        microsecond=0,
        tzinfo=zoneinfo.ZoneInfo("UTC"),
    )
    with timezone.override(zoneinfo.ZoneInfo("Europe/Madrid")), translation.override("en"):
        assert staff_time(moment) == "3 December 2026, 10:00 (Europe/Madrid)"
    with timezone.override(zoneinfo.ZoneInfo("Africa/Dakar")), translation.override("fr"):
        assert staff_time(moment) == "3 décembre 2026 à 09h00 (Africa/Dakar)"
    assert staff_time(None) == ""
