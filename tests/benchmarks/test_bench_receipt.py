"""The bench files real complaints and keeps their reference and follow-up code for the
lookup scenario: it must read them from the confirmation page as it is rendered (in its
left-to-right island since Arabic came), or `make bench` stops before measuring."""

from bench.run import receipt
from tests.conftest import receipt_from


def test_the_bench_reads_the_reference_and_code_a_child_is_shown(file_complaint, unit):
    response = file_complaint(unit)
    assert response.status_code == 200
    reference, code = receipt(response.content.decode())
    assert reference and code
    assert (reference, code) == receipt_from(response)


def test_arabic_confirmation_page_too(file_complaint, unit):
    response = file_complaint(unit, language="ar")
    assert receipt(response.content.decode()) == receipt_from(response)
