"""INSERT and UPDATE of one model row in SQL built once per model and database.

Every inbound text writes its conversation and its InboundSms row, and the ORM spent
more CPU compiling those two statements than the database spent running them (issue
20). These write what Model.save() writes (every concrete field, through the field's
own pre_save and database preparation), so they are only for models whose save() is
not overridden and that no pre_save or post_save receiver listens to: no signal is
sent. tests/intake/test_rows.py holds them to the ORM's rows.
"""

from __future__ import annotations

from functools import cache

from django.db import connections, router
from django.db.models import Model


@cache
def _statements(model: type[Model], alias: str) -> tuple[str, list, str, list]:
    """(INSERT ... RETURNING pk, its fields, UPDATE ... WHERE pk, its fields)."""
    meta = model._meta
    connection = connections[alias]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    pk = meta.pk
    inserted = [f for f in meta.concrete_fields if not (f is pk and f.db_returning)]
    updated = [f for f in meta.concrete_fields if not f.primary_key]
    insert = (
        f"INSERT INTO {table} ({', '.join(quote(f.column) for f in inserted)}) "
        f"VALUES ({', '.join(['%s'] * len(inserted))}) RETURNING {quote(pk.column)}"
    )
    update = (
        f"UPDATE {table} SET {', '.join(f'{quote(f.column)} = %s' for f in updated)} "
        f"WHERE {quote(pk.column)} = %s"
    )
    return insert, inserted, update, updated


def _values(instance: Model, fields: list, alias: str, *, add: bool) -> list:
    connection = connections[alias]
    return [f.get_db_prep_save(f.pre_save(instance, add), connection) for f in fields]


def row_insert(instance: Model) -> None:
    """INSERT the instance as save(force_insert=True) would, and give it its pk."""
    alias = router.db_for_write(type(instance), instance=instance)
    if not connections[alias].features.can_return_columns_from_insert:
        instance.save(force_insert=True, using=alias)
        return
    insert, fields, _, _ = _statements(type(instance), alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(insert, _values(instance, fields, alias, add=True))
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = alias


def row_save(instance: Model) -> None:
    """save(): an UPDATE of every field by pk, or an INSERT when the row is new (no pk;
    or no row with it any more, rare enough to leave to the ORM)."""
    if instance.pk is None:
        row_insert(instance)
        return
    alias = router.db_for_write(type(instance), instance=instance)
    _, _, update, fields = _statements(type(instance), alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(update, [*_values(instance, fields, alias, add=False), instance.pk])
        updated = cursor.rowcount
    if not updated:
        instance.save(force_insert=True, using=alias)


@cache
def _converters(model: type[Model], alias: str) -> list[tuple[int, list]]:
    """(position, converters) of the concrete fields that the database's values go
    through on their way into the model, as the ORM's compiler finds them."""
    connection = connections[alias]
    found = []
    for position, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            found.append((position, [(converter, column) for converter in converters]))
    return found


def row_select(model: type[Model], sql: str, params: list, *, alias: str):
    """The first row of `sql`, which selects every concrete field of `model` in
    _meta.concrete_fields order, as an instance; None for no row. What
    Model.objects.raw() gives, without its per-query work of matching columns to fields."""
    return rows_select([(model, sql, params)], alias=alias)[0]


def rows_select(statements: list[tuple[type[Model], str, list]], *, alias: str) -> list:
    """row_select for each (model, sql, params), run in order. On PostgreSQL they go
    out together in one round trip (psycopg's pipeline mode), with the BEGIN of a
    transaction that starts with them: each is still its own statement, seeing what
    the ones before it wrote and what other transactions committed before it ran."""
    connection = connections[alias]
    connection.ensure_connection()
    cursors = [connection.cursor() for _ in statements]
    try:
        if connection.vendor == "postgresql" and len(statements) > 1:
            # Errors come when the pipeline ends: Django's own classes, as for execute().
            with connection.wrap_database_errors, connection.connection.pipeline():
                for cursor, (_, sql, params) in zip(cursors, statements, strict=True):
                    cursor.execute(sql, params)
        else:
            for cursor, (_, sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)
        rows = [cursor.fetchone() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()
    return [
        None if row is None else _instance(model, row, alias)
        for (model, _, _), row in zip(statements, rows, strict=True)
    ]


def _instance(model: type[Model], row: tuple, alias: str) -> Model:
    connection = connections[alias]
    values = list(row)
    for position, converters in _converters(model, alias):
        for converter, column in converters:
            values[position] = converter(values[position], column, connection)
    return model.from_db(alias, None, values)
