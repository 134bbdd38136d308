"""config.rows.deferred_updates: an inbound text's conversation UPDATE waits to go out
with its InboundSms INSERT and, on PostgreSQL, the COMMIT, in one round trip. What
must not change: whatever runs in between sees the UPDATE, nothing deferred is ever
left unwritten, a failure rolls all of it back, and a row this transaction did not
lock or insert is written at once."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from psycopg import pq

from config.rows import deferred_updates, row_insert, row_save
from intake.models import InboundSms, SmsConversation, SmsReporter
from tests.conftest import protocol_messages
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


def locked(conversation) -> SmsConversation:
    return SmsConversation.objects.select_for_update().get(pk=conversation.pk)


def told(conversation, text: str) -> None:
    conversation.append_draft(text)
    conversation.updated_at = timezone.now()
    row_save(conversation)


def statements(queries) -> list[str]:
    return [
        " ".join(q["sql"].split()[:3])
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]


@pytest.mark.django_db
def test_a_read_after_a_deferred_update_sees_it(unit):
    _, conversation = a_conversation(unit)
    with transaction.atomic(), deferred_updates() as deferred:
        mine = locked(conversation)
        deferred.row_locked(mine)
        with CaptureQueriesContext(connection) as queries:
            told(mine, "and laughed")
        assert queries.captured_queries == []  # deferred: nothing sent yet
        with CaptureQueriesContext(connection) as queries:
            again = SmsConversation.objects.get(pk=conversation.pk)
        assert [s.split()[0] for s in statements(queries)] == ["UPDATE", "SELECT"]
        assert again.read_draft() == "the guard took my phone\nand laughed"


@pytest.mark.django_db
def test_an_update_deferred_twice_is_written_once_with_its_last_values(unit):
    reporter, conversation = a_conversation(unit)
    with transaction.atomic(), deferred_updates() as deferred:
        mine = locked(conversation)
        deferred.row_locked(mine)
        told(mine, "and laughed")
        told(mine, "then left")
        mine.category = "not written: changed after the last save"
        with CaptureQueriesContext(connection) as queries:
            deferred.finish(InboundSms(message_sid="SM1", reporter=reporter))
        assert [s.split()[0] for s in statements(queries)] == ["UPDATE", "INSERT"]
    stored = SmsConversation.objects.get(pk=conversation.pk)
    assert stored.read_draft() == "the guard took my phone\nand laughed\nthen left"
    assert stored.category == ""
    assert InboundSms.objects.filter(message_sid="SM1", reporter=reporter).exists()


@pytest.mark.django_db
def test_an_update_still_deferred_when_the_block_ends_is_written(unit):
    _, conversation = a_conversation(unit)
    with transaction.atomic(), deferred_updates() as deferred:
        mine = locked(conversation)
        deferred.row_locked(mine)
        told(mine, "and laughed")
    assert SmsConversation.objects.get(pk=conversation.pk).read_draft().endswith("and laughed")


@pytest.mark.django_db
def test_a_row_the_transaction_did_not_lock_is_written_at_once(unit):
    _, conversation = a_conversation(unit)
    with transaction.atomic(), deferred_updates():
        unlocked = SmsConversation.objects.get(pk=conversation.pk)
        with CaptureQueriesContext(connection) as queries:
            told(unlocked, "and laughed")
        assert [s.split()[0] for s in statements(queries)] == ["UPDATE"]


@pytest.mark.django_db
def test_a_row_inserted_in_the_block_has_its_updates_deferred(unit):
    reporter, _ = a_conversation(unit)
    with transaction.atomic(), deferred_updates():
        new = SmsConversation(reporter=reporter, step=SmsConversation.Step.NARRATIVE, unit=unit)
        server_sealed.seal(new, "draft", "first")
        row_insert(new)
        with CaptureQueriesContext(connection) as queries:
            told(new, "second")
        assert queries.captured_queries == []
    assert SmsConversation.objects.get(pk=new.pk).read_draft() == "first\nsecond"


@pytest.mark.django_db(transaction=True)
def test_a_failed_insert_rolls_the_deferred_update_back(unit):
    """A second delivery of the same MessageSid fails at finish(), where its UPDATE
    went out too: on PostgreSQL in the same round trip as the COMMIT, which does not
    happen; the text is as if never received."""
    reporter, conversation = a_conversation(unit)
    InboundSms.objects.create(message_sid="SM1", reporter=reporter)
    with pytest.raises(IntegrityError):
        with transaction.atomic(), deferred_updates() as deferred:
            mine = locked(conversation)
            deferred.row_locked(mine)
            told(mine, "and laughed")
            deferred.finish(InboundSms(message_sid="SM1", reporter=reporter))
    assert SmsConversation.objects.get(pk=conversation.pk).read_draft() == "the guard took my phone"
    assert InboundSms.objects.count() == 1
    assert not connection.in_atomic_block and connection.is_usable()


@pytest.mark.django_db(transaction=True)
def test_the_last_writes_and_the_commit_are_one_round_trip(unit):
    if connection.vendor != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's; SQLite has no round trips to save")
    reporter, conversation = a_conversation(unit)
    with transaction.atomic(), deferred_updates() as deferred:
        mine = locked(conversation)
        deferred.row_locked(mine)
        told(mine, "and laughed")
        inbound = InboundSms(message_sid="SM1", reporter=reporter)
        raw = connection.connection
        messages = protocol_messages(raw, lambda: deferred.finish(inbound))
        # Committed already: no transaction is open on the connection.
        assert raw.info.transaction_status == pq.TransactionStatus.IDLE
    sent = [(kind, rest) for side, kind, rest in messages if side == "F"]
    statements = [rest.split('"')[3].split()[0] for kind, rest in sent if kind == "Parse"]
    assert statements == ["UPDATE", "INSERT", "COMMIT"]
    # One round trip: all of it, and one Sync, sent before the server's first answer;
    # its last answer says no transaction is open.
    sides = [side for side, _, _ in messages]
    assert sides == sorted(sides, key="FB".index)
    assert [kind for kind, _ in sent].count("Sync") == 1
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
