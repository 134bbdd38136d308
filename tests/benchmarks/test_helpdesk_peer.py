"""The bench's peer, django-helpdesk (bench/helpdesk_peer.py), without installing it:
its requirements pin exactly (and the same Django as Recourse), its virtual environment
is remade when they change, the submissions wrk replays are forms Django reads as a
browser's, and the table divides by the peer only when it ran."""

import io
import re
import tomllib
from pathlib import Path

import pytest
from django.http.multipartparser import MultiPartParser

from bench import helpdesk_peer
from bench.run import PEER_SCENARIO, Measured, Scenario, check, peer_ratio, stored

ROOT = Path(__file__).resolve().parents[2]

# What helpdesk 2.6.1 renders on /tickets/submit/ (trimmed): the token and its queues.
FORM = """
<form role="form" method='post' enctype='multipart/form-data'>
<input type="hidden" name="csrfmiddlewaretoken" value="tok3n">
<select name="queue" class="form-select" required id="id_queue">
  <option value="" selected>--------</option>
  <option value="7">Complaints</option>
</select>
<select name="priority" class="form-select" id="id_priority">
  <option value="1">1. Critical</option>
  <option value="3" selected>3. Normal</option>
</select>
</form>
"""


def test_every_requirement_is_pinned_exactly_and_django_is_recourses():
    lines = [
        line.strip()
        for line in helpdesk_peer.REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.-]+(\[[^]]*\])?==\S+", line) for line in lines)
    assert helpdesk_peer.pinned("django-helpdesk") == "2.6.1"
    assert helpdesk_peer.PEER_VERSION == "django-helpdesk 2.6.1"
    recourse = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for package in ("Django", "gunicorn"):
        assert f"{package}=={helpdesk_peer.pinned(package)}" in recourse


def test_a_package_left_unpinned_is_refused(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("django-helpdesk>=2.6\nDjango==5.2.19\n")
    assert helpdesk_peer.pinned("django", requirements) == "5.2.19"
    with pytest.raises(SystemExit, match="pins no exact django-helpdesk"):
        helpdesk_peer.pinned("django-helpdesk", requirements)


def test_the_venv_is_stale_until_installed_from_these_pins_and_again_when_they_change(
    tmp_path,
):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("django-helpdesk==2.6.1\n")
    venv = tmp_path / "venv"
    assert helpdesk_peer.venv_stale(venv, requirements)  # missing

    helpdesk_peer.venv_python(venv).parent.mkdir(parents=True)
    helpdesk_peer.venv_python(venv).touch()
    assert helpdesk_peer.venv_stale(venv, requirements)  # an install that never finished

    helpdesk_peer.stamp(venv).write_text(helpdesk_peer.requirements_digest(requirements) + "\n")
    assert not helpdesk_peer.venv_stale(venv, requirements)

    requirements.write_text("django-helpdesk==2.6.2\n")
    assert helpdesk_peer.venv_stale(venv, requirements)


def test_the_public_form_gives_its_token_and_its_one_public_queue():
    assert helpdesk_peer.public_form(FORM) == ("tok3n", 7)
    with pytest.raises(SystemExit):
        helpdesk_peer.public_form(FORM.replace('<option value="7">Complaints</option>', ""))
    with pytest.raises(SystemExit):
        helpdesk_peer.public_form(FORM.replace('name="csrfmiddlewaretoken"', 'name="other"'))


def parse(raw: bytes):
    """Split a pre-built request and read its body with Django's own multipart parser."""
    head, body = raw.split(b"\r\n\r\n", 1)
    request_line, *header_lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    assert int(headers["Content-Length"]) == len(body)
    meta = {"CONTENT_TYPE": headers["Content-Type"], "CONTENT_LENGTH": str(len(body))}
    post, files = MultiPartParser(meta, io.BytesIO(body), []).parse()
    return request_line, headers, post, files


def test_each_submission_is_a_browsers_form_post_with_the_csrf_cookie_and_token():
    requests = helpdesk_peer.ticket_requests(
        7, "tok3n", "csrftoken=c00kie", ["he pushed me", "they kept me"], 3
    )
    assert len(requests) == 3
    parsed = [parse(raw) for raw in requests]
    for i, (request_line, headers, post, files) in enumerate(parsed):
        assert request_line == "POST /tickets/submit/ HTTP/1.1"
        assert headers["Cookie"] == "csrftoken=c00kie"
        # gunicorn trusts X-Forwarded-Proto from loopback, so Django checks the Referer.
        assert headers["X-Forwarded-Proto"] == "https"
        assert headers["Referer"].startswith("https://127.0.0.1:")
        assert post["csrfmiddlewaretoken"] == "tok3n"
        assert post["queue"] == "7" and post["priority"] == "3"
        assert post["title"] and post["submitter_email"] == f"reporter{i}@example.org"
        assert post["body"] == ["he pushed me", "they kept me"][i % 2]
        assert not files  # the file input is sent empty, as a browser sends it
    assert len({post["title"] for _, _, post, _ in parsed}) == 3  # each its own ticket


def measured(name: str, rate: float, peer: str | None = None, **result) -> Measured:
    scenario = Scenario(name, name, 0, list, 200, "POST", "/", peer=peer)
    return Measured(scenario, {"rate": rate, **result}, 0.0, 0.0)


def test_the_peer_ratio_divides_by_helpdesk_only_when_it_ran():
    web = measured("web_submit", 30.0, peer=PEER_SCENARIO)
    start_page = measured("start_page", 900.0)
    results = {"web_submit": web, "start_page": start_page}
    assert peer_ratio(results, web) == ""  # BENCH_ONLY left the peer out

    results[PEER_SCENARIO] = measured(PEER_SCENARIO, 20.0)
    assert peer_ratio(results, web) == "1.50x"
    assert peer_ratio(results, start_page) == ""
    assert peer_ratio(results, results[PEER_SCENARIO]) == ""


def test_helpdesk_tickets_stored_are_checked_against_its_accepted_responses():
    assert stored(PEER_SCENARIO, {"tickets": 4}, {"tickets": 104}) == 100
    peer = measured(
        PEER_SCENARIO,
        10.0,
        statuses={"200": 100},
        served=100,
        stored=99,
        wrapped=0,
        errors=0,
    )
    assert check({PEER_SCENARIO: peer}) == [f"{PEER_SCENARIO}: 100 accepted but 99 stored"]
