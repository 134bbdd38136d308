"""A reply with nothing of anyone's in it ("Got it. Send more, or DONE when you have
finished.") is rendered once per process and reused (notifications.sms.render_sms):
the same text in each language and channel, and nothing a child wrote or was given
(a reference, a code) is ever kept in that cache."""

import pytest

from notifications import sms
from notifications.sms import render_sms, whatsapp_replies


@pytest.fixture(autouse=True)
def empty_cache():
    sms._render_fixed.cache_clear()
    yield
    sms._render_fixed.cache_clear()


def test_a_fixed_reply_is_rendered_once_and_is_the_same_each_time():
    first = render_sms("narrative_received", "en", offer_language=False)
    assert first == "Got it. Send more, or DONE when you have finished."
    assert render_sms("narrative_received", "en", offer_language=False) == first
    info = sms._render_fixed.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_empty_lists_are_nothing_of_anyones_too():
    """A first text that named its place, from a number whose language is known: no
    language menu, no emergency numbers."""
    text = render_sms(
        "narrative_received", "en", offer_language=False, languages=[], emergency_contacts=[]
    )
    assert text == "Got it. Send more, or DONE when you have finished."
    assert sms._render_fixed.cache_info().currsize == 1
    contacts = [{"number": "116111", "label": "Child helpline"}]
    with_numbers = render_sms(
        "narrative_received", "en", offer_language=True, languages=[], emergency_contacts=contacts
    )
    assert "116111" in with_numbers and sms._render_fixed.cache_info().currsize == 1


def test_each_language_and_channel_has_its_own_text():
    french = render_sms("narrative_received", "fr", offer_language=False)
    spanish = render_sms("narrative_received", "es", offer_language=False)
    assert len({french, spanish, render_sms("narrative_received", "en")}) == 3
    with whatsapp_replies():
        on_whatsapp = render_sms("narrative_received", "fr", offer_language=False)
    # An SMS is written in the GSM alphabet (no accents); WhatsApp keeps them.
    assert on_whatsapp != french and on_whatsapp.encode("ascii", "ignore") != on_whatsapp.encode()
    assert render_sms("narrative_received", "fr", offer_language=False) == french


def test_a_reply_carrying_a_reference_or_code_is_never_cached():
    render_sms("narrative_received", "en", offer_language=False)
    text = render_sms("code", "en", code="K7P2 M9Q4 X3R8")
    assert "K7P2 M9Q4 X3R8" in text
    assert sms._render_fixed.cache_info().currsize == 1
