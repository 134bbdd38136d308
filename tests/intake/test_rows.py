"""config.rows writes and reads what the ORM writes and reads: every field of an SMS
conversation (a sealed draft, a JSON menu, times, foreign keys) and of an inbound
row, on SQLite and PostgreSQL alike; and no save signal is missed, because none
listens to the models it writes."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from config.rows import row_insert, row_save, row_select
from intake.models import InboundSms, SmsConversation, SmsReporter
from vault import server_sealed

pytestmark = pytest.mark.django_db

WRITTEN_BY_ROWS = (SmsConversation, InboundSms)


def fields(instance) -> dict:
    """Every concrete field as read back, bytes for binary values."""
    values = {}
    for field in type(instance)._meta.concrete_fields:
        value = getattr(instance, field.attname)
        values[field.attname] = bytes(value) if isinstance(value, memoryview) else value
    return values


def reread(instance):
    return type(instance).objects.get(pk=instance.pk)


@pytest.fixture
def reporter():
    return SmsReporter.wrote_in("+221770000099", to_number="", language="fr", since=timezone.now())[
        0
    ]


WHEN = timezone.now().replace(microsecond=123456)


def conversation_of(reporter, unit) -> SmsConversation:
    conversation = SmsConversation(
        reporter=reporter,
        step=SmsConversation.Step.CHOOSE_CASE,
        unit=unit,
        category="rough",
        choices=["R-1", "R-2"],
        started_at=WHEN - timedelta(minutes=9),
        updated_at=WHEN,
        prompted_at=WHEN - timedelta(minutes=3),
        in_danger=True,
        rating_question=2,
        menu_start=8,
    )
    server_sealed.seal(conversation, "draft", "il m'a poussé")
    return conversation


def test_an_inserted_conversation_reads_back_as_the_orm_would_have_saved_it(reporter, unit):
    by_rows = conversation_of(reporter, unit)
    row_insert(by_rows)
    by_orm = conversation_of(reporter, unit)
    by_orm.save(force_insert=True)

    assert by_rows.pk is not None and not by_rows._state.adding
    written, expected = fields(reread(by_rows)), fields(reread(by_orm))
    for name in ("id", "seal_id", "draft"):  # their own id, seal and nonce
        written.pop(name), expected.pop(name)
    assert written == expected
    assert reread(by_rows).read_draft() == "il m'a poussé"
    assert reread(by_rows).choices == ["R-1", "R-2"]


def test_row_save_updates_every_field_and_inserts_a_new_row(reporter, unit):
    conversation = SmsConversation(reporter=reporter, step=SmsConversation.Step.NARRATIVE)
    row_save(conversation)  # no pk yet: an INSERT
    assert SmsConversation.objects.filter(pk=conversation.pk).count() == 1

    conversation.step = SmsConversation.Step.CATEGORY
    conversation.unit = unit
    conversation.choices = ["a", {"b": 1}]
    conversation.append_draft("more of it")
    conversation.updated_at = timezone.now()
    row_save(conversation)

    assert fields(reread(conversation)) == fields(conversation)
    assert SmsConversation.objects.count() == 1


def test_row_save_of_a_row_deleted_meanwhile_writes_it_again_with_its_id(reporter):
    conversation = SmsConversation(reporter=reporter, step=SmsConversation.Step.NARRATIVE)
    row_save(conversation)
    pk = conversation.pk
    SmsConversation.objects.filter(pk=pk).delete()

    row_save(conversation)

    assert reread(conversation).pk == pk


def test_an_inserted_inbound_row_keeps_its_sealed_reply(reporter):
    inbound = InboundSms(message_sid="SM" + "1" * 32, reporter=reporter)
    server_sealed.seal(inbound, "reply", "Merci. Envoie DONE quand tu as fini.")
    row_insert(inbound)

    stored = reread(inbound)
    assert fields(stored) == fields(inbound)
    assert server_sealed.open_field(stored, "reply") == "Merci. Envoie DONE quand tu as fini."


def test_row_select_gives_what_the_orm_reads(reporter, unit):
    conversation = conversation_of(reporter, unit)
    conversation.save()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in SmsConversation._meta.concrete_fields)
    table = quote(SmsConversation._meta.db_table)
    sql = f"SELECT {columns} FROM {table} WHERE {quote('id')} = %s"

    found = row_select(SmsConversation, sql, [conversation.pk], alias="default")

    assert not found._state.adding and found._state.db == "default"
    assert fields(found) == fields(reread(conversation))
    assert found.choices == ["R-1", "R-2"]  # JSON, not its text
    assert found.updated_at.tzinfo is not None
    assert row_select(SmsConversation, sql, [conversation.pk + 1000], alias="default") is None


def test_nothing_listens_to_the_saves_that_config_rows_writes_without_signals():
    for model in WRITTEN_BY_ROWS:
        assert not pre_save.has_listeners(model), model
        assert not post_save.has_listeners(model), model
        assert "save" not in vars(model), model
