"""Every reporter screen in plain words: measured per screen and language (run with
-s to see the table: words per screen, sentences, the longest sentence and, in
English, the Flesch-Kincaid grade)."""

import pytest
from django.urls import reverse

from intake.readability import visible_text, wording_of
from tests.conftest import complaint_data, receipt_from

LANGUAGES = ("en", "fr", "es")


def reporter_screens(client, unit, language: str) -> dict[str, str]:
    """The pages a child meets, in order, as HTML."""
    client.cookies["django_language"] = language
    screens = {
        "start": client.get("/").content.decode(),
        "unit page": client.get(f"/u/{unit.code}/").content.decode(),
    }
    filed = client.post(reverse("intake:complaint_form", args=[unit.code]), complaint_data())
    screens["confirmation"] = filed.content.decode()
    reference, code = receipt_from(filed)
    screens["follow-up"] = client.get("/follow-up/").content.decode()
    client.post("/follow-up/", {"reference": reference, "code": code})
    screens["follow-up case"] = client.get("/follow-up/case/").content.decode()
    safety = client.get("/safety/")
    if safety.status_code == 200:
        screens["safety"] = safety.content.decode()
    return screens


def _main(html: str) -> str:
    """What the page says in <main>: the header, exit bar and footer repeat on every page."""
    start, end = html.find("<main"), html.find("</main>")
    return html[start:end] if start >= 0 and end > start else html


@pytest.mark.django_db
def test_reporter_screens_are_short_and_plain(client, unit, focal_point):
    rows = []
    for language in LANGUAGES:
        for name, html in reporter_screens(client, unit, language).items():
            wording = wording_of(visible_text(_main(html)))
            rows.append((language, name, wording))
            assert wording.words > 10, (language, name)
            # A sentence a child can hold in mind; ids and numbers are not words here.
            assert wording.longest_sentence <= 24, (language, name, wording)
            if language == "en":
                assert wording.grade <= 4, (name, wording)
    print("\nlanguage  screen            words  sentences  longest  FK grade (en)")
    for language, name, w in rows:
        grade = f"{w.grade:.1f}" if language == "en" else ""
        print(
            f"{language:9} {name:17} {w.words:5}  {w.sentences:9}  {w.longest_sentence:7}  {grade}"
        )
