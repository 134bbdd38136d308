"""Issue 13 §5: the grants a sign-in makes are found by one ordered, paged query, so a
person holding many cases signs in with a number of queries that grows per page of
grants, never per case, and no case is left ungranted by a cap."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints.services import complaint_receive
from policies.models import Membership
from tests.conftest import PASSWORD, make_staff
from vault import crypto
from vault.keys import grants_fulfil, reader_approve, staff_key_create
from vault.models import CaseKey, StaffKey


def receive(unit, count: int) -> list:
    return [
        complaint_receive(
            unit=unit,
            channel="web",
            language="en",
            narrative="A story.",
            category="neglect",
            in_danger=False,
            about_staff_answer="no",
            contact_preference="none",
        ).case
        for _ in range(count)
    ]


def private_key_of(user) -> bytes:
    return crypto.unwrap_private_key(StaffKey.objects.get(user=user).wrapped_private_key, PASSWORD)


def copies_of(user) -> set:
    return set(
        CaseKey.objects.filter(holder_kind="user", holder_id=str(user.pk)).values_list(
            "case_id", flat=True
        )
    )


def waiting_reader(django_user_model, unit, username: str):
    """A focal point from before the cases were filed, whose key pair came later: every
    case waits for a grant to them."""
    return make_staff(
        django_user_model, username, unit, Membership.Role.FOCAL_POINT, with_key=False
    )


def sign_in_queries(granter, **kwargs) -> tuple[int, int]:
    private = private_key_of(granter)
    with CaptureQueriesContext(connection) as queries:
        granted = grants_fulfil(granter=granter, private_key=private, **kwargs)
    return granted, len(queries)


@pytest.mark.django_db
def test_the_queries_of_a_sign_in_do_not_grow_with_the_cases_held(
    unit, focal_point, django_user_model
):
    few_reader, many_reader, late_reader = (
        waiting_reader(django_user_model, unit, name) for name in ("few", "many", "late")
    )
    few = receive(unit, 5)
    staff_key_create(user=few_reader, password=PASSWORD)
    granted_few, queries_few = sign_in_queries(focal_point)
    assert granted_few == 5 and copies_of(few_reader) == {c.id for c in few}

    many = receive(unit, 50)
    staff_key_create(user=many_reader, password=PASSWORD)
    granted_many, queries_many = sign_in_queries(focal_point)
    assert granted_many == 55 and copies_of(many_reader) == {c.id for c in few + many}
    assert queries_many == queries_few

    # Paged: the work grows per page of grants (read a page, its cases' epochs, write it),
    # not per case.
    staff_key_create(user=late_reader, password=PASSWORD)
    granted, queries = sign_in_queries(focal_point, page_size=10)
    assert granted == 55 and copies_of(late_reader) == {c.id for c in few + many}
    assert queries == queries_few + 3 * (6 - 1)


@pytest.mark.django_db
def test_more_cases_than_one_page_are_all_granted(unit, focal_point, django_user_model):
    first = waiting_reader(django_user_model, unit, "first")
    second = waiting_reader(django_user_model, unit, "second")
    cases = receive(unit, 23)
    for reader in (first, second):
        staff_key_create(user=reader, password=PASSWORD)
    # 46 pairs in pages of 5, a page ending between the two readers of a case.
    granted, _queries = sign_in_queries(focal_point, page_size=5)
    assert granted == 46
    assert copies_of(first) == copies_of(second) == {c.id for c in cases}
    # Each copy opens with its reader's own key.
    case = cases[-1]
    envelope = CaseKey.objects.get(case=case, holder_kind="user", holder_id=str(second.pk))
    data_key = crypto.unwrap_data_key_with_private(
        envelope.wrapped_key, private_key_of(second), case_id=case.id, holder=f"user:{second.pk}"
    )
    assert (
        crypto.decrypt_text(
            data_key, case.narrative, context=crypto.field_context("case", case.id, "narrative")
        )
        == "A story."
    )
    # Nothing is left: a second sign-in grants nothing.
    assert sign_in_queries(focal_point, page_size=5)[0] == 0


@pytest.mark.django_db
def test_a_newcomer_gets_nothing_until_approved_then_every_past_case(
    unit, focal_point, manager, django_user_model
):
    cases = receive(unit, 7)
    newcomer = make_staff(django_user_model, "newcomer", unit, Membership.Role.FOCAL_POINT)
    assert sign_in_queries(focal_point, page_size=3)[0] == 0
    assert copies_of(newcomer) == set()
    reader_approve(unit=unit, reader=newcomer, approver=manager)
    assert sign_in_queries(focal_point, page_size=3)[0] == 7
    assert copies_of(newcomer) == {c.id for c in cases}
