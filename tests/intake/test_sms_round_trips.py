"""What one inbound text costs in database round trips, and what the shortcuts that
keep it low must not change: a new number's reporter made in the same statement that
finds a known one, a new conversation written once with its draft, the first word
looked up as a unit code only when it is one, the conversation going on read by SQL
written by hand that must find what the ORM's form of it finds."""

import re
import uuid
from datetime import timedelta
from functools import partial

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from complaints.models import Case
from intake.models import InboundSms, SmsConversation, SmsReporter
from policies.selectors import unit_codes_known
from tests.conftest import (
    burst,
    make_unit,
    protocol_messages,
    round_trips,
    sign_twilio,
    staff_reads,
)
from vault import crypto, server_sealed

pytestmark = pytest.mark.usefixtures("focal_point")

PHONE = "+221770000001"


def statements(queries, pipelines) -> list[tuple[str, str]]:
    """(verb, first table) of each statement, without the savepoints of the test's
    own transaction (in production the webhook's is BEGIN ... COMMIT); with "+" before
    the verb of one that went out in the same round trip as the one before it (in the
    same psycopg pipeline)."""
    found = []
    previous = None
    for query, pipeline in zip(queries, pipelines, strict=True):
        sql = query["sql"]
        verb = sql.split(None, 1)[0].upper()
        if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
            continue
        table = re.search(r'(?: FROM |INTO |^UPDATE )"(\w+)"', sql).group(1)
        joined = pipeline is not None and pipeline is previous
        found.append(("+" + verb if joined else verb, table))
        previous = pipeline
    return found


def pipeline_of(execute, sql, params, many, context, *, noted):
    """An execute wrapper noting the psycopg pipeline each statement is sent in (None
    for none: a round trip of its own). psycopg keeps it in a private attribute."""
    noted.append(getattr(context["connection"].connection, "_pipeline", None))
    return execute(sql, params, many, context)


def texted(sms, body, phone=PHONE) -> tuple[str, list[tuple[str, str]]]:
    unit_codes_known()  # read by a process at most every 30 s: not the cost of one text
    piped = []
    note_pipeline = partial(pipeline_of, noted=piped)

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(note_pipeline):
        reply = sms(body, phone=phone)
    return reply, statements(queries.captured_queries, piped)


def same_trip(verb: str) -> str:
    """A statement sent with the one before it on PostgreSQL (pipeline mode), in a
    round trip of its own on SQLite."""
    return f"+{verb}" if connection.vendor == "postgresql" else verb


@pytest.mark.django_db
def test_a_new_conversation_costs_two_round_trips_with_the_commit(sms, unit):
    reply, queries = texted(sms, "TST1 the officer at the desk pushed me")
    assert "DONE" in reply
    assert queries == [
        # The reporter: inserted with its sealed number (or, known, noted as having
        # written), returned whole: INSERT ... ON CONFLICT DO UPDATE ... RETURNING;
        # on PostgreSQL, with the transaction's BEGIN.
        ("INSERT", "intake_smsreporter"),
        # With it, the number's conversation going on (none for a new number),
        (same_trip("SELECT"), "intake_smsconversation"),
        # and the open unit whose code is "TST1".
        (same_trip("SELECT"), "policies_unit"),
        # The conversation, with its sealed draft, in one INSERT (bound to its seal_id),
        # which waits (config.rows.deferred_writes) to go out with
        ("INSERT", "intake_smsconversation"),
        # the MessageSid and the sealed reply, for a retry of the same text, and the
        # COMMIT (test_on_the_wire_a_text_is_two_round_trips).
        (same_trip("INSERT"), "intake_inboundsms"),
    ]


@pytest.mark.django_db
def test_a_follow_up_text_costs_two_round_trips_with_the_commit(sms, unit):
    sms("TST1 the officer at the desk pushed me")
    reply, queries = texted(sms, "and then he said it was my fault")
    assert reply.startswith("Got it. Send more")
    assert queries == [
        # The reporter, found and noted as having written, in one upsert.
        ("INSERT", "intake_smsreporter"),
        # With it, the conversation going on, locked; not its unit, which this text
        # does not need. "and" is no unit's code: it is not looked up.
        (same_trip("SELECT"), "intake_smsconversation"),
        # The draft, one text longer, written with the MessageSid and sealed reply
        # (and the COMMIT): the UPDATE waits for them (config.rows.deferred_writes).
        ("UPDATE", "intake_smsconversation"),
        (same_trip("INSERT"), "intake_inboundsms"),
    ]
    assert SmsConversation.objects.get().read_draft() == (
        "the officer at the desk pushed me\nand then he said it was my fault"
    )


@pytest.mark.django_db(transaction=True)
def test_on_the_wire_a_text_is_two_round_trips(sms, unit):
    """Counted in PostgreSQL's protocol, on the webhook's own transaction: every
    statement above, its BEGIN and its COMMIT, and nothing else."""
    if connection.vendor != "postgresql":
        pytest.skip("round trips to a database server: SQLite runs in the process")
    unit_codes_known()
    sms("hello", phone="+221770000002")  # the connection is open before counting
    replies = []
    for body in ("TST1 the officer at the desk pushed me", "and then he said it was my fault"):
        raw = connection.connection
        messages = protocol_messages(raw, lambda body=body: replies.append(sms(body, phone=PHONE)))
        replies.append(round_trips(messages))
        assert messages[-1][1:] == ("ReadyForQuery", " I")  # committed, nothing left open
    assert "DONE" in replies[0] and replies[1] == 2
    assert replies[2].startswith("Got it. Send more") and replies[3] == 2


@pytest.mark.django_db
def test_another_units_code_in_a_conversation_starts_a_new_complaint_there(sms, unit):
    other = make_unit("OTH3")
    sms("TST1 the guard took my phone")
    assert "DONE" in sms("oth3 and at the other place they hit me")
    first = Case.objects.get()  # the unfinished story is filed, not dropped
    assert first.unit == unit and staff_reads(first).narrative == "the guard took my phone"
    going_on = SmsConversation.objects.exclude(step=SmsConversation.Step.FINISHED).get()
    assert going_on.unit == other and going_on.read_draft() == "and at the other place they hit me"


@pytest.mark.django_db
def test_the_same_units_code_again_starts_a_new_complaint_and_keeps_the_first(sms, unit):
    sms("TST1 the guard took my phone")
    sms("TST1 they locked me in")
    assert staff_reads(Case.objects.get()).narrative == "the guard took my phone"
    going_on = SmsConversation.objects.exclude(step=SmsConversation.Step.FINISHED).get()
    assert going_on.read_draft() == "they locked me in"


@pytest.mark.django_db
def test_a_draft_is_bound_to_its_conversation_and_does_not_open_elsewhere(sms, unit):
    sms("TST1 the guard took my phone", phone=PHONE)
    sms("TST1 nothing happened to me", phone="+221770000002")
    mine, other = SmsConversation.objects.order_by("pk")
    assert mine.seal_id and other.seal_id and mine.seal_id != other.seal_id
    SmsConversation.objects.filter(pk=other.pk).update(draft=mine.draft)
    other.refresh_from_db()
    with pytest.raises(crypto.CryptoError):
        other.read_draft()


@pytest.mark.django_db
def test_a_conversation_made_before_seal_id_keeps_its_draft(sms, unit):
    """Rows from before the column have none: their drafts stay bound to their id."""
    sms("TST1 placeholder")
    conversation = SmsConversation.objects.get()
    SmsConversation.objects.filter(pk=conversation.pk).update(seal_id=None)
    conversation.refresh_from_db()
    server_sealed.seal(conversation, "draft", "they kept me all night")
    conversation.save(update_fields=["draft"])
    context = crypto.field_context("sms_conversation", conversation.pk, "draft")
    assert crypto.server_open(bytes(conversation.draft), context=context)

    sms("without food")
    for text in ("DONE", "2", "2"):
        sms(text)
    assert staff_reads(Case.objects.get()).narrative == "they kept me all night\nwithout food"


@pytest.mark.django_db
def test_a_known_number_keeps_its_language_and_sealed_address(sms, unit):
    sms("FR")
    reporter = SmsReporter.objects.get()
    sealed = bytes(reporter.phone)
    sms("hello, I need help")  # English words: the number keeps French
    reporter.refresh_from_db()
    assert reporter.language == "fr" and bytes(reporter.phone) == sealed
    assert reporter.read_phone() == PHONE and reporter.service_address == "+15005550000"
    assert SmsReporter.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_first_texts_from_one_number_at_once_make_one_reporter(unit):
    def write(i):
        params = {
            "MessageSid": f"SM{uuid.uuid4().hex}",
            "From": PHONE,
            "To": "+15005550000",
            "Body": f"TST1 story number {i}",
        }
        signature = sign_twilio(django_settings.PUBLIC_BASE_URL + "/sms/twilio/inbound/", params)
        return Client().post("/sms/twilio/inbound/", params, HTTP_X_TWILIO_SIGNATURE=signature)

    responses = burst(4, write)
    assert [r.status_code for r in responses] == [200] * 4
    assert SmsReporter.objects.count() == 1 and InboundSms.objects.count() == 4
    # Each text was heard: the later ones filed the earlier stories and started anew.
    drafts = [c.read_draft() for c in SmsConversation.objects.exclude(draft=None)]
    narratives = [staff_reads(case).narrative for case in Case.objects.all()]
    assert sorted(drafts + narratives) == [f"story number {i}" for i in range(4)]


def _orm_going_on(reporter, since):
    """The conversation going on, as the ORM would ask for it."""
    return (
        SmsConversation.objects.filter(reporter=reporter, updated_at__gte=since)
        .exclude(step=SmsConversation.Step.FINISHED)
        .order_by("-updated_at")
        .first()
    )


@pytest.mark.django_db(transaction=True)
def test_the_conversation_going_on_is_the_one_the_orm_finds():
    """The conversation going on, as SmsReporter.wrote_in reads it with the reporter,
    is SQL written by hand: whatever the rows, it finds what the ORM's form finds (on
    SQLite and PostgreSQL, with their time formats)."""
    now = timezone.now()
    since = now - timedelta(hours=24)
    phones = ["+221770000101", "+221770000102"]

    def wrote_in(phone):
        return SmsReporter.wrote_in(phone, to_number="", language="en", since=since)

    me, other = (wrote_in(phone)[0] for phone in phones)
    Step = SmsConversation.Step

    def conversation(reporter, step, hours_ago):
        return SmsConversation.objects.create(
            reporter=reporter, step=step, updated_at=now - timedelta(hours=hours_ago)
        )

    def both_find(reporter):
        found = wrote_in(reporter.read_phone())[2]
        assert found == _orm_going_on(reporter, since)
        return found

    assert both_find(me) is None
    conversation(me, Step.NARRATIVE, 30)  # too old
    conversation(me, Step.FINISHED, 1)  # finished
    conversation(other, Step.NARRATIVE, 0)  # someone else's
    assert both_find(me) is None
    older = conversation(me, Step.CATEGORY, 5)
    assert both_find(me) == older
    newer = conversation(me, Step.DANGER_CHECK, 2)
    found = both_find(me)
    assert found == newer and found.step == Step.DANGER_CHECK
    assert found.updated_at == newer.updated_at
    reporter, _, found, _ = wrote_in(phones[0])
    assert found.reporter is reporter  # the row the upsert returned: no second read
    edge = conversation(me, Step.NARRATIVE, 24)  # exactly at the limit: still going on
    SmsConversation.objects.exclude(pk=edge.pk).filter(reporter=me).delete()
    assert both_find(me) == edge


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own indexes")
def test_each_text_writes_no_index_that_nothing_reads():
    """Django's unique=True adds a LIKE index (varchar_pattern_ops) on PostgreSQL: the
    MessageSid and the phone index are unique by constraints, which do not."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE tablename IN (%s, %s)",
            [InboundSms._meta.db_table, SmsReporter._meta.db_table],
        )
        indexes = cursor.fetchall()
    assert not [i for i in indexes if "pattern_ops" in i[1]]
    unique = {
        table
        for table, definition in indexes
        if "UNIQUE" in definition and not definition.endswith("(id)")
    }
    assert unique == {InboundSms._meta.db_table, SmsReporter._meta.db_table}
