"""Issue 12 (C): a child is never turned away by a limit, and what they wrote is kept.

Past the per-address limit (many children behind one school, kiosk or carrier
address), a simple question replaces the refusal; a child in danger is never asked. A
follow-up message typed after the visit timed out rides in the code form until the
code is entered again."""

import base64
import html as html_lib
import json
import re
import time
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse

from complaints.models import Case, Message
from intake import human_check
from tests.conftest import all_rows_as_text, complaint_data, receipt_from

STORY = "The guard took my shoes and laughed.\nIt was on Tuesday night."


def question_answer(html: str) -> str:
    a, b = re.search(r"What is (\d+) \+ (\d+)\?", html).groups()
    return str(int(a) + int(b))


def check_token(html: str) -> str:
    return re.search(r'name="check_token" value="([^"]+)"', html).group(1)


def textarea(html: str, name: str) -> str:
    match = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    return html_lib.unescape(match.group(1))


def fill_the_limit(client, unit, settings):
    url = reverse("intake:complaint_form", args=[unit.code])
    for _ in range(settings.SUBMISSIONS_PER_CLIENT):
        assert client.post(url, complaint_data()).status_code == 200
    return url


@pytest.mark.django_db
def test_past_the_limit_the_child_is_asked_a_question_and_keeps_the_story(client, unit, settings):
    assert settings.SUBMISSIONS_PER_CLIENT == 10
    url = fill_the_limit(client, unit, settings)
    data = complaint_data(
        narrative=STORY, category="neglect", about_staff="unsure", filed_for="someone_else"
    )
    asked = client.post(url, data)
    page = asked.content.decode()
    # 429: true for a script counting refusals; a person simply sees their form again.
    assert asked.status_code == 429
    assert Case.objects.count() == 10
    assert textarea(page, "narrative") == STORY
    for name, value in (
        ("category", "neglect"),
        ("about_staff", "unsure"),
        ("filed_for", "someone_else"),
        ("in_danger", "no"),
    ):
        assert re.search(rf'name="{name}" value="{value}"[^>]*checked', page), name
    assert "Nothing you wrote is lost." in page
    assert 'href="tel:116"' in page
    assert 'autocomplete="off"' in re.search(r'<input[^>]*name="check_answer"[^>]*>', page).group(0)

    filed = client.post(
        url, {**data, "check_token": check_token(page), "check_answer": question_answer(page)}
    )
    assert filed.status_code == 200
    assert receipt_from(filed)[1]
    case = Case.objects.order_by("-received_at").first()
    assert Case.objects.count() == 11
    assert case.filed_for == Case.FiledFor.SOMEONE_ELSE and case.category == "neglect"


@pytest.mark.django_db
def test_a_child_in_danger_is_never_asked(client, unit, settings):
    url = fill_the_limit(client, unit, settings)
    response = client.post(url, complaint_data(narrative=STORY, in_danger="yes"))
    assert response.status_code == 200
    assert 'name="check_answer"' not in response.content.decode()
    assert Case.objects.count() == 11
    assert Case.objects.filter(in_danger=True, urgency="emergency").count() == 1


@pytest.mark.django_db
def test_a_wrong_answer_asks_again_and_keeps_the_text(client, unit, settings):
    url = fill_the_limit(client, unit, settings)
    first = client.post(url, complaint_data(narrative=STORY)).content.decode()
    wrong = str(int(question_answer(first)) + 1)
    again = client.post(
        url, complaint_data(narrative=STORY, check_token=check_token(first), check_answer=wrong)
    )
    page = again.content.decode()
    assert again.status_code == 400
    assert Case.objects.count() == 10
    assert textarea(page, "narrative") == STORY
    assert "That answer was not right." in page
    assert check_token(page) != check_token(first)
    # The new question, answered, files it.
    done = client.post(
        url,
        complaint_data(
            narrative=STORY, check_token=check_token(page), check_answer=question_answer(page)
        ),
    )
    assert done.status_code == 200 and Case.objects.count() == 11


@pytest.mark.django_db
def test_a_right_answer_with_another_mistake_is_not_asked_again(client, unit, settings):
    url = fill_the_limit(client, unit, settings)
    page = client.post(url, complaint_data(narrative=STORY)).content.decode()
    answer = {"check_token": check_token(page), "check_answer": question_answer(page)}
    mistake = client.post(url, complaint_data(narrative=STORY, category="", **answer))
    html = mistake.content.decode()
    assert mistake.status_code == 400
    assert "Please choose the closest answer" in html
    assert "What is" not in html  # the answer rides along, hidden
    assert (
        client.post(
            url,
            complaint_data(
                narrative=STORY,
                **{
                    "check_token": check_token(html),
                    "check_answer": re.search(r'name="check_answer" value="([^"]+)"', html).group(
                        1
                    ),
                },
            ),
        ).status_code
        == 200
    )
    assert Case.objects.count() == 11


@pytest.mark.django_db
def test_an_answer_without_its_question_files_nothing(client, unit, settings):
    url = fill_the_limit(client, unit, settings)
    response = client.post(url, complaint_data(check_token="made-up", check_answer="7"))
    assert response.status_code == 400 and Case.objects.count() == 10


@pytest.mark.django_db
def test_under_the_limit_nobody_is_asked(client, unit):
    html = client.get(f"/u/{unit.code}/").content.decode()
    assert "check_answer" not in html
    assert client.post(f"/u/{unit.code}/", complaint_data()).status_code == 200


def test_env_example_says_the_limit_is_per_deployment():
    text = (Path(settings.BASE_DIR) / "deploy" / "recourse.env.example").read_text()
    assert "SUBMISSIONS_PER_CLIENT=10" in text
    assert "SUBMISSION_THROTTLE_WINDOW_MINUTES=60" in text
    assert "per deployment" in text


# --- The question itself ----------------------------------------------------------------


def test_the_token_does_not_hold_the_answer():
    check = human_check.human_check_new()
    a, b = re.search(r"(\d+) \+ (\d+)", check.question).groups()
    answer = str(int(a) + int(b))
    payload = check.token.split(":")[0]
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(data) == {"n", "d"}
    assert len(data["n"]) >= 20 and len(data["d"]) == 64  # a random nonce and a digest
    assert human_check.human_check_passes(token=check.token, answer=answer)
    assert human_check.human_check_passes(token=check.token, answer=f" {answer} ")
    assert not human_check.human_check_passes(token=check.token, answer=str(int(answer) + 1))
    assert not human_check.human_check_passes(token=check.token, answer="")
    # The same question twice gives two unrelated tokens.
    assert human_check.human_check_new().token != check.token


def test_digits_of_any_script_are_read():
    check = human_check.human_check_new()
    answer = int(question_answer(check.question))
    arabic = "".join("٠١٢٣٤٥٦٧٨٩"[int(d)] for d in str(answer))
    assert human_check.human_check_passes(token=check.token, answer=arabic)


def test_a_tampered_or_old_token_fails():
    check = human_check.human_check_new()
    answer = question_answer(check.question)
    assert not human_check.human_check_passes(token=check.token[:-2] + "xx", answer=answer)
    assert not human_check.human_check_passes(token="", answer=answer)
    later = time.time() + human_check.MAX_AGE_SECONDS + 5
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert not human_check.human_check_passes(token=check.token, answer=answer)


def test_other_signed_values_are_not_accepted_as_tokens():
    from django.core import signing

    forged = signing.dumps({"n": "x", "d": "y"})  # our key, another salt
    assert not human_check.human_check_passes(token=forged, answer="7")


# --- A follow-up message typed after the visit timed out ----------------------------------

LATE = "He came back today and shouted at me.\nPlease help."


def _open(client, reference, code, **extra):
    return client.post(reverse("intake:followup"), {"reference": reference, "code": code, **extra})


def _time_out(client, settings):
    session = client.session
    session["followup_seen"] -= settings.FOLLOWUP_SESSION_IDLE_MINUTES * 60 + 1
    session.save()


def kept_field(html: str) -> str:
    tag = re.search(r'<input type="hidden" name="kept_message"[^>]*>', html).group(0)
    return html_lib.unescape(re.search(r'value="([^"]*)"', tag, re.S).group(1))


@pytest.mark.django_db
def test_a_message_typed_after_the_visit_timed_out_is_kept_and_added(
    client, file_complaint, unit, settings
):
    reference, code = receipt_from(file_complaint(unit))
    _open(client, reference, code)
    _time_out(client, settings)
    response = client.post(reverse("intake:followup_case"), {"body": LATE})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'action="/follow-up/"' in page and 'name="code"' in page
    assert kept_field(page) == LATE
    assert "We kept the message you wrote." in page
    # Kept in the form only: not stored, not in the session, not in a URL.
    assert Message.objects.count() == 0
    assert "came back today" not in all_rows_as_text()
    assert not response.has_header("Location")

    added = _open(client, reference, code, kept_message=kept_field(page))
    assert added.status_code == 302 and added["Location"] == reverse("intake:followup_case")
    case = Case.objects.get()
    assert Message.objects.filter(case=case, author_kind=Message.Author.REPORTER).count() == 1
    case_page = client.get(reverse("intake:followup_case")).content.decode()
    assert "We added your message to your complaint." in html_lib.unescape(case_page)
    assert "He came back today and shouted at me." in html_lib.unescape(case_page)


@pytest.mark.django_db
def test_a_wrong_code_keeps_the_kept_message(client, file_complaint, unit):
    reference, code = receipt_from(file_complaint(unit))
    # No visit at all (a new browser, or after Exit): the same.
    page = client.post(reverse("intake:followup_case"), {"body": LATE}).content.decode()
    wrong = _open(client, reference, "000000000000", kept_message=kept_field(page))
    assert wrong.status_code == 400
    assert kept_field(wrong.content.decode()) == LATE
    assert Message.objects.count() == 0
    assert _open(client, reference, code, kept_message=LATE).status_code == 302
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_an_empty_post_after_the_visit_ended_just_asks_for_the_code(client, unit):
    response = client.post(reverse("intake:followup_case"), {"body": "  "})
    assert response.status_code == 302 and response["Location"] == reverse("intake:followup")


@pytest.mark.django_db
def test_a_kept_message_that_cannot_be_added_comes_back_in_the_box(client, file_complaint, unit):
    reference, code = receipt_from(file_complaint(unit))
    too_long = "x" * 5001
    response = _open(client, reference, code, kept_message=too_long)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Please keep it under 5000 characters" in page
    assert too_long in page  # in the message box, to shorten and send
    assert Message.objects.count() == 0
    # The visit has begun: the case page opens.
    assert client.get(reverse("intake:followup_case")).status_code == 200


@pytest.mark.django_db
def test_the_kept_message_never_enters_the_session(client, file_complaint, unit, settings):
    reference, code = receipt_from(file_complaint(unit))
    _open(client, reference, code)
    _time_out(client, settings)
    client.post(reverse("intake:followup_case"), {"body": LATE})
    for session in Session.objects.all():
        assert "came back" not in json.dumps(session.get_decoded())


@pytest.mark.django_db
def test_a_kept_message_for_a_finished_case_is_shown_to_copy(client, file_complaint, unit):
    reference, code = receipt_from(file_complaint(unit))
    Case.objects.update(status=Case.Status.CLOSED)
    response = _open(client, reference, code, kept_message=LATE)
    page = html_lib.unescape(response.content.decode())
    assert response.status_code == 400
    assert "This complaint is finished" in page
    assert LATE in page and 'id="kept-text"' in page
    assert Message.objects.count() == 0


def test_the_state_after_a_submission():
    check = human_check.human_check_new()
    answer = question_answer(check.question)
    passed = human_check.human_check_state(token=check.token, answer=answer)
    assert passed.passed and passed.token == check.token and passed.message == ""
    unanswered = human_check.human_check_state(token=check.token, answer=" ")
    assert not unanswered.passed and not unanswered.wrong_answer
    assert unanswered.token != check.token and "What is" in unanswered.question
    wrong = human_check.human_check_state(token=check.token, answer=str(int(answer) + 1))
    assert wrong.wrong_answer and "not right" in wrong.message
