"""Issue 12 (B): on a shared phone or browser, what the child typed does not come back,
Exit ends the follow-up visit, and the child is told plainly how to stay safe."""

import html as html_lib
import re

import pytest
from django.urls import reverse

from tests.conftest import receipt_from
from vault import session_keys

EXIT_URL = "https://www.bbc.co.uk/weather"


def _open_followup(client, unit, file_complaint):
    reference, code = receipt_from(file_complaint(unit))
    response = client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    assert response.status_code == 302
    assert client.get(reverse("intake:followup_case")).status_code == 200
    return reference, code


def _tag(html: str, pattern: str) -> str:
    return re.search(pattern, html).group(0)


@pytest.mark.django_db
def test_story_and_contact_fields_are_not_kept_by_the_browser(client, unit):
    html = client.get(f"/u/{unit.code}/").content.decode()
    assert 'autocomplete="off"' in _tag(html, r'<form method="post"[^>]*>')
    assert 'autocomplete="off"' in _tag(html, r'<textarea name="narrative"[^>]*>')
    assert 'autocomplete="off"' in _tag(html, r'<input type="text" name="contact_detail"[^>]*>')


@pytest.mark.django_db
def test_followup_message_field_is_not_kept_by_the_browser(client, unit, file_complaint):
    _open_followup(client, unit, file_complaint)
    html = client.get(reverse("intake:followup_case")).content.decode()
    form = _tag(html, r'<form method="post" action="/follow-up/case/"[^>]*>')
    assert 'autocomplete="off"' in form
    assert 'autocomplete="off"' in _tag(html, r'<textarea name="body"[^>]*>')


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/u/TST1/", "/follow-up/", "/safety/"])
def test_exit_link_goes_through_our_exit_step(client, unit, path):
    html = client.get(path).content.decode()
    assert (
        _tag(html, r'<a href="[^"]*" class="exit-this-page"')
        == '<a href="/exit/" class="exit-this-page"'
    )


@pytest.mark.django_db
def test_exit_leaves_for_the_neutral_site(client, unit):
    response = client.get(reverse("intake:exit"))
    assert response.status_code == 302
    assert response["Location"] == EXIT_URL
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    # Twice is the same as once, and needs no session or CSRF token.
    assert client.get(reverse("intake:exit"))["Location"] == EXIT_URL


@pytest.mark.django_db
def test_exit_ends_the_followup_visit_and_drops_the_key_cookie(client, unit, file_complaint):
    _open_followup(client, unit, file_complaint)
    assert client.cookies[session_keys.REPORTER.cookie].value
    session_key = client.cookies["sessionid"].value
    response = client.get(reverse("intake:exit"))
    assert response.status_code == 302
    key_cookie = response.cookies[session_keys.REPORTER.cookie]
    assert key_cookie.value == "" and key_cookie["max-age"] == 0
    # A cookie always changes at Exit, so Chromium does not bring our pages back from
    # its back-forward cache (the CSRF cookie: every reporter page sets it).
    assert response.cookies["csrftoken"].value == ""
    # The server-side half is gone too: the old session no longer exists.
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=session_key).exists()
    after = client.get(reverse("intake:followup_case"))
    assert after.status_code == 302 and after["Location"] == reverse("intake:followup")


@pytest.mark.django_db
def test_safety_page_is_linked_from_every_reporter_page(client, unit, file_complaint):
    pages = [client.get(path).content.decode() for path in ("/", f"/u/{unit.code}/", "/follow-up/")]
    pages.append(file_complaint(unit).content.decode())
    _open_followup(client, unit, file_complaint)
    pages.append(client.get(reverse("intake:followup_case")).content.decode())
    for html in pages:
        footer = html[html.index('<footer class="site-footer">') :]
        assert 'href="/safety/"' in footer
        assert "Staying safe on a shared phone" in footer


@pytest.mark.django_db
def test_footer_promises_only_what_is_true(client, unit):
    html = html_lib.unescape(client.get("/").content.decode())
    assert "does not show your complaint to anyone" not in html
    assert "Someone who uses this phone after you can see which pages you opened." in html
    assert "press Exit and clear the history" in html


@pytest.mark.django_db
def test_safety_page_says_how_to_stay_safe(client):
    response = client.get(reverse("intake:safety"))
    html = html_lib.unescape(response.content.decode())
    assert response.status_code == 200
    assert "<h1>Staying safe on a shared phone</h1>" in html
    for words in (
        "Exit this page",
        "Shift key 3 times",
        "Android",
        "iPhone",
        "history",
        "Delete our texts after you read them",
        "Do not contact me",
        "check this website yourself",
    ):
        assert words in html, words


@pytest.mark.django_db
def test_safety_page_is_in_short_sentences(client):
    html = client.get(reverse("intake:safety")).content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    sentences = []
    for block in re.split(r"</?(?:h1|h2|p|li|ul)\b[^>]*>", main):  # a heading ends a sentence
        text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", block)).split())
        sentences += [s for s in re.split(r"(?<=[.?!:])\s+", text) if s]
    assert len(sentences) > 15
    too_long = [s for s in sentences if len(s.split()) > 16]
    assert not too_long, too_long


@pytest.mark.django_db
def test_confirmation_says_keep_it_somewhere_only_you_can_find(file_complaint, unit):
    html = html_lib.unescape(file_complaint(unit).content.decode())
    assert "Write it somewhere only you can find." in html
    assert "photo" not in html.lower()
