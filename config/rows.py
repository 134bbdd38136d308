"""INSERT and UPDATE of one model row in SQL built once per model and database.

Every inbound text writes its conversation and its InboundSms row, and the ORM spent
more CPU compiling those two statements than the database spent running them (issue
20). These write what Model.save() writes (every concrete field, through the field's
own pre_save and database preparation), so they are only for models whose save() is
not overridden and that no pre_save or post_save receiver listens to: no signal is
sent. tests/intake/test_rows.py holds them to the ORM's rows.

Round trips cost the webhook more than the statements in them, so, on PostgreSQL,
statements that need no answer in between go out together (psycopg's pipeline mode):
rows_select's reads, and deferred_writes' last writes with their COMMIT.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from django.db import DatabaseError, connections, router
from django.db.models import Model
from psycopg import pq


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
        _inserted(instance, cursor.fetchone()[0], alias)
    deferred = _deferred.get()
    if deferred is not None and deferred.alias == alias:
        deferred.row_locked(instance)


def _inserted(instance: Model, pk, alias: str) -> None:
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = alias


def row_save(instance: Model) -> None:
    """save(): an UPDATE of every field by pk, or an INSERT when the row is new (no pk;
    or no row with it any more, rare enough to leave to the ORM). Inside
    deferred_writes(), the INSERT, or the UPDATE of a row the transaction locked or
    inserted, is deferred (DeferredWrites)."""
    alias = router.db_for_write(type(instance), instance=instance)
    deferred = _deferred.get()
    if deferred is not None and deferred.alias == alias and deferred.defers(instance):
        deferred.defer(instance)
        return
    if instance.pk is None:
        row_insert(instance)
        return
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
    transaction that starts with them (_begin_with_them): each is still its own
    statement, seeing what the ones before it wrote and what other transactions
    committed before it ran."""
    connection = connections[alias]
    connection.ensure_connection()
    cursors = [connection.cursor() for _ in statements]
    try:
        if connection.vendor == "postgresql" and len(statements) > 1:
            deferred = _deferred.get()
            if deferred is not None and deferred.alias == alias:
                deferred.flush()  # not inside the pipeline, where their answers come late
            begin = "BEGIN" if _begin_with_them(connection) else None
            _together(connection, cursors, statements, first=begin)
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


def _together(connection, cursors, statements, *, first=None, last=None) -> None:
    """Run each (_, sql, params) of `statements` on its cursor, all in one round trip
    (psycopg's pipeline mode), after the command `first` and before `last` (BEGIN,
    COMMIT: psycopg's own would each take a round trip). Errors come when the
    pipeline ends, as Django's own classes, as they do from execute()."""
    raw_connection = connection.connection
    with connection.wrap_database_errors, raw_connection.pipeline():
        if first:
            with raw_connection.cursor() as raw:
                raw.execute(first, prepare=False)
        for cursor, (_, sql, params) in zip(cursors, statements, strict=True):
            cursor.execute(sql, params)
        if last:
            with raw_connection.cursor() as raw:
                raw.execute(last, prepare=False)


def _begin_with_them(connection) -> bool:
    """Whether the transaction of the atomic block just entered has yet to begin, so
    that its BEGIN can go out with the statements that follow. psycopg would send its
    own BEGIN in a round trip of its own (in pipeline mode, with a Sync after it, as
    without). If so, psycopg is told to send none, with autocommit, as the block's own
    exit does anyway: the transaction is the explicit BEGIN's, which the block's
    COMMIT or ROLLBACK ends as it would have ended psycopg's."""
    raw = connection.connection
    begins = (
        _block_owns_transaction(connection)
        and not raw.autocommit
        and raw.info.transaction_status == pq.TransactionStatus.IDLE
        # psycopg's BEGIN would say more than BEGIN: leave it to psycopg.
        and raw.isolation_level is None
        and raw.read_only is None
        and raw.deferrable is None
    )
    if begins:
        raw.autocommit = True
    return begins


def _block_owns_transaction(connection) -> bool:
    """The one atomic block open began the transaction and commits it when it ends: not
    a block nested in another (as a test's is), nor one inside a transaction its
    caller opened by turning autocommit off, which only the caller may end."""
    return (
        connection.in_atomic_block
        and len(connection.atomic_blocks) == 1
        and connection.commit_on_exit
        and not connection.savepoint_ids
    )


def _instance(model: type[Model], row: tuple, alias: str) -> Model:
    connection = connections[alias]
    values = list(row)
    for position, converters in _converters(model, alias):
        for converter, column in converters:
            values[position] = converter(values[position], column, connection)
    return model.from_db(alias, None, values)


_deferred: ContextVar[DeferredWrites | None] = ContextVar("deferred_writes", default=None)


class DeferredWrites:
    """Writes that row_save() defers so that they go out with a later statement instead
    of in a round trip of their own: the INSERT of a new row, and the UPDATE of a row
    this transaction has locked (SELECT ... FOR UPDATE) or inserted. They run before
    any other statement runs (so what runs next, a read included, sees them, and a new
    row has its pk by then), or with the transaction's last INSERT and its COMMIT
    (finish). No other transaction can change or delete such a row before this one
    ends, so a deferred UPDATE finds its row as surely as it would have when it was
    deferred. Each writes the values the row had when it was deferred.

    Inside a savepoint of its own (an atomic block nested in the block's), which may
    roll back while the transaction goes on, nothing is deferred, and a row locked or
    inserted there is not one whose UPDATEs are deferred later: a deferred UPDATE must
    never meet a row that is gone once the COMMIT was sent with it.

    Until its INSERT runs, a new row has no pk: code that reads a pk without running a
    statement first sees None. The ORM refuses to save a row that refers to it, or to
    filter by it, rather than write or look up a NULL; row_insert and row_save do not
    check, and nothing they write refers to a row of this kind."""

    def __init__(self, alias: str):
        self.alias = alias
        self._depth = len(connections[alias].savepoint_ids)  # the block's own
        self._rows: dict[int, Model] = {}  # rows whose UPDATEs may be deferred, by id()
        # Deferred, by id() of the instance: (instance, SQL, params), the latest of each.
        self._writes: dict[int, tuple[Model, str, list]] = {}

    def _at_own_depth(self) -> bool:
        return len(connections[self.alias].savepoint_ids) == self._depth

    def row_locked(self, instance: Model) -> None:
        """`instance`'s row is locked by this transaction, or was inserted by it."""
        if self._at_own_depth():
            self._rows[id(instance)] = instance

    def defers(self, instance: Model) -> bool:
        if not self._at_own_depth():
            return False
        return instance.pk is None or self._rows.get(id(instance)) is instance

    def defer(self, instance: Model) -> None:
        """Defer the row's INSERT (no pk yet) or UPDATE, with its values as they are now."""
        insert, inserted, update, updated = _statements(type(instance), self.alias)
        if instance.pk is None:
            write = (instance, insert, _values(instance, inserted, self.alias, add=True))
        else:
            values = _values(instance, updated, self.alias, add=False)
            write = (instance, update, [*values, instance.pk])
        self._writes.pop(id(instance), None)  # in the order of each row's last write
        self._writes[id(instance)] = write

    def _take(self) -> list[tuple[Model, str, list]]:
        writes, self._writes = list(self._writes.values()), {}
        return writes

    def flush(self) -> None:
        """Run the deferred writes now."""
        connection = connections[self.alias]
        for instance, sql, params in self._take():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                self._written(instance, cursor)

    def _written(self, instance: Model, cursor) -> None:
        if instance.pk is None:
            _inserted(instance, cursor.fetchone()[0], self.alias)
            self._rows[id(instance)] = instance  # deferred, so at the block's own depth
        elif cursor.rowcount != 1:
            # Its row is locked by this transaction: that it is gone cannot be, and
            # does not pass unnoticed.
            raise DatabaseError("a deferred UPDATE found no row")

    def _before_statement(self, execute, sql, params, many, context):
        """Django's execute wrapper: the deferred writes run before any other statement."""
        if self._writes:
            self.flush()
        return execute(sql, params, many, context)

    def finish(self, last: Model) -> None:
        """INSERT `last` (giving it its pk) after the deferred writes: on PostgreSQL all
        in one round trip and, when the block owns the transaction
        (_block_owns_transaction), the COMMIT with them; the block's own exit then
        finds the transaction committed and sends nothing. Call it last in the block:
        an error in any statement raises here, and the block rolls back."""
        connection = connections[self.alias]
        if connection.vendor != "postgresql":
            self.flush()
            row_insert(last)
            return
        commit = _block_owns_transaction(connection) and not connection.needs_rollback
        insert, fields, _, _ = _statements(type(last), self.alias)
        writes = [*self._take(), (last, insert, _values(last, fields, self.alias, add=True))]
        cursors = [connection.cursor() for _ in writes]
        try:
            _together(connection, cursors, writes, last="COMMIT" if commit else None)
            for cursor, (instance, _, _) in zip(cursors, writes, strict=True):
                self._written(instance, cursor)
        finally:
            for cursor in cursors:
                cursor.close()


@contextmanager
def deferred_writes(alias: str = "default"):
    """A block, inside a transaction, in which row_save() defers the INSERTs of new
    rows and the UPDATEs of rows the transaction locked or inserted (DeferredWrites,
    given to the block). Those still deferred when the block ends run then."""
    deferred = DeferredWrites(alias)
    token = _deferred.set(deferred)
    try:
        with connections[alias].execute_wrapper(deferred._before_statement):
            yield deferred
            deferred.flush()
    finally:
        _deferred.reset(token)
