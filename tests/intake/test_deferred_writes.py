"""config.rows.deferred_writes: an inbound text's conversation INSERT or UPDATE waits
to go out with its InboundSms INSERT and, on PostgreSQL, the COMMIT, in one round
trip. What must not change: whatever runs in between sees the write (and a new row
has its pk by then), nothing deferred is ever left unwritten, a failure rolls all of
it back, and a row this transaction did not lock or insert is written at once."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from psycopg import pq

from config.rows import deferred_writes, row_insert, row_save
from intake.models import InboundMedia, InboundSms, SmsConversation, SmsReporter
from tests.conftest import protocol_messages, round_trips
from vault import server_sealed

PHONE = "+221770000001"


def a_conversation(unit) -> tuple[SmsReporter, SmsConversation]:
    reporter = SmsReporter.wrote_in(PHONE, to_number="", language="en", since=timezone.now())[0]
    conversation = SmsConversation(
        reporter=reporter, step=SmsConversation.Step.NARRATIVE, unit=unit
    )
    server_sealed.seal(conversation, "draft", "the guard took my phone")
    row_insert(conversation)
    return reporter, conversation


def locked(conversation, deferred) -> SmsConversation:
    """The conversation read FOR UPDATE, as a text reads it, and said so."""
    mine = SmsConversation.objects.select_for_update().get(pk=conversation.pk)
    deferred.row_locked(mine)
    return mine


def told(conversation, text: str) -> None:
    conversation.append_draft(text)
    conversation.updated_at = timezone.now()
    row_save(conversation)


def verbs(queries) -> list[str]:
    """The first word of each statement, without the test's own savepoints."""
    return [
        q["sql"].split()[0]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]


@pytest.mark.django_db
def test_a_read_after_a_deferred_update_sees_it(unit):
    _, conversation = a_conversation(unit)
    with transaction.atomic(), deferred_writes() as deferred:
        mine = locked(conversation, deferred)
        with CaptureQueriesContext(connection) as queries:
            told(mine, "and laughed")
        assert queries.captured_queries == []  # deferred: nothing sent yet
        with CaptureQueriesContext(connection) as queries:
            again = SmsConversation.objects.get(pk=conversation.pk)
        assert verbs(queries) == ["UPDATE", "SELECT"]
        assert again.read_draft() == "the guard took my phone\nand laughed"


@pytest.mark.django_db
def test_an_update_deferred_twice_is_written_once_with_its_last_values(unit):
    reporter, conversation = a_conversation(unit)
    with transaction.atomic(), deferred_writes() as deferred:
        mine = locked(conversation, deferred)
        told(mine, "and laughed")
        told(mine, "then left")
        mine.category = "not written: changed after the last save"
        with CaptureQueriesContext(connection) as queries:
            deferred.finish(InboundSms(message_sid="SM1", reporter=reporter))
        assert verbs(queries) == ["UPDATE", "INSERT"]
    stored = SmsConversation.objects.get(pk=conversation.pk)
    assert stored.read_draft() == "the guard took my phone\nand laughed\nthen left"
    assert stored.category == ""
    assert InboundSms.objects.filter(message_sid="SM1", reporter=reporter).exists()


@pytest.mark.django_db
def test_an_update_still_deferred_when_the_block_ends_is_written(unit):
    _, conversation = a_conversation(unit)
    with transaction.atomic(), deferred_writes() as deferred:
        mine = locked(conversation, deferred)
        told(mine, "and laughed")
    assert SmsConversation.objects.get(pk=conversation.pk).read_draft().endswith("and laughed")


@pytest.mark.django_db
def test_a_row_the_transaction_did_not_lock_is_written_at_once(unit):
    _, conversation = a_conversation(unit)
    with transaction.atomic(), deferred_writes():
        unlocked = SmsConversation.objects.get(pk=conversation.pk)
        with CaptureQueriesContext(connection) as queries:
            told(unlocked, "and laughed")
        assert verbs(queries) == ["UPDATE"]


@pytest.mark.django_db
def test_a_row_inserted_in_the_block_has_its_updates_deferred(unit):
    reporter, _ = a_conversation(unit)
    with transaction.atomic(), deferred_writes():
        new = SmsConversation(reporter=reporter, step=SmsConversation.Step.NARRATIVE, unit=unit)
        server_sealed.seal(new, "draft", "first")
        row_insert(new)
        with CaptureQueriesContext(connection) as queries:
            told(new, "second")
        assert queries.captured_queries == []
    assert SmsConversation.objects.get(pk=new.pk).read_draft() == "first\nsecond"


def new_conversation(reporter, unit) -> SmsConversation:
    new = SmsConversation(reporter=reporter, step=SmsConversation.Step.NARRATIVE, unit=unit)
    server_sealed.seal(new, "draft", "they locked me in")
    new.updated_at = timezone.now()
    return new


@pytest.mark.django_db
def test_a_new_rows_insert_waits_for_the_next_statement_which_sees_it(unit):
    reporter, _ = a_conversation(unit)
    with transaction.atomic(), deferred_writes():
        new = new_conversation(reporter, unit)
        with CaptureQueriesContext(connection) as queries:
            row_save(new)
        assert queries.captured_queries == [] and new.pk is None
        with CaptureQueriesContext(connection) as queries:
            found = SmsConversation.objects.filter(reporter=reporter).order_by("-pk").first()
        assert verbs(queries) == ["INSERT", "SELECT"]
        assert new.pk is not None and found.pk == new.pk  # the pk came with the INSERT
        assert found.read_draft() == "they locked me in"
        with CaptureQueriesContext(connection) as queries:
            told(new, "all night")  # now a row this transaction inserted: deferred
        assert queries.captured_queries == []
    assert SmsConversation.objects.get(pk=new.pk).read_draft() == "they locked me in\nall night"


@pytest.mark.django_db
def test_a_new_row_saved_twice_is_inserted_once_with_its_last_values(unit):
    reporter, _ = a_conversation(unit)
    with transaction.atomic(), deferred_writes() as deferred:
        new = new_conversation(reporter, unit)
        row_save(new)
        new.category = "rough"
        row_save(new)
        with CaptureQueriesContext(connection) as queries:
            deferred.finish(InboundSms(message_sid="SM1", reporter=reporter))
        assert verbs(queries) == ["INSERT", "INSERT"]
    assert SmsConversation.objects.get(pk=new.pk).category == "rough"
    assert SmsConversation.objects.filter(reporter=reporter).count() == 2


@pytest.mark.django_db
def test_a_row_refering_to_a_new_row_not_yet_inserted_is_refused_not_written_null(unit):
    """Django refuses to save a row whose foreign key points at a row with no pk: a
    deferred INSERT cannot turn into a NULL."""
    reporter, _ = a_conversation(unit)
    with transaction.atomic(), deferred_writes():
        new = new_conversation(reporter, unit)
        row_save(new)
        with pytest.raises(ValueError, match="unsaved related object"):
            InboundMedia.objects.create(
                reporter=reporter, conversation=new, message_sid="SM1", media_sid="ME1"
            )


@pytest.mark.django_db(transaction=True)
def test_a_failed_insert_rolls_the_deferred_update_back(unit):
    """A second delivery of the same MessageSid fails at finish(), where its UPDATE
    went out too: on PostgreSQL in the same round trip as the COMMIT, which does not
    happen; the text is as if never received."""
    reporter, conversation = a_conversation(unit)
    InboundSms.objects.create(message_sid="SM1", reporter=reporter)
    with pytest.raises(IntegrityError):
        with transaction.atomic(), deferred_writes() as deferred:
            mine = locked(conversation, deferred)
            told(mine, "and laughed")
            deferred.finish(InboundSms(message_sid="SM1", reporter=reporter))
    assert SmsConversation.objects.get(pk=conversation.pk).read_draft() == "the guard took my phone"
    assert InboundSms.objects.count() == 1
    assert not connection.in_atomic_block and connection.is_usable()


def parsed(messages) -> list[str]:
    """The first word of each statement the client sent."""
    return [rest.split('"')[3].split()[0] for side, kind, rest in messages if kind == "Parse"]


@pytest.mark.django_db(transaction=True)
def test_the_last_writes_and_the_commit_are_one_round_trip(unit):
    if connection.vendor != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's; SQLite has no round trips to save")
    reporter, conversation = a_conversation(unit)
    with transaction.atomic(), deferred_writes() as deferred:
        mine = locked(conversation, deferred)
        told(mine, "and laughed")
        inbound = InboundSms(message_sid="SM1", reporter=reporter)
        raw = connection.connection
        messages = protocol_messages(raw, lambda: deferred.finish(inbound))
        # Committed already: no transaction is open on the connection.
        assert raw.info.transaction_status == pq.TransactionStatus.IDLE
    assert parsed(messages) == ["UPDATE", "INSERT", "COMMIT"]
    # One round trip: all of it sent before the server's first answer; its last
    # answer says no transaction is open.
    assert round_trips(messages) == 1
    assert messages[-1][1:] == ("ReadyForQuery", " I")
    assert inbound.pk == InboundSms.objects.get(message_sid="SM1").pk
    assert SmsConversation.objects.get(pk=conversation.pk).read_draft().endswith("and laughed")


@pytest.mark.django_db(transaction=True)
def test_a_text_and_its_retry_on_the_real_transaction(sms, unit):
    """The webhook's own transaction (no test transaction around it): the second
    delivery of a MessageSid gets the first's reply and adds nothing."""
    sms("TST1 the guard took my phone")
    first = sms("and laughed", sid="SMretry")
    assert sms("and laughed", sid="SMretry") == first
    going_on = SmsConversation.objects.get()
    assert going_on.read_draft() == "the guard took my phone\nand laughed"
    assert InboundSms.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_new_rows_insert_goes_with_the_last_and_the_commit(unit):
    if connection.vendor != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's; SQLite has no round trips to save")
    reporter, _ = a_conversation(unit)
    with transaction.atomic(), deferred_writes() as deferred:
        SmsReporter.objects.select_for_update().get(pk=reporter.pk)  # the transaction begins
        new = new_conversation(reporter, unit)
        row_save(new)
        inbound = InboundSms(message_sid="SM1", reporter=reporter)
        messages = protocol_messages(connection.connection, lambda: deferred.finish(inbound))
    assert parsed(messages) == ["INSERT", "INSERT", "COMMIT"] and round_trips(messages) == 1
    assert new.pk and inbound.pk
    assert SmsConversation.objects.get(pk=new.pk).read_draft() == "they locked me in"


@pytest.mark.django_db(transaction=True)
def test_a_row_inserted_in_a_savepoint_that_rolled_back_is_written_again_not_lost(unit):
    """Nothing is deferred inside a nested block, and a row inserted there is written
    at once when saved again: its savepoint may roll it back while the text goes on,
    and a deferred UPDATE would then meet no row after the COMMIT went with it."""
    reporter, _ = a_conversation(unit)
    with transaction.atomic(), deferred_writes() as deferred:
        new = new_conversation(reporter, unit)
        with pytest.raises(RuntimeError), transaction.atomic():
            row_save(new)
            assert SmsConversation.objects.filter(pk=new.pk).exists()  # inserted at once
            raise RuntimeError("the nested block fails")
        assert new.pk and not SmsConversation.objects.filter(pk=new.pk).exists()
        told(new, "all night")  # its row is gone: written again, now
        deferred.finish(InboundSms(message_sid="SM1", reporter=reporter))
    assert SmsConversation.objects.get(pk=new.pk).read_draft() == "they locked me in\nall night"
    assert InboundSms.objects.filter(message_sid="SM1").exists()


@pytest.mark.django_db(transaction=True)
def test_a_transaction_its_caller_opened_is_left_to_the_caller(unit):
    """With autocommit turned off by the caller, the block is a savepoint in the
    caller's transaction: finish() sends no COMMIT, and the caller's rollback undoes
    the text's writes with its own."""
    reporter, conversation = a_conversation(unit)
    transaction.set_autocommit(False)
    try:
        InboundSms.objects.create(message_sid="SM0", reporter=reporter)  # the caller's
        with transaction.atomic(), deferred_writes() as deferred:
            mine = locked(conversation, deferred)
            told(mine, "and laughed")
            deferred.finish(InboundSms(message_sid="SM1", reporter=reporter))
        transaction.rollback()
    finally:
        transaction.set_autocommit(True)
    assert not InboundSms.objects.exists()
    assert SmsConversation.objects.get(pk=conversation.pk).read_draft() == "the guard took my phone"
