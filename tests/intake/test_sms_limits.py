"""Issue 13, section 6: what the Twilio webhook sends back and how much it takes."""

import uuid

import pytest

from complaints.models import Case
from intake.models import InboundSms, SmsReporter
from tests.conftest import staff_reads

INBOUND = "/sms/twilio/inbound/"


def params(body="hello", phone="+221770000001", to="+15005550000"):
    return {"MessageSid": f"SM{uuid.uuid4().hex}", "From": phone, "To": to, "Body": body}


@pytest.mark.django_db
def test_twiml_says_it_is_utf8(twilio_post, unit):
    response = twilio_post(INBOUND, params("TST1 l'éducateur m'a frappé"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["From", "To"])
def test_a_number_longer_than_64_characters_is_refused_and_nothing_stored(twilio_post, unit, field):
    too_long = params("TST1 they hit me")
    too_long[field] = "whatsapp:+" + "1" * 60
    response = twilio_post(INBOUND, too_long)
    assert response.status_code == 400
    assert not InboundSms.objects.exists() and not SmsReporter.objects.exists()


@pytest.mark.django_db
def test_a_whatsapp_number_is_accepted(twilio_post, unit):
    response = twilio_post(
        INBOUND,
        params("TST1 they hit me", phone="whatsapp:+221770000001", to="whatsapp:+15005550000"),
    )
    assert response.status_code == 200


# Every case here has a focal point to read it with their own key (no server copy).
pytestmark = pytest.mark.usefixtures("focal_point")


def story_texts(count=75):
    """About 120 KB in texts of Twilio's largest body, 1,600 characters."""
    return [f"part{i:03d} " + "they kept shouting at me every night " * 43 for i in range(count)]


def whole_story(case) -> str:
    content = staff_reads(case)
    return "".join([content.narrative, *(m.body for m in content.messages)])


def assert_all_kept(case, texts):
    story = whole_story(case)
    for text in texts:  # each text whole, in order (a cut between messages joins again)
        assert text.replace(" ", "") in story.replace("\n", "").replace(" ", "")
    assert [story.index(t[:8]) for t in texts] == sorted(story.index(t[:8]) for t in texts)


@pytest.mark.django_db
def test_a_120_kb_story_is_filed_whole_with_a_note(sms, unit):
    texts = story_texts()
    sms("TST1")
    sms("1")
    for text in texts:
        assert "DONE" in sms(text)
    sms("DONE")
    sms("2")
    filed = sms("2")
    case = Case.objects.get()
    assert case.display_reference in filed
    assert filed.endswith("Your story was long: we kept all of it.")
    assert_all_kept(case, texts)


@pytest.mark.django_db
def test_a_short_story_gets_no_note(sms, unit):
    for text in ("TST1 they hit me", "DONE", "2"):
        sms(text)
    assert "long" not in sms("2")


@pytest.mark.django_db
def test_a_120_kb_story_for_one_of_two_open_cases_is_added_to_it_whole(sms, unit):
    """Many texts before choosing which case they are about: they all go to the case
    chosen, not to a new complaint."""
    for n in range(2):
        for text in (f"TST1 story {n}", "DONE", "2", "2"):
            sms(text)
    texts = story_texts()
    for text in texts:
        sms(text)
    reply = sms("1")
    assert reply.startswith("Added to your complaint") and "we kept all of it" in reply
    assert Case.objects.count() == 2
    chosen = next(c for c in Case.objects.all() if c.display_reference in reply)
    assert_all_kept(chosen, texts)
