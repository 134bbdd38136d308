"""Arabic: SMS conversations (signed webhooks) and reporter pages, right to left, with
references, codes and numbers kept left to right, and digits typed on an Arabic
keyboard (٠١٢٣ or ۰۱۲۳) accepted wherever a child types a number."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, pgettext

from complaints.digits import ascii_digits
from complaints.models import Case
from intake.models import SmsReporter
from intake.sms_budget import sms_samples
from notifications.gsm import UCS2_CONCAT, is_gsm, length_units, segments
from policies.categories import policy_category_codes
from tests.conftest import receipt_from, staff_reads

pytestmark = pytest.mark.usefixtures("focal_point")

LRI, PDI = "\u2066", "\u2069"
ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")


def arabic(msgid: str) -> str:
    with translation.override("ar"):
        return gettext(msgid)


def to_arabic_digits(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


def to_eastern_digits(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


def test_every_keyword_is_written_as_keyword_folds_a_text():
    from intake import sms as flow

    for words in (
        flow.STOP_WORDS,
        flow.START_WORDS,
        flow.HELP_WORDS,
        flow.STATUS_WORDS,
        flow.CODE_WORDS,
        flow.WITHDRAW_WORDS,
        flow.RATE_WORDS,
        flow.REVIEW_WORDS,
        flow.DONE_WORDS,
        set(flow.LANGUAGE_NAMES),
    ):
        assert all(flow.keyword(word) == word for word in words), words
    assert flow.keyword("مساعدة") in flow.HELP_WORDS and flow.keyword("أجل") == "اجل"


def test_ascii_digits_reads_both_arabic_keyboards():
    assert ascii_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert ascii_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"
    assert ascii_digits("K7QM-٤TPX ١٢٣") == "K7QM-4TPX 123"


@pytest.mark.django_db
def test_a_whole_sms_complaint_in_arabic_with_arabic_digits(sms, unit):
    # A first text in Arabic is answered in Arabic: the unit named, the story begun.
    reply = sms("TST1 ضربني الشرطي في المركز")
    assert reply.startswith(arabic("Got it. Send more, or DONE when you have finished."))
    assert SmsReporter.objects.get().language == "ar"
    # The category menu does not fit two UCS-2 segments: it comes in pages, "0 More".
    first_page = sms("تم")  # DONE, in Arabic
    assert first_page.startswith(arabic("What is it closest to? Reply with a number:"))
    more = pgettext("the next page of an SMS menu", "More")
    with translation.override("ar"):
        more = pgettext("the next page of an SMS menu", "More")
    assert first_page.endswith(f"\n0 {more}") and segments(first_page) <= 2
    second_page = sms("٠")  # 0 typed on an Arabic keyboard: the next page
    assert second_page != first_page and segments(second_page) <= 2
    shown = re.findall(r"^(\d+) ", second_page, re.M)
    assert shown[0] == str(first_page.count("\n"))  # the numbers go on from the first page
    # A number from any page answers: ٢ is 2, on the first page.
    assert sms("٢") == arabic("Are you in danger right now? 1 yes 2 no")
    filed = sms("٢")  # no
    case = Case.objects.get()
    assert (
        case.language == "ar" and case.category == policy_category_codes(case.policy.categories)[1]
    )
    assert not case.in_danger
    assert staff_reads(case).narrative == "ضربني الشرطي في المركز"
    # The reference reads left to right inside the Arabic text.
    assert f"{LRI}{case.display_reference}{PDI}" in filed
    assert ARABIC_LETTER.search(filed) and segments(filed) <= 2
    # The web code, on asking CODE: reference and code each isolated.
    code_reply = sms("CODE")
    assert re.search(rf"{LRI}{case.display_reference}{PDI}: {LRI}[\d ]+{PDI}", code_reply)


@pytest.mark.django_db
@pytest.mark.parametrize("word", ["AR", "عربي", "العربية", "ar"])
def test_ar_and_its_arabic_names_switch_the_language(sms, unit, word):
    sms("FR")
    assert SmsReporter.objects.get().language == "fr"
    assert sms(word) == arabic("OK, we will write in English.")
    assert SmsReporter.objects.get().language == "ar"
    assert sms("EN") == "OK, we will write in English."


@pytest.mark.django_db
def test_the_language_menu_takes_an_arabic_digit(sms, unit):
    menu = sms("TST1")
    assert "4 Arabic" in menu and is_gsm(menu)  # the first reply stays GSM-7
    assert sms("٤") == arabic(
        "Tell us what happened, in your own words. You can send several messages. "
        "Send DONE when you have finished."
    )
    assert SmsReporter.objects.get().language == "ar"


@pytest.mark.django_db
def test_arabic_danger_words_and_yes_no(sms, unit):
    sms("AR")
    sms("TST1 الشرطي ضربني")
    # Unsure words: the question, answered with نعم (yes): filed as an emergency.
    asked = sms("أنا خائف")
    assert arabic("Are you in danger right now? Reply YES or NO.") in asked
    reply = sms("نعم")
    case = Case.objects.get()
    assert case.in_danger and case.urgency == "emergency"
    assert f"{LRI}{case.display_reference}{PDI}" in reply
    assert reply.startswith(arabic("Call now:"))
    # Words that say danger now, in Arabic, on the filed case: the numbers first.
    assert sms("إنه يضربني الآن").startswith(arabic("Call now:"))


@pytest.mark.django_db
def test_no_in_arabic_is_no(sms, unit):
    sms("AR")
    sms("TST1 الشرطي ضربني")
    sms("أنا خائف")
    assert sms("لا") == arabic("OK. Send more, or DONE when you have finished.")
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_unit_code_with_arabic_digits_names_the_unit(sms, unit):
    sms("AR")
    reply = sms("TST١ ضربني الشرطي")
    assert reply.startswith(arabic("Got it. Send more, or DONE when you have finished."))


@pytest.mark.django_db
def test_every_arabic_sms_is_translated_and_within_two_ucs2_segments():
    for name, text in sms_samples("ar"):
        assert ARABIC_LETTER.search(text), f"{name} is not in Arabic: {text!r}"
        assert not is_gsm(text) and length_units(text) <= 2 * UCS2_CONCAT, (name, text)
        # Never a bare reference: every K7QM-4TPX sits between isolate marks.
        assert text.count("K7QM-4TPX") == text.count(f"{LRI}K7QM-4TPX{PDI}"), (name, text)


@pytest.mark.django_db
def test_isolation_marks_only_in_right_to_left_texts(sms, unit):
    for text in ("TST1 they hit me", "DONE", "2", "2"):
        reply = sms(text)
    assert LRI not in reply and is_gsm(reply)


# --- Web ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_arabic_pages_are_right_to_left_with_the_reference_and_code_isolated(
    client, file_complaint, unit
):
    response = file_complaint(unit, language="ar")
    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert arabic("We have your complaint") in html
    reference, code = receipt_from(response)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", reference)
    assert f'id="case-reference"><bdi dir="ltr">{reference}</bdi>' in html
    assert f'id="followup-code"><bdi dir="ltr">{code}</bdi>' in html
    # The emergency numbers too, and dates in Arabic (the month in words).
    assert '<span class="number" dir="ltr">116</span>' in html
    with translation.override("ar"):
        months = [
            gettext(m)
            for m in (
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            )
        ]
    assert any(month in html for month in months)
    assert ">العربية</button>" not in html  # no switch on the receipt (as in every language)


@pytest.mark.django_db
@pytest.mark.parametrize("digits", [to_arabic_digits, to_eastern_digits])
def test_a_follow_up_code_typed_in_arabic_digits_opens_the_case(
    client, file_complaint, unit, digits
):
    reference, code = receipt_from(file_complaint(unit, language="ar"))
    response = client.post(
        reverse("intake:followup"), {"reference": digits(reference), "code": digits(code)}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response["Location"]).content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert f'<bdi dir="ltr">{reference}</bdi>' in page


@pytest.mark.django_db
def test_a_wrong_code_in_arabic_digits_is_refused_in_arabic(client, file_complaint, unit):
    reference, _code = receipt_from(file_complaint(unit, language="ar"))
    response = client.post(
        reverse("intake:followup"), {"reference": reference, "code": "١٢٣٤ ٥٦٧٨ ٩٠١٢"}
    )
    with translation.override("ar"):
        refusal = gettext(
            "We could not find a complaint with that reference and code. Please check and try again."
        )
    assert refusal in response.content.decode()


@pytest.mark.django_db
def test_the_arabic_poster_is_right_to_left_with_codes_isolated(client, unit):
    page = client.get(f"/u/{unit.code}/poster/", {"lang": "ar"}).content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert f'<bdi dir="ltr">{unit.code}</bdi>' in page
    assert re.search(r'class="sheet-address" href="[^"]+"><bdi dir="ltr">[^<]+/u/TST1/</bdi>', page)
    assert arabic("Did someone who works here treat you badly?") in page


@pytest.mark.django_db
def test_the_language_switch_offers_arabic_by_its_own_name(client, unit):
    page = client.get(f"/u/{unit.code}/").content.decode()
    assert '<button type="submit" name="language" value="ar" lang="ar" dir="auto"' in page
    assert ">العربية</button>" in page
    client.post("/i18n/setlang/", {"language": "ar", "next": "/"})
    assert '<html lang="ar" dir="rtl">' in client.get(f"/u/{unit.code}/").content.decode()
